"""Taguette import: UTF-8 byte offsets into HTML-stripped text land on the intended words."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path

import pytest

from support import SHARED, file_digest, qc

SERDIF = SHARED / "benchmarks" / "serdif"

SCHEMA = """
CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT, description TEXT, created DATETIME);
CREATE TABLE project_members (project_id INTEGER, user_login TEXT, privileges TEXT);
CREATE TABLE documents (id INTEGER PRIMARY KEY, name TEXT, description TEXT, filename TEXT, created DATETIME,
  project_id INTEGER, text_direction TEXT, contents TEXT);
CREATE TABLE tags (id INTEGER PRIMARY KEY, project_id INTEGER, path TEXT, description TEXT);
CREATE TABLE highlights (id INTEGER PRIMARY KEY, document_id INTEGER, start_offset INTEGER, end_offset INTEGER,
  snippet TEXT);
CREATE TABLE highlight_tags (highlight_id INTEGER, tag_id INTEGER);
CREATE TABLE commands (id INTEGER PRIMARY KEY, date DATETIME, user_login TEXT, project_id INTEGER,
  document_id INTEGER, payload TEXT);
"""

# paragraphs without newlines between them, entities, multi-byte characters and an emoji
CONTENTS = ("<h2>Session 1</h2><p>Interviewer: Şəki &amp; Gəncə — how do you send? 😀</p>"
            "<p>Respondent: By card, the fees &lt;5%&gt; are fine.</p><p>Respondent: Cash via a friend.</p>")


def make_db(path: Path) -> list[tuple[str, str, str]]:
    """A small Taguette project; returns the intended (tag, words, coder)."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO projects VALUES (1, 'Study', '', '2022-01-01')")
    conn.execute("INSERT INTO project_members VALUES (1, 'lead', 'ADMIN'), (1, 'aysel', 'MANAGE_DOCS')")
    conn.execute("INSERT INTO documents VALUES (1, 'interview 1.odt', 'pilot', 'interview 1.odt', '2022-01-01', 1, "
                 "'LEFT_TO_RIGHT', ?)", (CONTENTS,))
    conn.execute("INSERT INTO tags VALUES (1, 1, 'fees', 'about fees'), (2, 1, 'channels/informal', ''),"
                 " (3, 1, 'places', '')")
    plain = html.unescape(re.sub(r"<[^>]*>", "", CONTENTS))
    intended = [("fees", "the fees <5%> are fine", "aysel"), ("places", "Şəki & Gəncə", "lead"),
                ("channels-informal", "Cash via a friend", "lead"), ("places", "😀", "lead")]
    tag_ids = {"fees": 1, "channels-informal": 2, "places": 3}
    for hid, (tag, words, who) in enumerate(intended, 1):
        cp = plain.index(words)
        s, e = len(plain[:cp].encode()), len(plain[:cp + len(words)].encode())
        conn.execute("INSERT INTO highlights VALUES (?, 1, ?, ?, ?)", (hid, s, e, f"<p>{html.escape(words)}</p>"))
        conn.execute("INSERT INTO highlight_tags VALUES (?, ?)", (hid, tag_ids[tag]))
        conn.execute("INSERT INTO commands (date, user_login, project_id, document_id, payload) VALUES "
                     "('2022-01-02', ?, 1, 1, ?)", (who, json.dumps({"type": "highlight_add", "highlight_id": hid,
                                                                     "start_offset": s, "end_offset": e})))
    conn.commit()
    conn.close()
    return intended


def test_highlights_land_on_their_words(tmp_path):
    src = tmp_path / "taguette.sqlite3"
    intended = make_db(src)
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", "taguette", src, "--json")
    assert r.code == 0, r.err
    rows = json.loads(qc("--project", db, "codings", "export", "--json").out)
    assert sorted((c["code"], c["text"], c["coder"]) for c in rows) == sorted(intended)
    text = qc("--project", db, "text", "interview 1").out
    assert text.split("\n")[:2] == ["Session 1", "Interviewer: Şəki & Gəncə — how do you send? 😀"]
    docs = json.loads(qc("--project", db, "documents", "--json").out)
    assert docs[0]["attributes"] == {"description": "pilot"}
    assert docs[0]["speakers"] == ["Interviewer", "Respondent"]
    shown = {c["path"]: c["description"] for c in json.loads(qc("--project", db, "codebook", "show", "--json").out)}
    assert shown["fees"] == "about fees"
    assert any("'/'" in n for n in json.loads(r.out)["notes"])


def test_suffix_dispatch_and_undo(tmp_path):
    src = tmp_path / "t.sqlite3"
    make_db(src)
    db = tmp_path / "p.db"
    assert qc("init", db).code == 0
    before = file_digest(db)
    assert qc("--project", db, "import", src).code == 0
    assert qc("--project", db, "undo").code == 0
    assert json.loads(qc("--project", db, "documents", "--json").out) == []


def test_not_a_taguette_file(project, tmp_path):
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.close()
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all, just some bytes" * 10)
    before = file_digest(project)
    for f in (other, junk, tmp_path / "missing.sqlite3"):
        r = qc("--project", project, "import", "taguette", f)
        assert r.code == 1 and r.err.startswith("error:"), r.err
    assert file_digest(project) == before


def test_serdif_project_every_highlight_exact(tmp_path):
    db_file = SERDIF / "SERDIF_P2_ThematicAnalysis.sqlite3"
    expected = SERDIF / "derived" / "highlights.jsonl"
    if not db_file.exists() or not expected.exists():
        pytest.skip("SERDIF benchmark not available")
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", "taguette", db_file, "--json")
    assert r.code == 0, r.err
    rows = json.loads(qc("--project", db, "codings", "export", "--json").out)
    got = sorted((c["document"], c["code"], c["text"].strip()) for c in rows)
    want = []
    for line in expected.read_text(encoding="utf-8").splitlines():
        h = json.loads(line)
        for code in h["codes"]:
            want.append((Path(h["document"]).stem, code, h["text"].replace("\r\n", "\n").strip()))
    assert len(got) == 1930
    assert got == sorted(want)
