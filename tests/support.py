"""Shared test helpers: run the CLI in-process, compare project files, a sample interview.

A module of its own (not conftest) so `from support import qc` is unambiguous beside tests/ui/conftest.py."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

os.environ.setdefault("QUALCODE_CODER", "tester")


@dataclass
class Result:
    code: int
    out: str
    err: str


def qc(*args: str) -> Result:
    """Run `qualcode ARGS` in this process, as the console script would."""
    from qualcode.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def file_digest(path: Path) -> str | None:
    """Content of a project as seen by SQLite (WAL included), or None when absent."""
    if not Path(path).exists():
        return None
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return hashlib.sha256(dump.encode()).hexdigest()


INTERVIEW = """---
type: expert_interview
sector: central bank
city: Baku
speakers:
  Interviewer: {role: interviewer}
  Respondent: {role: expert, gender: female}
---
Interviewer: Good morning. Shall we begin?

Respondent: Yes. Card-to-card transfers from Russia grew fast. The fees are lower than at the bank.

Interviewer: And the rules?

Respondent: Every sender needs a passport. Women often collect the money [laughs].
"""


