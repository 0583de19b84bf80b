"""The app on the demo project: the document list, the longest transcript, coding by number."""

from __future__ import annotations

import pytest

from qualcode.ui.app import QualcodeApp
from qualcode.ui.screens.transcript import TranscriptScreen

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from qualcode.errors import QualcodeError
    try:
        from qualcode.demo import build_demo
        path = tmp_path_factory.mktemp("demo-app") / "demo.db"
        build_demo(path)
    except (ImportError, QualcodeError) as exc:
        pytest.skip(f"the demo project cannot be built here: {exc}")
    return path


async def test_demo_opens_codes_and_shows_both_coders(demo_path):
    app = QualcodeApp(demo_path, "tester", poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()          # coding progress is counted in a worker
        await pilot.pause()
        docs = app.screen.docs
        assert len(docs) == app.project.one("SELECT COUNT(*) AS n FROM documents")["n"]
        assert any(d["progress"] > 0 for d in docs)       # the demo coding shows as progress
        longest = app.project.one("SELECT id, name FROM documents ORDER BY length(text) DESC LIMIT 1")
        app.open_document(longest["id"])
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TranscriptScreen) and screen.data.name == longest["name"]
        favourite = next(n for n in range(1, 10) if n in screen.favourites)
        before = app.project.one("SELECT COUNT(*) AS n FROM codings")["n"]
        await pilot.press("j", str(favourite))
        assert app.project.one("SELECT COUNT(*) AS n FROM codings")["n"] == before + 1
        # a document both demo coders worked on shows both, and hiding others leaves yours only
        both = app.project.one(
            "SELECT document_id FROM codings GROUP BY document_id HAVING COUNT(DISTINCT coder_id) >= 2 LIMIT 1")
        app.open_document(both["document_id"])
        await pilot.pause()
        assert len({c.coder for c in app.screen.data.codings}) >= 2


async def test_emerging_themes_become_codes_from_the_palette(demo_path, tmp_path):
    import shutil

    from qualcode.store.project import Project
    from qualcode.ui.screens.themes import EmergingThemes

    path = tmp_path / "demo.db"
    shutil.copy(demo_path, path)
    app = QualcodeApp(path, "tester", poll=0)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_emerging_themes()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EmergingThemes)
        for _ in range(600):                            # found in a daemon thread
            if screen.topics:
                break
            await pilot.pause(0.1)
        topic = screen.topics[0]
        assert topic["terms"] and topic["examples"] and screen.query_one("#themes-table").row_count == len(screen.topics)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("ctrl+a", "ctrl+k", *"Emerging/Remittance", "enter")  # the name typed over the proposal
        await pilot.pause()
        with Project(path) as p:
            row = p.one("SELECT description, keywords FROM codes WHERE path = 'Emerging/Remittance'")
        assert row is not None and topic["terms"][0] in row["keywords"] and "uncoded text" in row["description"]
        await pilot.press("enter")                      # the strongest example, in its transcript
        await pilot.pause()
        assert app.current_section == "transcript"
