"""The project file: creation, identity checks, the write path, undo and redo."""

import json
import sqlite3
import stat

import pytest

from support import REPO, file_digest, qc
from qualcode.errors import QualcodeError
from qualcode.store import schema
from qualcode.store.project import Project


def test_new_project_is_owner_only_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "new.db"
    assert qc("init", path).code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    p = Project(path)
    assert p.one("PRAGMA journal_mode")[0] == "wal"
    assert p.one("PRAGMA foreign_keys")[0] == 1
    assert p.one("PRAGMA user_version")[0] == schema.SCHEMA_VERSION
    p.close()
    assert qc("init", path).code == 1  # refuses to overwrite


def test_a_foreign_sqlite_file_is_refused_unchanged(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = file_digest(path)
    r = qc("--project", path, "documents")
    assert r.code == 1 and r.err.startswith("error:") and "not a qualcode project" in r.err
    assert file_digest(path) == before


def test_garbage_file_is_not_a_project(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    before = path.read_bytes()
    r = qc("--project", path, "documents")
    assert r.code == 1 and "not a qualcode project" in r.err
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.db"
    Project(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = file_digest(path)
    r = qc("--project", path, "documents")
    assert r.code == 1 and "newer qualcode" in r.err
    assert file_digest(path) == before


def test_a_failing_change_writes_nothing(project):
    p = Project(project)
    events = p.one("SELECT COUNT(*) FROM events")[0]
    with pytest.raises(RuntimeError):
        with p.change("code", "will fail") as ch:
            ch.insert("coders", {"id": "x1", "name": "someone", "created_at": "now"})
            raise RuntimeError("crash in the middle")
    assert p.one("SELECT COUNT(*) FROM coders WHERE id = 'x1'")[0] == 0
    assert p.one("SELECT COUNT(*) FROM events")[0] == events


def _snapshot(path):
    p = Project(path)
    tables = ["documents", "document_attributes", "speakers", "turns", "sentences", "codes", "codings", "memos"]
    snap = {t: sorted(tuple(r) for r in p.query(f"SELECT * FROM {t}")) for t in tables}
    p.close()
    return snap


@pytest.mark.parametrize("action", [
    ["code", "EI01", "60", "120", "Barriers/Fees and exchange rates", "--memo", "fees vs bank"],
    ["codebook", "rename", "Barriers/Trust", "Distrust"],
    ["codebook", "move", "Gender/Female migrants", "Migrant profile"],
    ["codebook", "add", "Barriers/Language", "--description", "Not speaking the language of the bank"],
    ["memo", "document", "EI01", "A calm interview."],
])
def test_undo_and_redo_reverse_and_replay_each_kind_of_change(project, action):
    before = _snapshot(project)
    assert qc("--project", project, *action).code == 0
    after = _snapshot(project)
    assert after != before
    assert "Undid" in qc("--project", project, "undo").out
    assert _snapshot(project) == before
    assert "Redid" in qc("--project", project, "redo").out
    assert _snapshot(project) == after


def test_undo_of_merge_and_delete_restores_codings(project):
    qc("--project", project, "code", "EI01", "60", "120", "Barriers/Trust")
    qc("--project", project, "code", "EI01", "130", "160", "Barriers/Documents")
    before = _snapshot(project)
    assert qc("--project", project, "codebook", "merge", "Barriers/Trust", "Barriers/Documents").code == 0
    p = Project(project)
    assert p.one("SELECT COUNT(*) FROM codes WHERE path = 'Barriers/Trust'")[0] == 0
    assert p.one("SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id WHERE k.path = 'Barriers/Documents'")[0] == 2
    p.close()
    qc("--project", project, "undo")
    assert _snapshot(project) == before
    assert qc("--project", project, "codebook", "delete", "Barriers").code == 0
    assert _snapshot(project)["codings"] == []
    qc("--project", project, "undo")
    assert _snapshot(project) == before


def test_undo_of_an_import_removes_the_document_and_redo_brings_it_back(project, tmp_path):
    src = tmp_path / "second.txt"
    src.write_text("Moderator: Hello.\n\nP1: Hi. We get money by card.\n", encoding="utf-8")
    before = _snapshot(project)
    qc("--project", project, "import", src)
    with_doc = _snapshot(project)
    assert len(with_doc["documents"]) == 2
    qc("--project", project, "undo")
    assert _snapshot(project) == before
    qc("--project", project, "redo")
    assert _snapshot(project) == with_doc


def test_a_new_change_ends_the_redo_history(project):
    qc("--project", project, "code", "EI01", "60", "120", "Barriers/Trust")
    qc("--project", project, "undo")
    qc("--project", project, "code", "EI01", "60", "100", "Barriers/Documents")
    assert "Nothing to redo" in qc("--project", project, "redo").out


def test_every_change_writes_one_event_with_who_and_what(project):
    qc("--project", project, "--coder", "aysel", "code", "EI01", "60", "120", "Barriers/Trust")
    h = json.loads(qc("--project", project, "history", "--json").out)
    assert h[0]["coder"] == "aysel" and "Barriers/Trust" in h[0]["summary"] and h[0]["kind"] == "code"


def test_renamed_and_moved_codes_keep_their_codings(project):
    qc("--project", project, "code", "EI01", "60", "120", "Barriers/Trust")
    qc("--project", project, "codebook", "rename", "Barriers/Trust", "Distrust of banks")
    qc("--project", project, "codebook", "move", "Barriers/Distrust of banks", "Channels")
    rows = json.loads(qc("--project", project, "codings", "export", "--json").out)
    assert [r["code"] for r in rows] == ["Channels/Distrust of banks"]


def test_same_name_under_different_parents(project):
    assert qc("--project", project, "codebook", "add", "Regulation/Other").code == 0
    assert qc("--project", project, "codebook", "add", "Barriers/Other").code == 0
    r = qc("--project", project, "code", "EI01", "0", "10", "Other")
    assert r.code == 1 and "ambiguous" in r.err
    assert qc("--project", project, "code", "EI01", "0", "10", "Barriers/Other").code == 0


def test_project_missing_gives_clear_error(tmp_path):
    r = qc("--project", tmp_path / "none.db", "documents")
    assert r.code == 1 and "no project" in r.err
    assert not (tmp_path / "none.db").exists()


def test_refuse_project_that_is_a_folder(tmp_path):
    r = qc("--project", tmp_path, "documents")
    assert r.code == 1 and "folder" in r.err


def test_project_class_is_usable_directly(tmp_path):
    with Project(tmp_path / "x.db", create=True) as p:
        with p.change("codebook", "add") as ch:
            ch.insert("coders", {"id": "c1", "name": "n", "created_at": "t"})
        assert p.undo()["summary"] == "add"
        assert p.undo() is None
    with pytest.raises(QualcodeError):
        Project(tmp_path / "missing.db")
