"""Files holding transcripts are readable by their owner only: the project, its -wal and -shm,
backups and their folder, restored projects; and (where the writer honours it) exports."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from support import qc
from qualcode.store import backup
from qualcode.store.project import Project

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask (group and others may read): our files must be private regardless."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_projects_made_by_init_and_by_import_are_owner_only(tmp_path, project):
    assert qc("init", tmp_path / "empty.db").code == 0
    assert mode(tmp_path / "empty.db") == 0o600
    assert mode(project) == 0o600  # created by `qualcode import`


def test_wal_and_shm_files_are_owner_only(project):
    with Project(project) as p:
        with p.change("memo", "touch") as ch:
            ch.set_setting("touched", True)
        for suffix in ("-wal", "-shm"):
            side = project.parent / (project.name + suffix)
            assert side.exists() and mode(side) == 0o600, suffix


def test_backups_their_folder_and_log_are_owner_only(project):
    assert qc("--project", project, "backup").code == 0
    folder = backup.backup_dir(project)
    assert mode(folder) == 0o700
    [made] = backup.list_backups(project)
    assert mode(made) == 0o600
    assert mode(folder / backup.LOG) == 0o600


def test_a_project_restored_in_place_of_a_damaged_one_is_owner_only(project):
    qc("--project", project, "backup")
    for suffix in ("-wal", "-shm"):
        (project.parent / (project.name + suffix)).unlink(missing_ok=True)
    project.write_bytes(b"not a database" * 100)
    assert qc("--project", project, "restore").code == 0
    assert mode(project) == 0o600


EXPORTS = [
    ("codings.json", ["codings", "export", "--json", "-o", "{out}"]),
    ("codebook.yaml", ["codebook", "export", "{out}"]),
    ("codebook.qdc", ["codebook", "export", "{out}"]),
    ("quotes.csv", ["export", "quotes", "--format", "csv", "-o", "{out}"]),
    ("frequencies.csv", ["report", "frequencies", "-o", "{out}"]),
    ("project.qdpx", ["export", "qdpx", "{out}"]),
]


@pytest.mark.parametrize("name,command", EXPORTS, ids=[e[0] for e in EXPORTS])
def test_exports_are_owner_only(project, tmp_path, name, command):
    qc("--project", project, "code", "EI01", "60", "120", "Barriers/Trust")
    out = tmp_path / name
    r = qc("--project", project, *[a.format(out=out) for a in command])
    if r.code != 0 and ("No such command" in r.err or "no such option" in r.err.lower()):
        pytest.skip(f"`{' '.join(command[:2])}` is not available")
    assert r.code == 0, r.err
    assert mode(out) == 0o600
