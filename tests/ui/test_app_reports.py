"""The Reports screen: counts / % of column / % of row in the frequency table and the bar chart,
and the chi-square tests under the table when it is grouped by an attribute (squeezed to one line
when the table needs the room)."""

from __future__ import annotations

import pytest

from qualcode.store.project import Project
from qualcode.ui.app import QualcodeApp

pytestmark = pytest.mark.anyio

SIZE = (100, 30)


def code_both_documents(path) -> None:
    """Codings in the Baku interview and the Lankaran focus group, under both themes."""
    from qualcode.coding import apply_code

    project = Project(path)
    try:
        for doc, quote, code in [("EI01_bank", "Most families use cards now.", "Channels/Cards"),
                                 ("EI01_bank", "The fees at the bank are high", "Barriers/Fees"),
                                 ("EI01_bank", "People trust the post office.", "Barriers/Trust"),
                                 ("EI01_bank", "They do not trust the apps", "Barriers/Trust"),
                                 ("FG01_lankaran", "I take it from the card machine.", "Channels/Cards"),
                                 ("FG01_lankaran", "My son uses a transfer app.", "Channels/Cards"),
                                 ("FG01_lankaran", "The commission is small.", "Barriers/Fees")]:
            text = project.one("SELECT text FROM documents WHERE name = ?", (doc,))["text"]
            start = text.index(quote)
            apply_code(project, doc, start, start + len(quote), code, "tester")
    finally:
        project.close()


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cells(screen) -> list[list[str]]:
    grid = screen.query_one("#freq")
    return [[getattr(c, "plain", str(c)).strip() for c in grid.get_row_at(i)] for i in range(grid.row_count)]


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def open_reports(pilot, by: str | None = None):
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    if by:
        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*by, "enter")
        await settle(pilot)
    return pilot.app.screen


async def test_p_cycles_counts_column_and_row_percentages(project_path):
    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot, "city")
        table = screen.table
        cols = table["columns"]
        assert {"Baku", "Lankaran"} <= set(cols)
        assert screen.share == "count"
        rows = {r["name"]: r for r in table["rows"]}

        def as_shown(value, pct: bool) -> str:
            if value is None:
                return "–"
            if not value:
                return "·"
            return f"{value:.1f}%" if pct else str(value)

        for key, field, words in [("count", "counts", None), ("column", "column_percent", "% of column"),
                                  ("row", "row_percent", "% of row"), ("count", "counts", None)]:
            if screen.share != key:
                await pilot.press("p")
                await pilot.pause()
            assert screen.share == key
            controls = shown(screen, "#report-controls")
            assert (words in controls) if words else "%" not in controls
            got = {row[0]: row[1:1 + len(cols)] for row in cells(screen)}
            assert len(got) == len(table["rows"])  # one grid row per code, in every mode
            for name, r in rows.items():
                assert got[name] == [as_shown(r[field][c], field != "counts") for c in cols], (key, name)
                assert cells(screen)[table["rows"].index(r)][-1] == str(r["total"])  # totals stay counts
        # the fees' row percentages add up to 100 across the cities
        fees = rows["Fees"]
        assert abs(sum(v for v in fees["row_percent"].values() if v) - 100) < 0.2


async def test_the_chi_square_line_shows_under_a_grouped_table_with_its_warning(project_path):
    from qualcode.export.tables import test_line

    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        assert screen.table["by"] is None
        assert not screen.query_one("#report-test").display       # nothing to test without groups

        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*"city", "enter")
        await settle(pilot)
        box = screen.query_one("#report-test")
        assert box.display
        text = shown(screen, "#report-test")
        test = screen.table["test"]  # segments: themes × city
        assert test is not None and test["small_expected"]       # seven codings: expected counts are tiny
        stat, warning = test_line(test).split("; ")
        assert warning == "expected counts too small, read with care"
        assert text.startswith("Themes × city: ") and "⚠ expected counts too small" in text  # too wide in full
        first = screen.table["rows"][0]
        assert f"\n{first['name']} vs the rest: " in text
        full = str(box.tooltip)                                  # the full text is in the tooltip…
        assert f"Themes × city: {stat} ⚠ {warning}" in full
        assert f"{first['name']} vs the rest: {test_line(first['test']).split('; ')[0]}" in full
        await pilot.press("t")                                   # …and under the table with t
        await pilot.pause()
        assert shown(screen, "#report-test") == full and box.has_class("-full")
        await pilot.press("t")
        await pilot.pause()
        assert shown(screen, "#report-test") == text

        await pilot.press("down", "down")                        # the line follows the highlighted code
        await pilot.pause()
        row = screen.table["rows"][2]
        assert f"{row['name']} vs the rest:" in shown(screen, "#report-test")

        grid = screen.query_one("#freq")
        assert [str(c.label) for c in grid.columns.values()][1:3] == screen.table["columns"]
        await pilot.press("p")                                   # % of column: the headers give the bases
        await pilot.pause()
        bases = [f"{c} (n={screen.table['column_totals'][c]})" for c in screen.table["columns"]]
        assert [str(c.label) for c in grid.columns.values()][1:3] == bases
        assert f"{row['name']} vs the rest:" in shown(screen, "#report-test")
        assert grid.cursor_row == 2                               # switching counts / % keeps your place

        await pilot.press("v")                                   # the chart has no test line
        await pilot.pause()
        assert screen.current_view == "chart" and not box.display
        assert not any(b.binding.key == "t" for b in screen.active_bindings.values() if screen.check_action(
            b.binding.action, ()))                               # nor its key
        await pilot.press("p")                                   # p changes the chart, which stays
        await pilot.pause()
        assert screen.current_view == "chart" and screen.share == "row" and not box.display
        await pilot.press("v")                                   # co-occurrence has no shares:
        await pilot.pause()
        await pilot.press("p")                                   # p brings the table back
        await pilot.pause()
        assert screen.current_view == "freq" and screen.share == "count" and box.display


