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
