"""A small project for the app's Pilot tests, built once per session and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

INTERVIEW = """---
type: expert_interview
city: Baku
sector: bank
speakers:
  Interviewer: {role: interviewer}
  Respondent: {role: expert, gender: female}
---
Interviewer: How do families receive the money?

Respondent: Most families use cards now. The fees at the bank are high [laughs]. Some still carry cash from Moscow.

Interviewer: And do people trust the banks?

Respondent: People trust the post office. [/inaudible] They do not trust the apps on the phone.
"""

FOCUS_GROUP = """---
type: focus_group
city: Lankaran
speakers:
  Moderator: {role: moderator}
  P1: {gender: female}
  P2: {gender: male}
---
Moderator: Who sends money to your family?

P1: My husband sends it from Russia every month. I take it from the card machine.

P2: My son uses a transfer app. The commission is small.
"""

CODEBOOK = """name: Test codebook
codes:
  - name: Barriers
    color: "#E15759"
    children:
      - {name: Fees, color: "#F28E2B", shortcut: 1}
      - {name: Trust, color: "#4E79A7", shortcut: 2}
  - name: Channels
    color: "#59A14F"
    children:
      - {name: Cards, color: "#76B7B2", shortcut: 3}
      - {name: Cash, color: "#EDC948"}
"""


@pytest.fixture(scope="session")
def ui_template(tmp_path_factory) -> Path:
    from qualcode.codebook import import_specs
    from qualcode.codebook_files import load
    from qualcode.documents import store_documents
    from qualcode.ingest.importer import parse_file
    from qualcode.store.project import Project

    folder = tmp_path_factory.mktemp("ui-template")
    files = []
    for name, text in (("EI01_bank.md", INTERVIEW), ("FG01_lankaran.md", FOCUS_GROUP)):
        files.append(folder / name)
        files[-1].write_text(text, encoding="utf-8")
    book = folder / "codebook.yaml"
    book.write_text(CODEBOOK, encoding="utf-8")
    path = folder / "p.db"
    project = Project(path, create=True)
    store_documents(project, [parse_file(f) for f in files], coder="tester")
    import_specs(project, load(book)[1], "tester")
    project.close()
    return path


@pytest.fixture
def project_path(tmp_path, ui_template) -> Path:
    target = tmp_path / "p.db"
    shutil.copy(ui_template, target)
    return target


@pytest.fixture
def anyio_backend():
    """Pilot tests are coroutines; anyio's pytest plugin runs them on asyncio."""
    return "asyncio"
