"""The anonymisation preview in the app shows the plan and changes nothing."""

import pytest

from qualcode.ui.app import QualcodeApp


@pytest.mark.anyio
async def test_anonymisation_preview_lists_pseudonyms_and_changes_nothing(project_path, tmp_path):
    from qualcode.store.project import Project
    from support import qc

    named = tmp_path / "FG_named.md"
    named.write_text("---\nspeakers:\n  Moderator: {role: moderator}\n  P1: {name: Leyla}\n---\n"
                     "Moderator: Hello Leyla, thank you.\n\nP1: My neighbour Aytan collects the money.\n",
                     encoding="utf-8")
    assert qc("--project", project_path, "import", named).code == 0
    before = Project(project_path).one("SELECT group_concat(text, '|') FROM documents")[0]
    app = QualcodeApp(project_path)
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_anonymisation_preview()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        summary = app.screen.summary
        assert summary is not None and summary["replacements"] > 0
        assert all(e["pseudonym"] for e in summary["entities"])
        await pilot.press("escape")
    assert Project(project_path).one("SELECT group_concat(text, '|') FROM documents")[0] == before
