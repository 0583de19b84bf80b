"""A few pictures of the app at 80×24, compared with stored SVG snapshots.

Snapshots break when Textual changes (it is pinned); regenerate them deliberately with
`pytest tests/ui/test_app_snapshots.py --snapshot-update` and look at the report.
"""

from __future__ import annotations

import pytest

from qualcode.store.project import Project
from qualcode.ui.app import QualcodeApp

SIZE = (80, 24)


def code_some(path) -> None:
    from qualcode.coding import apply_code, set_coding_memo
    project = Project(path)
    text = project.one("SELECT text FROM documents WHERE name = 'EI01_bank'")["text"]
    s = text.index("The fees")
    apply_code(project, "EI01_bank", s, s + 40, "Barriers/Fees", "tester")
    coding = apply_code(project, "EI01_bank", s + 4, s + 33, "Barriers/Trust", "rashad")
    set_coding_memo(project, coding["id"], "Fees and [distrust] go together", "rashad")
    p = text.index("People trust")
    apply_code(project, "EI01_bank", p, p + 29, "Barriers/Trust", "tester")
    project.close()


async def settle(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_document_list(snap_compare, project_path):
    code_some(project_path)
    assert snap_compare(QualcodeApp(project_path, "tester", poll=0), terminal_size=SIZE, run_before=settle)


def test_transcript_with_overlapping_codings(snap_compare, project_path):
    code_some(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)
    assert snap_compare(app, terminal_size=SIZE, press=["enter", "j", "j", "j"])


def test_frequency_report(snap_compare, project_path):
    pytest.importorskip("qualcode.analysis.frequencies")
    code_some(project_path)
    app = QualcodeApp(project_path, "tester", poll=0)

    async def open_report(pilot):
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_report)
