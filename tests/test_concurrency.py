"""Two processes on one project: no corruption, no lost change, a clear message when busy;
and a warning when the project sits in a cloud-synced folder."""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from support import REPO, file_digest, qc
from qualcode.store.cloud import synced_folder, warn_if_synced
from qualcode.store.project import Project, busy_timeout_ms


def _hold_write_lock(path):
    """Another connection in the middle of a write transaction (as another qualcode would be)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO settings (id, value) VALUES ('other-writer', '1')")
    return conn


@pytest.fixture
def quick_busy(monkeypatch):
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT_MS", "150")


@pytest.mark.parametrize("action", [
    ["code", "EI01", "0", "11", "Barriers/Trust"],
    ["undo"],
    ["codebook", "add", "Barriers/Language"],
    ["memo", "project", "", "a memo"],
])
def test_a_busy_project_gives_one_clear_line_and_stays_unchanged(project, quick_busy, action):
    before = file_digest(project)
    other = _hold_write_lock(project)
    try:
        r = qc("--project", project, *action)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.code == 1
    assert r.err.startswith("error:") and "is busy" in r.err and len(r.err.strip().splitlines()) == 1
    assert file_digest(project) == before
    assert qc("--project", project, *action).code == 0  # and it works once the other is done


def test_busy_import_leaves_the_project_as_it_was(project, quick_busy, tmp_path):
    src = tmp_path / "FG01.txt"
    src.write_text("Moderator: Welcome.\n\nP1: We send money by card.\n", encoding="utf-8")
    before = file_digest(project)
    other = _hold_write_lock(project)
    try:
        r = qc("--project", project, "import", src)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.code == 1 and "is busy" in r.err
    assert file_digest(project) == before


def test_reading_and_backing_up_work_while_another_process_writes(project, quick_busy):
    other = _hold_write_lock(project)
    try:
        r = qc("--project", project, "documents", "--json")
        assert r.code == 0 and json.loads(r.out)[0]["name"] == "EI01"
        assert qc("--project", project, "backup").code == 0
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_writer_waits_for_the_other_to_finish_within_the_timeout(project, monkeypatch):
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT_MS", "5000")
    other = _hold_write_lock(project)
    release = threading.Timer(0.3, lambda: (other.execute("COMMIT"), other.close()))
    release.start()
    try:
        r = qc("--project", project, "code", "EI01", "0", "11", "Barriers/Trust")
    finally:
        release.join()
    assert r.code == 0, r.err
    with Project(project) as p:  # both writes are there
        assert p.setting("other-writer") == 1
        assert p.one("SELECT COUNT(*) FROM codings")[0] == 1


def test_busy_timeout_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("QUALCODE_BUSY_TIMEOUT_MS", raising=False)
    assert busy_timeout_ms() == 5000
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT_MS", "1234")
    with Project(tmp_path / "t.db", create=True) as p:
        assert p.one("PRAGMA busy_timeout")[0] == 1234
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT_MS", "soon")
    assert busy_timeout_ms() == 5000


# --- two processes writing at once ---------------------------------------------------------------

APP_WRITER = """
import os, sys, time
from pathlib import Path
from qualcode.coding import apply_code, write_memo
from qualcode.store.project import Project
path, go, n = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
p = Project(path)
Path(str(go) + ".app").write_text("ready")
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    apply_code(p, "EI01", i, i + 7, "Barriers/Trust", "app")
    time.sleep(0.01)  # a person in the app, not a tight loop
    if i % 10 == 0:
        write_memo(p, "document", p.one("SELECT id FROM documents WHERE name = 'EI01'")[0], f"note {i}", "app")
"""

CLI_WRITER = """
import sys, time
from pathlib import Path
from qualcode.cli import main
path, go, n, extra = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def run(*args):
    try:
        main(["--project", path, "--coder", "cli", *args])
    except SystemExit as exc:
        if exc.code:
            raise
run("codings", "export", "-o", str(Path(path).with_suffix(".warmup.json")))  # load what `code` needs first
Path(str(go) + ".cli").write_text("ready")
while not go.exists():
    time.sleep(0.005)
for i in range(n):
    run("code", "EI01", str(i), str(i + 9), "Barriers/Documents")
    if i == n // 2:
        run("import", extra)
