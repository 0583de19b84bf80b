"""The coding workbench, driven by keys: open, code by number, undo, memos, in-vivo, coders."""

from __future__ import annotations

import sqlite3

import pytest

from qualcode.ui.app import QualcodeApp
from qualcode.ui.screens.transcript import TranscriptScreen
from qualcode.ui.widgets.transcript_view import TranscriptView

pytestmark = pytest.mark.anyio

SIZE = (100, 30)


def codings(path, where: str = "1", params=()) -> list[dict]:
    """What another program would read from the file right now."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT c.*, k.path AS code, u.name AS coder FROM codings c JOIN codes k ON k.id = c.code_id "
            f"JOIN coders u ON u.id = c.coder_id WHERE {where} ORDER BY c.start", params)]
    finally:
        conn.close()


async def open_interview(pilot):
    await pilot.press("enter")          # the first document in the list: EI01_bank
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TranscriptScreen)
    assert screen.data.name == "EI01_bank"
    return screen


async def test_enter_opens_the_document_with_its_text_exactly(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        view = screen.query_one(TranscriptView)
        stored = app.project.one("SELECT text FROM documents WHERE name = 'EI01_bank'")["text"]
        assert view.text == stored
        # bracketed transcript notes are text, not markup: they render as written
        lines = [view.get_line(i).plain for i in range(view.document.line_count)]
        assert any("[laughs]" in line for line in lines)
        assert any("[/inaudible]" in line for line in lines)
        shown = "".join(seg.text for y in range(view.size.height) for seg in view.render_line(y))
        assert "[/inaudible]" in shown and "[laughs]" in shown


async def test_number_key_codes_the_selection(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        text = screen.data.text
        start = text.index("The fees")
        screen.query_one(TranscriptView).move_to(start)
        await pilot.press(*["shift+right"] * len("The fees"))
        await pilot.press("1")
        await pilot.pause()
        rows = codings(project_path)
        assert [(r["start"], r["end"], r["code"], r["coder"]) for r in rows] == \
            [(start, start + len("The fees"), "Barriers/Fees", "tester")]
        assert rows[0]["text"] == "The fees"
        # the side list shows the coding under the cursor
        assert "Barriers/Fees" in str(screen.query_one("#here").render())


async def test_number_key_without_selection_codes_the_sentence_under_the_cursor(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        await pilot.press("j", "j")          # first sentence, then the respondent's first sentence
        await pilot.press("2")
        await pilot.pause()
        rows = codings(project_path)
        assert len(rows) == 1 and rows[0]["code"] == "Barriers/Trust"
        assert rows[0]["text"] == "Most families use cards now."
        # a favourite that is not assigned says so and changes nothing
        await pilot.press("9")
        assert len(codings(project_path)) == 1


async def test_select_keys_extend_by_sentence_turn_and_word(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        view = screen.query_one(TranscriptView)
        text = screen.data.text
        await pilot.press("j", "j", "s")
        assert text[slice(*view.selected_span)] == "Most families use cards now."
        await pilot.press("s")
        assert text[slice(*view.selected_span)].endswith("are high [laughs].")
        await pilot.press("escape", "t")
        assert text[slice(*view.selected_span)].startswith("Most families") and \
            text[slice(*view.selected_span)].endswith("cash from Moscow.")
        await pilot.press("escape")               # the cursor stays where the selection ended
        assert view.selected_span is None and text[:view.cursor_offset].endswith("Moscow.")
        view.move_to(text.index("Most families"))
        await pilot.press("w", "w")
        assert text[slice(*view.selected_span)] == "Most families"
        await pilot.press("escape", "J")      # next turn: the interviewer's question
        assert text[view.cursor_offset:].startswith("And do people trust")
        await pilot.press("K")
        assert text[view.cursor_offset:].startswith("Most families")


async def test_undo_and_redo(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await open_interview(pilot)
        await pilot.press("j", "3")
        assert len(codings(project_path)) == 1
        await pilot.press("u")
        assert codings(project_path) == []
        await pilot.press("U")
        assert len(codings(project_path)) == 1
        await pilot.press("ctrl+z")
        assert codings(project_path) == []


async def test_memo_on_a_coding_and_on_the_document(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await open_interview(pilot)
        await pilot.press("j", "j", "1", "m")            # a coding is here: choose what the memo is on
        await pilot.pause()
        await pilot.press("enter")                         # the first choice: the coding
        await pilot.pause()
        await pilot.press(*"Cards [new]", "ctrl+s")
        await pilot.pause()
        assert codings(project_path)[0]["memo"] == "Cards [new]"
        await pilot.press("m")
        await pilot.pause()
        await pilot.press(*"document", "enter")           # the picker filters as you type
        await pilot.pause()
        await pilot.press(*"Good interview", "ctrl+s")
        await pilot.pause()
        memo = app.project.one("SELECT m.text FROM memos m JOIN documents d ON d.id = m.target_id "
                               "WHERE m.target_type = 'document' AND d.name = 'EI01_bank'")
        assert memo["text"] == "Good interview"


async def test_code_picker_remove_and_in_vivo(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        await pilot.press("j", "j", "c")
        await pilot.pause()
        await pilot.press(*"cash", "enter")               # fuzzy picker: any code, not only favourites
        await pilot.pause()
        assert [r["code"] for r in codings(project_path)] == ["Channels/Cash"]
        await pilot.press("x")                            # one coding here: removed at once
        assert codings(project_path) == []
        # in vivo: the selected words become a new code, applied to them
        text = screen.data.text
        screen.query_one(TranscriptView).move_to(text.index("post office"))
        await pilot.press("w", "w", "i")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        rows = codings(project_path)
        assert [(r["code"], r["text"]) for r in rows] == [("post office", "post office")]


async def test_favourite_numbers_are_assignable(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await open_interview(pilot)
        await pilot.press("F")
        await pilot.pause()
        await pilot.press(*"cash", "enter")
        await pilot.pause()
        await pilot.press("9")                            # Cash becomes favourite 9
        await pilot.pause()
        await pilot.press("j", "9")
        assert [r["code"] for r in codings(project_path)] == ["Channels/Cash"]


async def test_changes_from_the_cli_appear_while_open(project_path):
    from qualcode.codebook import add_code
    from qualcode.coding import apply_code
    from qualcode.store.project import Project

    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        other = Project(project_path)          # another program, its own connection
        add_code(other, "Barriers/Distance", "cli")
        apply_code(other, "EI01_bank", 0, 12, "Barriers/Distance", "cli")
        other.close()
        app.check_for_outside_changes()        # what the one-second timer does
        await pilot.pause()
        assert any(c.path == "Barriers/Distance" for c in screen.data.codings)
        assert any(c["path"] == "Barriers/Distance" for c in screen.codes)


async def test_coders_switch_and_others_can_be_hidden(project_path, monkeypatch):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        await pilot.press("j", "1")
        await pilot.press("C")
        await pilot.pause()
        await pilot.press(*"rashad", "enter")            # a new coder, typed in
        await pilot.pause()
        assert app.coder == "rashad"
        await pilot.press("j", "2")
        assert {r["coder"] for r in codings(project_path)} == {"tester", "rashad"}
        view = screen.query_one(TranscriptView)
        assert len(screen.data.visible_codings(app.coder, app.show_others)) == 2
        await pilot.press("o")
        assert app.show_others is False
        assert [c.coder for c in screen.data.visible_codings(app.coder, app.show_others)] == ["rashad"]
        assert view.show_others is False
        # the choice is remembered for the project; undo takes back rashad's coding, not the choice
        await pilot.press("u")
        assert {r["coder"] for r in codings(project_path)} == {"tester"}
    monkeypatch.delenv("QUALCODE_CODER", raising=False)     # no other say: the project's remembered coder
    app = QualcodeApp(project_path, poll=0)
    assert app.coder == "rashad"
    app.project.close()


async def test_every_action_is_saved_before_quitting(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await open_interview(pilot)
        await pilot.press("j", "1")
        # visible to another connection while the app is still running
        assert len(codings(project_path)) == 1
        await pilot.press("ctrl+q")
    assert len(codings(project_path)) == 1


async def test_the_mouse_selects_text_and_applies_a_code(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(pilot)
        view = screen.query_one(TranscriptView)
        await pilot.click("#codes", offset=(6, 1))        # browsing the tree codes nothing
        assert codings(project_path) == []
        await pilot.mouse_down(TranscriptView, offset=(6, 2))
        await pilot.hover(TranscriptView, offset=(20, 2))
        await pilot.mouse_up(TranscriptView, offset=(20, 2))
        span = view.selected_span
        assert span is not None
        await pilot.click("#codes", offset=(6, 1))        # the second line of the tree: Fees
        await pilot.pause()
        rows = codings(project_path)
        assert [(r["code"], r["start"], r["end"]) for r in rows] == [("Barriers/Fees", *screen.data.trim(*span))]
