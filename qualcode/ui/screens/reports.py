"""Reports: theme frequencies by any attribute (shaded; counts, % of column or % of row, with the
chi-square tests under the table), a bar chart of the same numbers, co-occurrence, and export.

Counting runs in a worker thread on its own connection, so a big corpus never freezes the screen.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Footer, Static
from textual.worker import get_current_worker

from qualcode.store.project import Project
from qualcode.ui.screens.base import SectionScreen
from qualcode.ui.screens.dialogs import Choice, PickerScreen, PromptScreen
from qualcode.ui.widgets.charts import bar_chart, percent_chart, shaded
from qualcode.ui.widgets.work_progress import WorkProgress

UNITS = ["segment", "sentence", "turn", "document", "speaker"]
VIEWS = [("freq", "Frequencies"), ("chart", "Bar chart"), ("cooc", "Co-occurrence")]
# what a frequency cell shows: (mode, the table's field, words for the controls line)
SHARES = [("count", "counts", "counts"), ("column", "column_percent", "% of column"),
          ("row", "row_percent", "% of row")]
TALL = 30   # from this many lines the screen spares two lines for the tests even under a long table
SEP = " │ "


def _analysis():
    """The counting functions, or a one-line reason they are missing."""
    try:
        from qualcode.analysis import frequencies
        return frequencies, ""
    except ImportError as exc:
        return None, f"reports are not available yet ({exc})"


SHORT_ROWS = 30


class ReportsScreen(SectionScreen):
    SECTION = "reports"
    BINDINGS = [
        Binding("v", "cycle_view", "View"),
        Binding("b", "pick_by", "By…"),
        Binding("u", "cycle_unit", "Unit"),
        Binding("p", "cycle_share", "Count/%", tooltip="Frequency cells: counts, % of column, % of row"),
        Binding("t", "toggle_tests", "Tests", tooltip="Chi-square tests under the table: one short line or in full"),
        Binding("e", "export", "Export…"),
    ]
    DEFAULT_CSS = """
    #report-test {
        height: auto;
        max-height: 2;
        padding: 0 2;
    }
    #report-test.-full {
        max-height: 8;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.by: str | None = None
        self.unit = "segment"
        self.current_view = "freq"
        self.share = "count"
        self.tests_full = False   # the tests in full (t), instead of squeezed to leave the table room
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
        tests = Static("", id="report-test")
        tests.display = False   # until there is a grouped table to test
        yield tests
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
        if self.current_view != "cooc" and self.share != "count":
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
        field = self._share()[1]
        rows, theme = [], None
        for r in t["rows"]:
            if r.get("subtotal") or not r["total"]:
                continue
            top = r["code"].split("/", 1)[0]
            if top != theme and "/" in r["code"]:
                rows.append((top, None, 0))
                theme = top
            label = ("  " if "/" in r["code"] else "") + r.get("name", r["code"].rsplit("/", 1)[-1])
            values = {c: r[field].get(c, 0) for c in t["columns"]} if field == "counts" else \
                {c: r[field].get(c) for c in t["columns"]}
            rows.append((label, values, r["total"]))
        if not rows:
            body.update(Text("No codings to chart yet.", style="dim"))
            return
        width = max(40, self.size.width - 4)
        if field == "counts":
            body.update(bar_chart(rows, list(t["columns"]), width))
            return
        units, by = f"{t['unit']}s", t.get("by")
        if self.share == "column":   # bars of different groups are compared, so one scale for all
            scale = max((v or 0 for _, vs, _ in rows if vs for v in vs.values()), default=0) or 100.0
            caption = (f"% of column: share of each {by}'s {units} coded with the code" if by
                       else f"% of column: share of all {units} coded with the code")
            legend = {c: f"{c} (n={t['column_totals'][c]})" for c in t["columns"]}
        else:
            scale = 100.0
            caption = (f"% of row: each code's {units} split across {by} (adds up to 100%)" if by
                       else "% of row: all documents are one group, so every code is 100%")
            legend = None
        body.update(percent_chart([(label, values) for label, values, _ in rows], list(t["columns"]), width,
                                  scale, caption, legend))

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
        there is none, or how many codes differ), and the test of the highlighted code against the rest.

        Squeezed (one line, short notation) when the table needs the room; `t` or the tooltip gives it in full."""
        box = self.query_one("#report-test", Static)
        t = self.table
        shown = bool(self.current_view == "freq" and t and t.get("by"))
        if shown != box.display:
            box.display = shown
            self.refresh_bindings()
        if not shown:
            return
        grid = self.query_one("#freq", DataTable)
        row = t["rows"][grid.cursor_row] if not t.get("test_note") and 0 <= grid.cursor_row < len(t["rows"]) else None
        overall = overall_forms(t)
        full = Text("\n").join([overall[0]] + ([row_forms(row)[0]] if row else []))
        box.tooltip = full
        box.set_class(self.tests_full, "-full")
        if self.tests_full:
            box.update(full)
        else:
            box.update(squeeze(overall, row, max(20, self.size.width - 4), self._test_lines(grid)))

    def _test_lines(self, grid: DataTable) -> int:
        """Two lines on a tall screen or when the whole table fits anyway; otherwise one."""
        if self.size.height >= TALL:
            return 2
        top = self.query_one(ContentSwitcher).region.y
        bottom = self.query_one(Footer).region.y
        if not top or bottom <= top:   # not laid out yet
            return 1
        work = self.query_one(WorkProgress)
        room = bottom - top - (work.outer_size.height if work.display else 0)   # the table and the tests
        need = grid.row_count + 1 + (grid.scrollbar_size_horizontal if grid.show_horizontal_scrollbar else 0)
        return 2 if need + 2 <= room else 1

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "freq":
            self._show_tests()

    def on_resize(self) -> None:
        self.set_class(self.size.height < SHORT_ROWS, "short")    # on a short screen the table takes the margins
        self.call_after_refresh(self._redraw_for_size)

    def _redraw_for_size(self) -> None:
        self._fill_chart()
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
        """Counts → % of column → % of row, in the table and the chart (the table if neither is shown)."""
        keys = [k for k, _, _ in SHARES]
        self.share = keys[(keys.index(self.share) + 1) % len(keys)]
        if self.current_view == "cooc":
            self.current_view = "freq"
            self.query_one(ContentSwitcher).current = "freq"
        self._show_controls()
        self._fill_frequencies()
        self._fill_chart()
        self._show_tests()

    def action_toggle_tests(self) -> None:
        self.tests_full = not self.tests_full
        self._show_tests()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "toggle_tests":   # only while there are tests to show
            return self.is_mounted and self.query_one("#report-test").display
        return True

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


# --- the test line, from the full sentence down to a short one -------------------------------------


def _t(text: str, style: str) -> Text:
    """Styled words as a span, not as the Text's base style, which would spill onto what is added to it."""
    return Text.assemble((text, style))


