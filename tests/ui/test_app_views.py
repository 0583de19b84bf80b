"""Suggestions, the review queue, retrieval, reports, help and the command palette."""

from __future__ import annotations

import json
import threading

import pytest

from qualcode.store.project import Project, new_id, now
from qualcode.ui.app import QualcodeApp
from qualcode.ui.screens.transcript import TranscriptScreen
from qualcode.ui.widgets.transcript_view import TranscriptView

pytestmark = pytest.mark.anyio

SIZE = (100, 30)


def add_suggestions(path, items: list[tuple[str, str, str, float]]) -> list[str]:
    """Suggestion rows (document, quote, code path, score), written through the write path."""
    project = Project(path)
    ids = []
    try:
        with project.change("suggestion", "test suggestions", "suggester") as ch:
            for doc_name, quote, code, score in items:
                doc = project.one("SELECT id, text FROM documents WHERE name = ?", (doc_name,))
                code_id = project.one("SELECT id FROM codes WHERE path = ?", (code,))["id"]
                start = doc["text"].index(quote)
                ids.append(ch.insert("suggestions", {
                    "id": new_id(), "document_id": doc["id"], "code_id": code_id, "start": start,
                    "end": start + len(quote), "unit": "sentence", "score": score,
                    "evidence": json.dumps({"keywords": ["fees", "bank"], "similar": [{"text": "fees [are] high"}]}),
                    "model_version": "test", "status": "open", "created_at": now()}))
    finally:
        project.close()
    return ids


def status(path, suggestion_id: str) -> str:
    project = Project(path)
    try:
        return project.one("SELECT status FROM suggestions WHERE id = ?", (suggestion_id,))["status"]
    finally:
        project.close()


async def test_accept_and_reject_suggestions_in_the_transcript(project_path):
    fees, trust = add_suggestions(project_path, [
        ("EI01_bank", "The fees at the bank are high [laughs].", "Barriers/Fees", 0.91),
        ("EI01_bank", "People trust the post office.", "Barriers/Trust", 0.42)])
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        await pilot.press("n")                            # the first suggestion after the cursor
        card = str(screen.query_one("#suggestion").render())
        assert "Barriers/Fees" in card and "0.91" in card and "fees [are] high" in card
        assert screen.query_one(TranscriptView).focus_span is not None
        await pilot.press("a")
        assert status(project_path, fees) == "accepted"
        coding = app.project.one("SELECT origin, text FROM codings")
        assert coding["origin"] == "suggestion" and coding["text"].startswith("The fees")
        # the next one is shown at once; reject it
        assert "Barriers/Trust" in str(screen.query_one("#suggestion").render())
        await pilot.press("r")
        assert status(project_path, trust) == "rejected"
        assert app.project.one("SELECT COUNT(*) AS n FROM codings")["n"] == 1
        assert screen.query_one("#suggestion").display is False


async def test_review_queue_most_useful_first(project_path):
    low, high = add_suggestions(project_path, [
        ("FG01_lankaran", "The commission is small.", "Barriers/Fees", 0.30),
        ("EI01_bank", "They do not trust the apps on the phone.", "Barriers/Trust", 0.88)])
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        screen = app.screen
        assert [s["id"] for s in screen.items] == [high, low]
        await pilot.press("r")                            # reject the top one
        assert status(project_path, high) == "rejected"
        assert [s["id"] for s in screen.items] == [low]
        await pilot.press("enter")                        # open the next where it is
        await pilot.pause()
        assert isinstance(app.screen, TranscriptScreen)
        assert app.screen.data.name == "FG01_lankaran"
        assert app.screen.current_suggestion().id == low
        await pilot.press("a")
        assert status(project_path, low) == "accepted"


async def test_suggest_runs_in_a_worker_and_the_screen_stays_responsive(project_path, monkeypatch):
    gate = threading.Event()

    def generate(project, documents=None, unit="sentence", top=3, progress=None):
        progress(1, 2)
        assert gate.wait(10)                            # the slow part, held until the test lets go
        doc = project.one("SELECT text FROM documents WHERE name = ?", (documents[0],))
        start = doc["text"].index("Some still carry cash")
        return [{"document": documents[0], "start": start, "end": start + 21, "code": "Channels/Cash",
                 "score": 0.7, "evidence": {"keywords": ["cash"]}}]

    monkeypatch.setattr("qualcode.ui.suggestion_runs.load_generator", lambda: generate)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        await pilot.press("g")
        await pilot.pause()
        assert screen.query_one("#work").display is True  # progress is visible while it runs
        before = screen.query_one(TranscriptView).cursor_offset
        await pilot.press("j")                            # keys still work meanwhile
        assert screen.query_one(TranscriptView).cursor_offset != before
        await pilot.press("g")                            # a second run waits for the first
        assert "Still suggesting" in screen._note.plain
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#work").display is False
        assert [s.path for s in screen.data.suggestions] == ["Channels/Cash"]
        assert "Channels/Cash" in str(screen.query_one("#suggestion").render())