async def test_a_report_with_overlapping_groups_says_why_there_is_no_test(project_path):
    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot, "gender")
        for _ in range(3):                                      # segment → sentence → turn → document
            await pilot.press("u")
            await settle(pilot)
        assert screen.table["unit"] == "document" and screen.table["test_note"]
        text = shown(screen, "#report-test")
        assert text == "No chi-square test: some units fall in more than one group."   # short, one line
        assert f"No chi-square test: {screen.table['test_note']}." == str(screen.query_one("#report-test").tooltip)
        assert "vs the rest" not in text


async def test_the_percent_key_is_in_the_footer_and_the_help(project_path):
    from qualcode.ui.screens.help import HelpScreen, binding_rows, sections_for

    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        assert any(b.binding.key == "p" and b.binding.show for b in screen.active_bindings.values())
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        title, groups = sections_for("reports")[0]
        assert title == "Reports (F5)"
        assert ("p", "Frequency cells: counts, % of column, % of row") in binding_rows([b for g in groups for b in g])


async def test_other_units_count_the_codes_that_differ_between_groups(project_path):
    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot, "city")
        await pilot.press("u")                                  # sentences: no themes × city test, one per code
        await settle(pilot)
        t = screen.table
        assert t["unit"] == "sentence" and t["test"] is None and t["test_note"] is None
        tested = [r for r in t["rows"] if r["test"]]
        differ = sum(r["test"]["p"] < 0.05 for r in tested)
        text = shown(screen, "#report-test")
        assert f"{differ} of {len(tested)} codes differ between groups" in text
        assert f"{t['rows'][0]['name']} vs the rest:" in text


def chart_values(text: str) -> list[str]:
    """The number at the end of every bar line of a percent chart (after its axis line), in order."""
    lines = text.split("\n")
    axis = next(i for i, line in enumerate(lines) if line.strip().startswith("0%"))
    return [line.split()[-1] for line in lines[axis + 1:] if line.strip() and line.startswith(" ")]


async def test_the_chart_shows_the_percentages_the_table_shows(project_path):
    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot, "city")
        await pilot.press("v")
        await pilot.pause()
        assert screen.current_view == "chart"
        counts = shown(screen, "#chart-body")
        assert "%" not in counts and "%" not in shown(screen, "#report-controls")
        t = screen.table
        cols = t["columns"]
        charted = [r for r in t["rows"] if not r["subtotal"] and r["total"]]

        await pilot.press("p")                                   # % of column, still the chart
        await pilot.pause()
        assert screen.current_view == "chart" and screen.share == "column"
        assert "% of column" in shown(screen, "#report-controls")
        text = shown(screen, "#chart-body")
        legend, caption = text.split("\n")[:2]
        assert all(f"{c} (n={t['column_totals'][c]})" in legend for c in cols)   # each bar's base
        assert caption == "% of column: share of each city's segments coded with the code"
        values = [r["column_percent"][c] for r in charted for c in cols]
        assert chart_values(text) == ["–" if v is None else f"{v:.1f}%" for v in values]
        peak = max(v for v in values if v is not None)
        top = f"{peak:.0f}%" if peak == round(peak) else f"{peak:.1f}%"
        axis = text.split("\n")[2].strip()                       # a full bar is the largest share
        assert axis.startswith("0%┈") and axis.endswith(f"┈┤ {top}")
        assert len(text.split("\n")) >= 3 + len(charted) * len(cols)   # one bar per city and code

        await pilot.press("p")                                   # % of row
        await pilot.pause()
        text = shown(screen, "#chart-body")
        assert "% of row: each code's segments split across city (adds up to 100%)" in text
        assert text.split("\n")[2].strip().endswith("┤ 100%")
        got = chart_values(text)
        assert got == [f"{r['row_percent'][c]:.1f}%" for r in charted for c in cols]
        for i in range(0, len(got), len(cols)):                  # each code's bars add up to 100
            assert abs(sum(float(v.rstrip("%")) for v in got[i:i + len(cols)]) - 100) < 0.2

        await pilot.press("p")                                   # counts: the stacked chart as before
        await pilot.pause()
        assert screen.share == "count" and shown(screen, "#chart-body") == counts