"""


def test_two_processes_writing_at_once_lose_nothing(project, tmp_path):
    extra = tmp_path / "FG02.txt"
    extra.write_text("Moderator: Welcome.\n\nP1: We send money by card. It is fast.\n", encoding="utf-8")
    go = tmp_path / "go"
    n = 40
    env = {**os.environ, "QUALCODE_BUSY_TIMEOUT_MS": "20000"}
    procs = [subprocess.Popen([sys.executable, "-c", APP_WRITER, str(project), str(go), str(n)], env=env,
                              stderr=subprocess.PIPE, text=True),
             subprocess.Popen([sys.executable, "-c", CLI_WRITER, str(project), str(go), str(n), str(extra)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)]
    deadline = time.monotonic() + 60
    while not all(go.with_name(f"go.{who}").exists() for who in ("app", "cli")) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.write_text("go")  # both warmed up: now they write at the same time
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    with Project(project) as p:
        counts = dict(p.query("SELECT k.name, COUNT(*) FROM codings c JOIN coders k ON k.id = c.coder_id "
                              "GROUP BY k.name"))
        assert counts == {"app": n, "cli": n}
        assert p.one("SELECT COUNT(*) FROM documents WHERE name = 'FG02'")[0] == 1
        assert p.one("SELECT COUNT(*) FROM memos")[0] == 1  # one memo per target and coder, rewritten
        assert p.one("PRAGMA integrity_check")[0] == "ok"
        assert p.query("PRAGMA foreign_key_check") == []
        seqs = [r[0] for r in p.query("SELECT seq FROM events ORDER BY seq")]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # one event per change, none lost
    # every row is accounted for by the events' journals (nothing written outside the write path)
    sys.path.insert(0, str(REPO / "bench"))
    try:
        harness = importlib.import_module("crash_harness")
    finally:
        sys.path.remove(str(REPO / "bench"))
    tally = harness.Tally()
    conn = sqlite3.connect(project)
    try:
        harness.check_journal(conn, tally)
    finally:
        conn.close()
    assert tally.problems == []


# --- cloud-synced folders ------------------------------------------------------------------------

@pytest.mark.parametrize("parts", [
    ("Dropbox", "study"),
    ("Dropbox (Uni)", "study"),
    ("OneDrive - University of Baku", "project"),
    ("Library", "CloudStorage", "GoogleDrive-me@example.org", "My Drive"),
    ("Library", "Mobile Documents", "com~apple~CloudDocs"),
    ("Google Drive",),
    ("Nextcloud", "research"),
])
def test_synced_folders_are_recognised_by_name(tmp_path, monkeypatch, parts):
    for var in ("OneDrive", "OneDriveConsumer", "OneDriveCommercial"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path.joinpath(*parts)
    folder.mkdir(parents=True)
    assert synced_folder(folder / "p.db") is not None


@pytest.mark.parametrize("parts", [("studies",), ("megaproject",), ("Boxes",), ("work", "box"), ("dropboxes",)])
def test_ordinary_folders_are_not_flagged(tmp_path, monkeypatch, parts):
    for var in ("OneDrive", "OneDriveConsumer", "OneDriveCommercial"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path.joinpath(*parts)
    folder.mkdir(parents=True)
    assert synced_folder(folder / "p.db") is None


@pytest.mark.parametrize("marker", [".dropbox", ".stfolder", ".nextcloudsync.log"])
def test_synced_folders_are_recognised_by_their_client_marker(tmp_path, marker):
    root = tmp_path / "Work"
    (root / "deep" / "er").mkdir(parents=True)
    (root / marker).write_text("")
    assert synced_folder(root / "deep" / "er" / "p.db") == "Work"


def test_onedrive_is_recognised_by_its_environment_variable(tmp_path, monkeypatch):
    root = tmp_path / "Files of Org"
    root.mkdir()
    monkeypatch.setenv("OneDriveCommercial", str(root))
    assert synced_folder(root / "p.db") == "Files of Org"


def test_the_cli_warns_on_stderr_and_keeps_json_clean(tmp_path, monkeypatch):
    monkeypatch.delenv("QUALCODE_ALLOW_SYNCED", raising=False)
    folder = tmp_path / "Dropbox"
    folder.mkdir()
    path = folder / "p.db"
    assert qc("init", path).code == 0
    r = qc("--project", path, "documents", "--json")
    assert r.code == 0 and json.loads(r.out) == []
    assert r.err.startswith("warning:") and "Dropbox" in r.err and "cloud-synced" in r.err
    monkeypatch.setenv("QUALCODE_ALLOW_SYNCED", "1")
    assert warn_if_synced(path) is None
    assert qc("--project", path, "documents", "--json").err == ""