def _stat(test: dict, level: int) -> Text:
    """A chi-square result, from 0 (as exported) down to 5 (tight, without Cramér's V); the warning
    shrinks with it, to a bare ⚠ from level 3."""
    from qualcode.export.tables import test_line

    out = Text()
    if level == 0:
        stat, _, warning = test_line(test).partition("; ")
        out.append(stat)
        if warning:  # Cochran's rule broken: the p-value cannot be trusted
            out.append(f" ⚠ {warning}", style="bold yellow")
        return out
    p = test["p"]
    eq = "=" if level > 3 else " = "
    ptxt = (f"p{'<' if level > 3 else ' < '}.001" if p < 0.001 else f"p{eq}{p:.3f}".replace("0.", ".", 1))
    parts = [f"χ²({test['df']}){eq}{test['chi2']:.2f}", ptxt]
    if test.get("cramers_v") is not None and level < 5:
        parts.append(f"V{eq}{test['cramers_v']:.2f}".replace("0.", ".", 1))
    out.append(", ".join(parts))
    if test["small_expected"]:
        out.append({1: " ⚠ expected counts too small", 2: " ⚠ counts too small"}.get(level, " ⚠"),
                   style="bold yellow")
    return out


def overall_forms(t: dict) -> list[Text]:
    """The themes' test (or why there is none, or how many codes differ), longest form first."""
    if t.get("test"):
        head = _t(f"Themes × {t['by']}: ", "bold")
        # levels in step with row_forms, so that side by side the code's test shrinks first
        return [head + _stat(t["test"], level) for level in (0, 1, 1, 2, 3, 4, 4, 5)]
    if t.get("test_note"):
        note = t["test_note"]
        brief = re.sub(r"\s*\([^)]*\)", "", note).removesuffix("; no test")
        return [_t(f"No chi-square test: {note}.", "dim"), _t(f"No chi-square test: {brief}.", "dim"),
                _t(f"No test: {brief}.", "dim")]
    tested = [r for r in t["rows"] if r.get("test")]
    n, differ = len(tested), sum(1 for r in tested if r["test"]["p"] < 0.05)
    return [_t(f"{differ} of {n} codes differ between groups (chi-square, p < 0.05, not "
               "corrected for testing every code).", "dim"),
            _t(f"{differ} of {n} codes differ between groups (p < .05, uncorrected)", "dim"),
            _t(f"{differ}/{n} codes differ (p<.05, uncorrected)", "dim")]


def row_forms(row: dict, name: str | None = None) -> list[Text]:
    """The highlighted code against the rest, longest form first."""
    name = name if name is not None else row.get("name", row["code"])
    long, short = _t(f"{name} vs the rest: ", "bold"), _t(f"{name}: ", "bold")
    if not row.get("test"):
        return [long + _t("not coded in these groups, no test", "dim"), short + _t("no test", "dim")]
    return [long + _stat(row["test"], 0), long + _stat(row["test"], 1)] + \
        [short + _stat(row["test"], level) for level in (1, 2, 3, 4, 5, 5)]


def squeeze(overall: list[Text], row: dict | None, width: int, lines: int) -> Text:
    """The tests in `lines` lines of `width` cells, none wrapped: on two lines, each its longest form
    that fits; on one, both side by side as long as they fit, the code's name cut short if need be,
    and only the themes' test when even that does not fit."""
    out = Text("\n", no_wrap=True, overflow="ellipsis")

    def fit(forms: list[Text]) -> Text:
        return next((f for f in forms if f.cell_len <= width), forms[-1])

    if row is None:
        return out.join([fit(overall)])
    mine = row_forms(row)
    if lines > 1:
        return out.join([fit(overall), fit(mine)])
    sep = _t(SEP, "dim")
    for i in range(max(len(overall), len(mine))):
        both = overall[min(i, len(overall) - 1)] + sep + mine[min(i, len(mine) - 1)]
        if both.cell_len <= width:
            return out.join([both])
    room = width - overall[-1].cell_len - len(SEP) - row_forms(row, "")[-1].cell_len
    if room >= 6:   # the highlighted row names the code in full anyway
        name = row.get("name", row["code"])
        return out.join([overall[-1] + sep + row_forms(row, name[: room - 1] + "…")[-1]])
    return out.join([fit(overall)])