def test_percent_chart_marks_a_group_without_units_and_tiny_shares():
    from qualcode.ui.widgets.charts import percent_chart

    rows = [("Theme", None), ("  Code", {"A": 0.4, "B": None, "C": 0.0}), ("  Other", {"A": 50.0, "B": 10.0, "C": 5.0})]
    text = percent_chart(rows, ["A", "B", "C"], 80, 50.0, "caption").plain.split("\n")
    assert text[:2] == ["■ A  ■ B  ■ C  ", "caption"]
    assert text[2] == " " * (28 + 1 + 2) + "0%" + "┈" * (80 - 31 - 10 - 3) + "┤ 50%"
    assert text[4].rstrip().endswith("A ▏ 0.4%")                 # too small for a cell, still visible
    assert text[5].rstrip().endswith("B –")                      # no units: no share at all
    assert text[6].rstrip().endswith("C  0.0%")
    assert text[7].count("█") == 80 - 28 - 1 - 2 - 10            # the peak fills the bar room
    assert all(len(line) <= 80 for line in text)


def add_codes(path, n: int) -> None:
    from qualcode.codebook import add_code

    project = Project(path)
    try:
        for i in range(n):
            add_code(project, f"Channels/Other channel {i + 1:02}", "tester")
    finally:
        project.close()


async def test_at_80x24_the_tests_take_one_line_when_the_table_needs_the_room(project_path):
    from qualcode.export.tables import test_line

    code_both_documents(project_path)
    add_codes(project_path, 20)                                  # more codes than 80×24 can show
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reports(pilot, "city")
        box, grid = screen.query_one("#report-test"), screen.query_one("#freq")
        assert grid.row_count > 20
        assert box.region.height == 1 and grid.region.height == 20   # was 16: two test lines and margins
        text = shown(screen, "#report-test")
        first = screen.table["rows"][0]
        stat = test_line(first["test"]).split(", ")[0].replace(" = ", "=")   # χ²(1)=…
        assert text.startswith("Themes × city: ") and f" │ {first['name']}: {stat}" in text
        assert "⚠" in text and len(text) <= 76                  # fits: nothing cut off at the edge

        await pilot.press("t")                                   # in full, wrapped
        await pilot.pause()
        assert box.region.height > 2 and "read with care" in shown(screen, "#report-test")
        assert grid.region.height == 21 - box.region.height
        await pilot.press("t")
        await pilot.pause()
        assert box.region.height == 1

        await pilot.press("p")                                   # the percentages do not change the line
        await pilot.pause()
        assert shown(screen, "#report-test") == text and box.region.height == 1


async def test_at_120x30_the_tests_keep_two_lines(project_path):
    from qualcode.export.tables import test_line

    code_both_documents(project_path)
    add_codes(project_path, 20)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_reports(pilot, "city")
        box = screen.query_one("#report-test")
        assert box.region.height == 2 and screen.query_one("#freq").region.height == 23
        first = screen.table["rows"][0]
        assert shown(screen, "#report-test") == "\n".join([            # 116 cells: room for every word
            f"Themes × city: {test_line(screen.table['test']).replace('; ', ' ⚠ ')}",
            f"{first['name']} vs the rest: {test_line(first['test']).replace('; ', ' ⚠ ')}"])

        await pilot.resize_terminal(80, 24)                     # made smaller: squeezed to one line
        await settle(pilot)
        assert box.region.height == 1 and "│" in shown(screen, "#report-test")


async def test_at_80x24_a_short_table_leaves_room_for_both_lines(project_path):
    code_both_documents(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_reports(pilot, "city")
        assert screen.query_one("#freq").row_count + 1 <= 16      # the whole table fits above two lines
        text = shown(screen, "#report-test")
        assert screen.query_one("#report-test").region.height == 2 and "\n" in text
        assert all(len(line) <= 76 for line in text.split("\n"))


def test_the_squeezed_line_cuts_the_codes_name_then_drops_its_test():
    from qualcode.ui.screens.reports import overall_forms, squeeze

    test = {"df": 10, "chi2": 30.456, "p": 0.0004, "cramers_v": 0.25, "small_expected": True}
    row = {"code": "Barriers/Sanctions", "name": "Sanctions and correspondent banking", "test": dict(test)}
    table = {"by": "sector", "test": dict(test, df=70, chi2=170.06), "rows": [row]}
    overall = overall_forms(table)
    line = squeeze(overall, row, 76, 1).plain          # 76 cells: the name is cut to fit
    assert line == "Themes × sector: χ²(70)=170.06, p<.001 ⚠ │ Sanction…: χ²(10)=30.46, p<.001 ⚠"
    assert squeeze(overall, row, 50, 1).plain == "Themes × sector: χ²(70)=170.06, p<.001, V=.25 ⚠"
    assert squeeze(overall, row, 300, 1).plain.count("Cramér's V") == 2   # wide: both in full
    assert squeeze(overall, row, 76, 2).plain.split("\n") == [
        "Themes × sector: χ²(70) = 170.06, p < .001, V = .25 ⚠ counts too small",
        "Sanctions and correspondent banking: χ²(10) = 30.46, p < .001, V = .25 ⚠"]
