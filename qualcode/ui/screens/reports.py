"""Reports: theme frequencies by any attribute (shaded), a bar chart, co-occurrence, and export.

Counting runs in a worker thread on its own connection, so a big corpus never freezes the screen.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Static
from textual.worker import get_current_worker

from qualcode.store.project import Project
from qualcode.ui.screens.base import SectionScreen
from qualcode.ui.screens.dialogs import Choice, PickerScreen, PromptScreen
from qualcode.ui.widgets.charts import bar_chart, shaded
from qualcode.ui.widgets.work_progress import WorkProgress

UNITS = ["segment", "sentence", "turn", "document", "speaker"]
VIEWS = [("freq", "Frequencies"), ("chart", "Bar chart"), ("cooc", "Co-occurrence")]


def _analysis():
    """The counting functions, or a one-line reason they are missing."""
    try:
        from qualcode.analysis import frequencies
        return frequencies, ""
    except ImportError as exc:
        return None, f"reports are not available yet ({exc})"


class ReportsScreen(SectionScreen):
    SECTION = "reports"
    BINDINGS = [
        Binding("v", "cycle_view", "View"),
        Binding("b", "pick_by", "By…"),
        Binding("u", "cycle_unit", "Unit"),
        Binding("e", "export", "Export…"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.by: str | None = None
        self.unit = "segment"
        self.current_view = "freq"
        self.table: dict | None = None
        self.cooc: dict | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static("", id="report-controls")
        with ContentSwitcher(initial="freq", id="report-views"):
            yield DataTable(id="freq", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="chart"):
                yield Static("", id="chart-body")
            yield DataTable(id="cooc", cursor_type="cell")
        yield WorkProgress(id="report-work")
        yield self.footer()

    def refresh_from_store(self) -> None:
        self.compute()

    # --- counting in the background ---------------------------------------------------------

    def compute(self) -> None:
        self.query_one(WorkProgress).start("Counting…")
        self._show_controls()
        self._count(self.by, self.unit, None if self.app.show_others else self.app.coder)

    @work(thread=True, exclusive=True, exit_on_error=False, group="report")
    def _count(self, by: str | None, unit: str, coder: str | None) -> None:
        worker = get_current_worker()
        module, error = _analysis()
        table = cooc = None
        if module is not None:
            project = Project(self.app.project.path)   # this thread's own connection
            try:
                table = module.frequency_table(project, by=by, unit=unit, coder=coder)
                self.app.call_from_thread(self._step, 0.6, "Co-occurrence…")
                cooc = module.cooccurrence(project, unit=unit, coder=coder)
            except Exception as exc:  # a report that fails to count is a message, not a crash
                error = str(exc) or type(exc).__name__
            finally:
                project.close()
        if not worker.is_cancelled:
            self.app.call_from_thread(self._counted, table, cooc, error)

    def _step(self, fraction: float, note: str) -> None:
        self.query_one(WorkProgress).step(fraction, note)

    def _counted(self, table: dict | None, cooc: dict | None, error: str) -> None:
        self.query_one(WorkProgress).stop()
        self.table, self.cooc, self.error = table, cooc, error
        self._show_controls()
        self._fill_frequencies()
        self._fill_chart()
        self._fill_cooccurrence()

    # --- drawing -----------------------------------------------------------------------------

    def _colors(self) -> tuple[Color, Color]:
        v = self.app.theme_variables
        return Color.parse(v.get("surface", "#1e1e1e")), Color.parse(v.get("primary", "#0178D4"))

    def _show_controls(self) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        title = dict(VIEWS)[self.current_view]
        out.append(title, style="bold")
        if self.current_view != "cooc":
            out.append(f" by {self.by}" if self.by else " (all documents)", style="bold")
        out.append(f" · unit: {self.unit}", style="dim")
        if not self.app.show_others:
            out.append(f" · coder {self.app.coder}", style="dim")
        if self.error:
            out = Text(self.error, style="bold red")
        self.query_one("#report-controls", Static).update(out)

    def _fill_frequencies(self) -> None:
        grid = self.query_one("#freq", DataTable)
        grid.clear(columns=True)
        t = self.table
        if not t:
            return
        surface, ink = self._colors()
        columns = t["columns"]
        grid.add_column("Code", key="code")
        for col in columns:
            grid.add_column(Text(str(col), justify="right"), key=f"c:{col}")
        if len(columns) > 1:
            grid.add_column(Text("Total", justify="right"), key="total")
        # shade against the codes' own counts; theme subtotals would wash every code out
        leaves = [r for r in t["rows"] if not r.get("subtotal")] or t["rows"]
        peak = max((n for r in leaves for n in r["counts"].values()), default=0)
        for i, r in enumerate(t["rows"]):
            depth = r.get("depth", r["code"].count("/"))
            label = Text("  " * depth + r.get("name", r["code"].rsplit("/", 1)[-1]),
                         style="bold" if depth == 0 else "")
            cells = [shaded(r["counts"].get(col, 0), peak, surface, ink) for col in columns]
            if len(columns) > 1:
                cells.append(Text(str(r["total"]), justify="right", style="bold"))
            grid.add_row(label, *cells, key=str(i))

    def _fill_chart(self) -> None:
        t = self.table
        body = self.query_one("#chart-body", Static)
        if not t:
            body.update("")
            return
        # leaves under their theme's name; codes never used are left out of the picture
        rows, theme = [], None
        for r in t["rows"]:
            if r.get("subtotal") or not r["total"]:
                continue
            top = r["code"].split("/", 1)[0]
            if top != theme and "/" in r["code"]:
                rows.append((top, None, 0))
                theme = top
            label = ("  " if "/" in r["code"] else "") + r.get("name", r["code"].rsplit("/", 1)[-1])
            rows.append((label, {c: r["counts"].get(c, 0) for c in t["columns"]}, r["total"]))
        if not rows:
            body.update(Text("No codings to chart yet.", style="dim"))
            return
        body.update(bar_chart(rows, list(t["columns"]), max(40, self.size.width - 4)))

    def _fill_cooccurrence(self) -> None:
        grid = self.query_one("#cooc", DataTable)
        grid.clear(columns=True)
        c = self.cooc
        if not c or not c["codes"]:
            return
        surface, ink = self._colors()
        grid.add_column("Code", key="code")
        for j, _ in enumerate(c["codes"]):
            grid.add_column(Text(str(j + 1), justify="right"), key=f"k{j}")
        off_diagonal = [v for i, row in enumerate(c["matrix"]) for j, v in enumerate(row) if i != j]
        peak = max(off_diagonal, default=0)
        for i, (code, row) in enumerate(zip(c["codes"], c["matrix"])):
            cells = [Text(f" {v} ", style="dim", justify="right") if i == j else shaded(v, peak, surface, ink)
                     for j, v in enumerate(row)]
            grid.add_row(Text(f"{i + 1:>2} {code}"), *cells, key=str(i))

    def theme_changed(self) -> None:
        self._fill_frequencies()
        self._fill_cooccurrence()

    # --- controls ----------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        keys = [k for k, _ in VIEWS]
        self.current_view = keys[(keys.index(self.current_view) + 1) % len(keys)]
        self.query_one(ContentSwitcher).current = self.current_view
        self._show_controls()

    def action_cycle_unit(self) -> None:
        self.unit = UNITS[(UNITS.index(self.unit) + 1) % len(UNITS)]
        self.compute()

    def action_pick_by(self) -> None:
        project = self.app.project
        keys = {r["key"]: "document" for r in project.query("SELECT DISTINCT key FROM document_attributes")}
        for r in project.query("SELECT DISTINCT key FROM speaker_attributes"):
            keys.setdefault(r["key"], "speaker")
        keys.setdefault("type", "document")
        choices = [Choice("", Text("(all documents together)", style="italic"), "all none")]
        choices += [Choice(k, Text.assemble(k, (f"  {level} attribute", "dim")), k)
                    for k, level in sorted(keys.items()) if k != "title"]

        def chosen(value: str | None) -> None:
            if value is not None:
                self.by = value or None
                self.compute()

        self.app.push_screen(PickerScreen("Count by which attribute?", choices), chosen)

    def action_export(self) -> None:
        cooc = self.current_view == "cooc"
        table = self.cooc if cooc else self.table
        if not table:
            self.notify("Nothing to export yet", severity="warning")
            return
        default = f"cooccurrence-{self.unit}.csv" if cooc else f"frequencies-{self.by or 'all'}-{self.unit}.csv"

        def chosen(value: str | None) -> None:
            if value:
                self.query_one(WorkProgress).start(f"Writing {value}…")
                self._export(table, Path(value).expanduser())

        self.app.push_screen(PromptScreen("Export to (.csv .json .md .docx .xlsx)", default), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _export(self, table: dict, path: Path) -> None:
        module, error = _analysis()
        message, severity = f"Wrote {path}", "information"
        try:
            if module is None or not hasattr(module, "write_table"):
                raise RuntimeError(error or "exporting tables is not available yet")
            module.write_table(table, path, path.suffix.lstrip(".").lower() or None)
        except Exception as exc:   # a bad path or format is a message, not a crash
            message, severity = f"Could not write {path}: {exc}", "error"
        self.app.call_from_thread(self._exported, message, severity)

    def _exported(self, message: str, severity: str) -> None:
        self.query_one(WorkProgress).stop()
        self.notify(message, severity=severity, markup=False)
