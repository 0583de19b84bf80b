"""Reports: theme frequencies by any attribute (shaded; counts, % of column or % of row, with the
chi-square tests under the table), a bar chart, co-occurrence, and export.

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
# what a frequency cell shows: (mode, the table's field, words for the controls line)
SHARES = [("count", "counts", "counts"), ("column", "column_percent", "% of column"),
          ("row", "row_percent", "% of row")]


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
        Binding("p", "cycle_share", "Count/%", tooltip="Frequency cells: counts, % of column, % of row"),
        Binding("e", "export", "Export…"),
    ]
    DEFAULT_CSS = """
    #report-test {
        height: auto;
        max-height: 4;
        padding: 0 2;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.by: str | None = None
        self.unit = "segment"
        self.current_view = "freq"
        self.share = "count"
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
        yield Static("", id="report-test")
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
        self._show_tests()

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
        if self.current_view == "freq" and self.share != "count":
            out.append(f" · {self._share()[2]}", style="bold")
        if not self.app.show_others:
            out.append(f" · coder {self.app.coder}", style="dim")
        if self.error:
            out = Text(self.error, style="bold red")
        self.query_one("#report-controls", Static).update(out)

    def _fill_frequencies(self) -> None:
        grid = self.query_one("#freq", DataTable)
        row = grid.cursor_row  # kept across redraws: switching counts / % should not lose your place
        grid.clear(columns=True)
        t = self.table
        if not t:
            return
        surface, ink = self._colors()
        columns = t["columns"]
        field = self._share()[1]
        grid.add_column("Code", key="code")
        for col in columns:  # a percentage's base in its header: how many units the column holds
            head = str(col) if field == "counts" else f"{col} (n={t['column_totals'][col]})"
            grid.add_column(Text(head, justify="right"), key=f"c:{col}")
        if len(columns) > 1:
            grid.add_column(Text("Total", justify="right"), key="total")
        # shade against the codes' own values; theme subtotals would wash every code out
        leaves = [r for r in t["rows"] if not r.get("subtotal")] or t["rows"]
        peak = max((v or 0 for r in leaves for v in r.get(field, {}).values()), default=0)
        for i, r in enumerate(t["rows"]):
            depth = r.get("depth", r["code"].count("/"))
            label = Text("  " * depth + r.get("name", r["code"].rsplit("/", 1)[-1]),
                         style="bold" if depth == 0 else "")
            if field == "counts":
                cells = [shaded(r["counts"].get(col, 0), peak, surface, ink) for col in columns]
            else:  # a share of a column with no units at all is no number: a dash, not 0%
                cells = [Text(" – ", style="dim", justify="right") if r[field].get(col) is None
                         else shaded(r[field][col], peak, surface, ink, label=f"{r[field][col]:.1f}%")
                         for col in columns]
            if len(columns) > 1:
                cells.append(Text(str(r["total"]), justify="right", style="bold"))
            grid.add_row(label, *cells, key=str(i))
        if 0 < row < grid.row_count:
            grid.move_cursor(row=row, scroll=False)

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

    def _share(self) -> tuple[str, str, str]:
        return next(s for s in SHARES if s[0] == self.share)

    def _show_tests(self) -> None:
        """Under the frequency table, when it is grouped: the chi-square test of the themes (or why
        there is none, or how many codes differ), and the test of the highlighted code against the rest."""
        box = self.query_one("#report-test", Static)
        t = self.table
        box.display = bool(self.current_view == "freq" and t and t.get("by"))
        if not box.display:
            return
        from qualcode.export.tables import test_line

        def add_test(test: dict) -> None:
            stat, _, warning = test_line(test).partition("; ")
            out.append(stat)
            if warning:  # Cochran's rule broken: the p-value cannot be trusted
                out.append(f" ⚠ {warning}", style="bold yellow")

        out = Text()
        if t.get("test"):
            out.append(f"Themes × {t['by']}: ", style="bold")
            add_test(t["test"])
        elif t.get("test_note"):
            out.append(f"No chi-square test: {t['test_note']}.", style="dim")
        else:
            tested = [r for r in t["rows"] if r.get("test")]
            differ = sum(1 for r in tested if r["test"]["p"] < 0.05)
            out.append(f"{differ} of {len(tested)} codes differ between groups (chi-square, p < 0.05, not "
                       "corrected for testing every code).", style="dim")
        grid = self.query_one("#freq", DataTable)
        if not t.get("test_note") and 0 <= grid.cursor_row < len(t["rows"]):
            r = t["rows"][grid.cursor_row]
            out.append(f"\n{r.get('name', r['code'])} vs the rest: ", style="bold")
            if r.get("test"):
                add_test(r["test"])
            else:
                out.append("not coded in these groups, no test", style="dim")
        box.update(out)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "freq":
            self._show_tests()

    def theme_changed(self) -> None:
        self._fill_frequencies()
        self._fill_cooccurrence()

    # --- controls ----------------------------------------------------------------------------

    def action_cycle_view(self) -> None:
        keys = [k for k, _ in VIEWS]
        self.current_view = keys[(keys.index(self.current_view) + 1) % len(keys)]
        self.query_one(ContentSwitcher).current = self.current_view
        self._show_controls()
        self._show_tests()

    def action_cycle_share(self) -> None:
        """Counts → % of column → % of row; shown in the frequency table (switched to if elsewhere)."""
        keys = [k for k, _, _ in SHARES]
        self.share = keys[(keys.index(self.share) + 1) % len(keys)]
        if self.current_view != "freq":
            self.current_view = "freq"
            self.query_one(ContentSwitcher).current = "freq"
        self._show_controls()
        self._fill_frequencies()
        self._show_tests()

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
