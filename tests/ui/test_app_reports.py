"""The Reports screen: counts / % of column / % of row in the frequency table, and the chi-square
tests under it when the table is grouped by an attribute."""

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
        assert f"Themes × city: {stat} ⚠ {warning}" in text
        assert warning == "expected counts too small, read with care"
        first = screen.table["rows"][0]
        assert f"{first['name']} vs the rest: {test_line(first['test']).split('; ')[0]}" in text

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
        await pilot.press("p")                                   # p brings the table back
        await pilot.pause()
        assert screen.current_view == "freq" and screen.share == "row" and box.display


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
        assert f"No chi-square test: {screen.table['test_note']}." in text
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