async def test_quitting_while_suggesting_does_not_wait_for_the_suggester(project_path, monkeypatch):
    gate = threading.Event()

    def generate(project, documents=None, unit="sentence", top=3, progress=None):
        gate.wait(30)
        return []

    monkeypatch.setattr("qualcode.ui.suggestion_runs.load_generator", lambda: generate)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
    # the app has closed while the suggester still runs: nothing waited for it
    try:
        assert any(t.name == "qualcode-suggest" and t.is_alive() for t in threading.enumerate())
    finally:
        gate.set()


async def test_suggest_without_a_suggester_says_so(project_path, monkeypatch):
    from qualcode.errors import QualcodeError

    def missing():
        raise QualcodeError("suggestions are not available yet (no module)")

    monkeypatch.setattr("qualcode.ui.suggestion_runs.load_generator", missing)
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("g")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "not available" in app.screen._note.plain


async def test_retrieval_combines_and_jumps_to_the_quote(project_path):
    from qualcode.coding import apply_code
    project = Project(project_path)
    text = project.one("SELECT text FROM documents WHERE name = 'EI01_bank'")["text"]
    s = text.index("The fees")
    apply_code(project, "EI01_bank", s, s + 8, "Barriers/Fees", "tester")
    apply_code(project, "EI01_bank", s, s + 30, "Channels/Cards", "tester")
    fg = project.one("SELECT text FROM documents WHERE name = 'FG01_lankaran'")["text"]
    c = fg.index("The commission")
    apply_code(project, "FG01_lankaran", c, c + 24, "Barriers/Fees", "tester")
    project.close()
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "c")
        await pilot.pause()
        await pilot.press(*"fees", "enter")
        await pilot.pause()
        screen = app.screen
        assert [r["document"] for r in screen.rows] == ["EI01_bank", "FG01_lankaran"]
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"cards", "enter")              # Fees AND Cards
        await pilot.pause()
        assert [r["document"] for r in screen.rows] == ["EI01_bank"]
        await pilot.press("o", "o")                       # and → or → not
        assert screen.op == "not"
        assert [r["document"] for r in screen.rows] == ["FG01_lankaran"]
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"city=Baku", "enter")          # NOT in Baku documents
        await pilot.pause()
        assert [r["document"] for r in screen.rows] == ["FG01_lankaran"]
        await pilot.press("enter")                        # jump to it
        await pilot.pause()
        transcript = app.screen
        assert isinstance(transcript, TranscriptScreen) and transcript.data.name == "FG01_lankaran"
        assert transcript.query_one(TranscriptView).selected_span == (c, c + 24)


async def test_report_view_counts_by_attribute_and_exports(project_path, tmp_path):
    pytest.importorskip("qualcode.analysis.frequencies")
    from qualcode.coding import apply_code
    project = Project(project_path)
    for doc in ("EI01_bank", "FG01_lankaran"):
        apply_code(project, doc, 0, 5, "Barriers/Fees", "tester")
    project.close()
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        fees = next(r for r in screen.table["rows"] if r["code"] == "Barriers/Fees")
        assert fees["total"] == 2
        await pilot.press("b")
        await pilot.pause()
        await pilot.press(*"city", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.table["by"] == "city" and set(screen.table["columns"]) >= {"Baku", "Lankaran"}
        grid = screen.query_one("#freq")
        assert grid.row_count == len(screen.table["rows"]) and len(grid.columns) >= 4
        await pilot.press("v")                            # the bar chart
        assert screen.current_view == "chart"
        assert "Fees" in str(screen.query_one("#chart-body").render())
        await pilot.press("v")                            # co-occurrence
        assert screen.query_one("#cooc").row_count == len(screen.cooc["codes"])
        await pilot.press("v", "e")
        await pilot.pause()
        target = tmp_path / "by-city.csv"
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert target.exists() and "Baku" in target.read_text(encoding="utf-8")


async def test_help_lists_every_binding_and_the_palette_offers_the_actions(project_path):
    from qualcode.ui.screens.help import HelpScreen
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Code with…", "Undo", "Memo", "Next sentence", "Code with favourite 2", "Reports"} <= titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from qualcode.ui.screens.help import binding_rows, sections_for
        sections = sections_for("transcript")
        assert sections[0][0] == "Transcript (F3)"            # the keys of this screen come first
        shown = {d for _, groups in sections for _, d in binding_rows([b for g in groups for b in g])}
        for words in ("Select sentence (again: extend)", "Remove", "Accept suggestion", "Next turn",
                      "Switch coder…", "Export…", "Open", "Filter by attribute", "Go to quote"):
            assert words in shown
        await pilot.press("escape")
        assert isinstance(app.screen, TranscriptScreen)


async def test_light_and_dark_themes(project_path):
    app = QualcodeApp(project_path, "tester", poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_theme.dark
        await pilot.press("f9")
        await pilot.pause()
        assert not app.current_theme.dark
