"""Fixtures shared by the test suite; helpers live in support.py."""

from pathlib import Path

import pytest

from support import INTERVIEW, REPO, qc


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with one interview and the study codebook."""
    path = tmp_path / "p.db"
    src = tmp_path / "EI01.md"
    src.write_text(INTERVIEW, encoding="utf-8")
    assert qc("--project", path, "import", src).code == 0
    assert qc("--project", path, "codebook", "import", REPO / "codebooks" / "remittances.yaml").code == 0
    return path
