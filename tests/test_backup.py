"""Backups: rotating copies through SQLite's backup API, before destructive changes and on exit;
`qualcode backup`, `backups` and `restore`, and a restore that a failure or crash cannot half-do."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import time

import pytest

from support import file_digest, qc
from qualcode.store import backup
from qualcode.store.project import Project


def _dump(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_backup_is_a_complete_single_file_copy(project):
    with Project(project) as p:
        made = backup.rotate(p, "test")
    assert made.parent == backup.backup_dir(project)
    assert _dump(made) == _dump(project)
    conn = sqlite3.connect(f"{made.as_uri()}?mode=ro", uri=True)  # readable read-only, no -wal needed
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert not any(p.name.endswith((".tmp", "-wal", "-journal")) for p in made.parent.iterdir())
    [entry] = backup.backups(project)
    assert entry.reason == "test" and entry.state


def test_no_copy_when_nothing_changed_since_the_last_backup(project):
    with Project(project) as p:
        first = backup.rotate(p, "on exit")
        assert backup.rotate(p, "on exit") == first  # the app closing twice makes one backup
        assert len(backup.list_backups(project)) == 1
        p.undo()
        after_undo = backup.rotate(p, "on exit")
        assert after_undo != first
        assert backup.rotate(p, "manual", force=True) != after_undo
    assert len(backup.list_backups(project)) == 3


def test_rotation_keeps_the_newest(project):
    with Project(project) as p:
        made = [backup.rotate(p, f"n{i}", keep=3, force=True) for i in range(5)]
    assert backup.list_backups(project) == made[-3:]
    assert [b.reason for b in backup.backups(project)] == ["n2", "n3", "n4"]


def test_a_leftover_from_a_crash_mid_backup_is_not_a_backup(project):
    folder = backup.backup_dir(project)
    folder.mkdir()
    stale = folder / ".p-20260101-000000-000000.db.tmp"
    stale.write_bytes(b"half a database")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert backup.backups(project) == []
    with Project(project) as p:
        backup.rotate(p, "x")
    assert not stale.exists()


def test_replacing_a_document_backs_up_first(project, tmp_path):
    src = tmp_path / "EI01.md"
    original = src.read_text(encoding="utf-8")
    before = _dump(project)
    src.write_text(original.replace("grew fast", "grew very fast"), encoding="utf-8")
    assert qc("--project", project, "import", "--replace", src).code == 0
    [b] = backup.backups(project)
    assert b.reason == "before --replace" and _dump(b.path) == before


def test_merging_backs_up_first(project, tmp_path):
    other = tmp_path / "other.db"
    shutil.copy(project, other)
    qc("--project", other, "code", "EI01", "0", "11", "Barriers/Trust")
    r = qc("--project", project, "merge", other)
    if r.code != 0 and "No such command" in r.err:
        pytest.skip("qualcode merge is not available")
    assert r.code == 0, r.err
    assert any("before merging" in b.reason for b in backup.backups(project))


# --- the commands --------------------------------------------------------------------------------

def test_backup_command_and_listing(project):
    r = qc("--project", project, "backup", "--json")
    assert r.code == 0
    made = json.loads(r.out)
    assert made["reason"] == "manual" and made["documents"] == 1 and made["codings"] == 0
    qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    assert qc("--project", project, "backup").code == 0
    listed = json.loads(qc("--project", project, "backups", "--json").out)
    assert [b["codings"] for b in listed] == [1, 0]  # newest first
    assert set(listed[0]) >= {"name", "path", "created", "reason", "bytes", "documents", "codings", "events"}
    text = qc("--project", project, "backups").out
    assert text.splitlines()[0].lstrip().startswith("1 ") and "1 codings" in text.splitlines()[0]


def test_restore_latest_and_back_again(project):
    qc("--project", project, "backup")
    saved = _dump(project)
    qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    changed = _dump(project)
    r = qc("--project", project, "restore", "--json")
    assert r.code == 0, r.err
    result = json.loads(r.out)
    assert _dump(project) == saved
    with Project(project) as p:  # still a working project: WAL, foreign keys, writable
        assert p.one("PRAGMA journal_mode")[0] == "wal"
        assert p.one("PRAGMA integrity_check")[0] == "ok"
    # the state before the restore was backed up: restoring it undoes the restore
    assert qc("--project", project, "restore", result["previous"]).code == 0
    assert _dump(project) == changed


def test_an_app_with_the_project_open_sees_the_restored_content(project):
    from qualcode.coding import apply_code

    qc("--project", project, "backup")
    with Project(project) as app:  # the app's connection, open throughout
        apply_code(app, "EI01", 0, 11, "Barriers/Trust")
        seen = app.data_version()
        assert qc("--project", project, "restore").code == 0
        assert app.data_version() != seen  # how the app notices
        assert app.one("SELECT COUNT(*) FROM codings")[0] == 0
        apply_code(app, "EI01", 0, 7, "Barriers/Trust")  # and it keeps working
        assert app.one("PRAGMA integrity_check")[0] == "ok"


def test_restore_by_number_from_the_listing(project):
    qc("--project", project, "backup")
    qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    qc("--project", project, "backup")
    qc("--project", project, "code", "EI01", "12", "20", "Barriers/Trust")
    assert qc("--project", project, "restore", "2").code == 0
    with Project(project) as p:
        assert p.one("SELECT COUNT(*) FROM codings")[0] == 0


def test_restore_without_backups_or_of_an_unknown_one_is_a_clear_error(project):
    before = file_digest(project)
    r = qc("--project", project, "restore")
    assert r.code == 1 and r.err.startswith("error:") and "no backups" in r.err
    qc("--project", project, "backup")
    r = qc("--project", project, "restore", "nonsense")
    assert r.code == 1 and "no backup 'nonsense'" in r.err
    assert file_digest(project) == before


def test_a_damaged_backup_is_refused_and_the_project_kept(project):
    qc("--project", project, "backup")
    [b] = backup.list_backups(project)
    data = bytearray(b.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = os.urandom(4096)
    b.write_bytes(bytes(data))
    before = file_digest(project)
    r = qc("--project", project, "restore")
    assert r.code == 1 and "cannot be restored" in r.err
    assert file_digest(project) == before


def test_restore_while_another_process_writes_is_refused_cleanly(project, monkeypatch):
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT_MS", "150")
    qc("--project", project, "backup")
    qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    before = file_digest(project)
    other = sqlite3.connect(project, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = qc("--project", project, "restore", "1")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.code == 1 and "is busy" in r.err
    assert file_digest(project) == before


def test_a_project_too_damaged_to_open_is_moved_aside_and_restored(project):
    qc("--project", project, "backup")
    saved = _dump(project)
    for suffix in ("-wal", "-shm"):
        (project.parent / (project.name + suffix)).unlink(missing_ok=True)
    project.write_bytes(b"garbage" * 1000)
    r = qc("--project", project, "restore", "--json")
    assert r.code == 0, r.err
    aside = json.loads(r.out)["moved_aside"]
    assert aside and open(aside, "rb").read() == b"garbage" * 1000
    assert _dump(project) == saved
    assert qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust").code == 0


def test_a_deleted_project_comes_back_from_its_backup(project):
    qc("--project", project, "backup")
    saved = _dump(project)
    for suffix in ("", "-wal", "-shm"):
        (project.parent / (project.name + suffix)).unlink(missing_ok=True)
    assert qc("--project", project, "restore").code == 0
    assert _dump(project) == saved


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_restore_killed_at_any_moment_leaves_old_or_new_never_a_mix(project, tmp_path):
    old_copy, new_copy = tmp_path / "old.db", tmp_path / "new.db"
    with Project(project) as p:
        shutil.copy(backup.rotate(p, "old"), old_copy)
    qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    with Project(project) as p:
        shutil.copy(backup.rotate(p, "new"), new_copy)
    states = {"old": _dump(old_copy), "new": _dump(new_copy)}
    rng = random.Random(5)
    for _ in range(12):
        pid = os.fork()
        if pid == 0:
            try:
                while True:  # restore one, then the other, until killed
                    backup.restore(project, str(old_copy))
                    backup.restore(project, str(new_copy))
            finally:
                os._exit(1)
        time.sleep(rng.random() * 0.3)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert _dump(project) in states.values()
        conn = sqlite3.connect(project)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        for b in backup.list_backups(project):  # no half-written backup under a backup's name
            conn = sqlite3.connect(f"{b.as_uri()}?mode=ro", uri=True)
            assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            conn.close()
