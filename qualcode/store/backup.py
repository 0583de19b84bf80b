"""Rotating backups through SQLite's online backup API, and restoring them.

A backup is a complete, single-file copy of the project (rollback-journal mode, owner-only) in
`<project>.backups/`. It is written under a temporary name and renamed into place, so a crash
never leaves a half-written file under a backup's name. `backups.log` records for each backup
the state it holds (the latest event, how many events are in effect, the schema version), so
`rotate()` can skip the copy when nothing changed since the last backup: cheap enough to call
every time the app closes.

Restoring first backs up the current state, then copies the backup over the project through the
backup API in one write transaction: a failure or crash part-way leaves the project as it was.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from qualcode.errors import QualcodeError

KEEP = 10
LOG = "backups.log"
_BUSY = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
_STALE_TMP_SECONDS = 600


@dataclass
class Backup:
    path: Path
    created: str          # ISO timestamp (UTC)
    reason: str
    state: str | None     # what rotate() compares to skip an unchanged copy

    @property
    def name(self) -> str:
        return self.path.name


def backup_dir(project_path: Path) -> Path:
    project_path = Path(project_path)
    return project_path.with_name(project_path.name + ".backups")


def state_of(conn: sqlite3.Connection) -> str | None:
    """A fingerprint of a project's content: latest event (seq and id), events in effect, schema.

    Every write goes through an event, and undo/redo move one cursor along the events, so two
    projects with the same fingerprint hold the same rows.
    """
    try:
        last = conn.execute("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        done = conn.execute("SELECT COUNT(*) FROM events WHERE state = 'done'").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.OperationalError:  # an older schema without events: always copy
        return None
    return f"{last[0] if last else 0}:{last[1] if last else '-'}:{done}:v{version}"


def rotate(project, reason: str = "", keep: int = KEEP, force: bool = False) -> Path:
    """Back the project up to <project>.backups/ and keep the newest `keep` backups.

    Returns the backup holding the project's current state. Unless `force`, no copy is made
    when the latest backup already holds this state (it is returned instead).
    """
    folder = backup_dir(project.path)
    folder.mkdir(mode=0o700, exist_ok=True)
    state = state_of(project.conn)
    if not force:
        latest = _latest(project.path)
        if state is not None and latest is not None and latest.state == state and latest.path.exists():
            return latest.path
    _remove_stale_tmp(folder)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{project.path.stem}-{stamp}.db"
    while target.exists():  # two backups in the same microsecond
        stamp += "x"
        target = folder / f"{project.path.stem}-{stamp}.db"
    copy_database(project.conn, folder / f".{target.name}.tmp", target)
    _append_log(folder, Backup(target, _now(), reason, state))
    _prune(project.path, keep)
    return target


def copy_database(source: sqlite3.Connection, tmp: Path, target: Path) -> None:
    """A consistent single-file copy of `source` at `target`, via a temporary file and a rename."""
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        dest = sqlite3.connect(tmp, isolation_level=None)
        try:
            source.backup(dest)
            # one self-contained file: no -wal beside it, readable by any SQLite, even read-only
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync(target.parent)
    except BaseException:
        for leftover in (tmp, Path(str(tmp) + "-journal")):
            leftover.unlink(missing_ok=True)
        raise


def list_backups(project_path: Path) -> list[Path]:
    """Backup files of a project, oldest first."""
    project_path = Path(project_path)
    return sorted(backup_dir(project_path).glob(f"{project_path.stem}-*.db"))


def backups(project_path: Path) -> list[Backup]:
    """Backups that exist, oldest first, with the reason and state recorded when they were made."""
    logged = _read_log(backup_dir(project_path))
    out = []
    for path in list_backups(project_path):
        entry = logged.get(path.name)
        if entry is None:
            created = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
            entry = Backup(path, created, "", None)
        out.append(Backup(path, entry.created, entry.reason, entry.state))
    return out


def describe(backup: Backup) -> dict:
    """What a backup holds, for listings (opens it read-only)."""
    info = {"name": backup.name, "path": str(backup.path), "created": backup.created, "reason": backup.reason,
            "bytes": backup.path.stat().st_size, "documents": None, "codings": None, "events": None}
    try:
        conn = _open_readonly(backup.path)
        try:
            for key, sql in (("documents", "SELECT COUNT(*) FROM documents"),
                             ("codings", "SELECT COUNT(*) FROM codings"),
                             ("events", "SELECT COUNT(*) FROM events WHERE state = 'done'")):
                info[key] = conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        info["reason"] = (info["reason"] + " (unreadable)").strip()
    return info


def find_backup(project_path: Path, ref: str | None = None) -> Backup:
    """The latest backup, or one named by file name, path, or number in `qualcode backups` (1 = newest)."""
    found = backups(project_path)
    if not ref:
        if not found:
            raise QualcodeError(f"{project_path} has no backups yet (they live in {backup_dir(project_path)})")
        return found[-1]
    newest_first = list(reversed(found))
    if ref.isdigit() and 1 <= int(ref) <= len(found):
        return newest_first[int(ref) - 1]
    for b in newest_first:
        if ref in (b.name, b.path.stem, str(b.path)) or Path(ref).resolve() == b.path.resolve():
            return b
    if Path(ref).is_file():  # a copy kept elsewhere
        return Backup(Path(ref), "", "", None)
    raise QualcodeError(f"no backup {ref!r}; `qualcode backups` lists them")


def check_backup(path: Path) -> None:
    """Refuse a file that is not an intact qualcode project this version can read."""
    from qualcode.store import schema

    try:
        conn = _open_readonly(path)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise QualcodeError(f"{path.name} cannot be restored: it is not a readable SQLite file ({exc})") from None
    if app_id != schema.APPLICATION_ID:
        raise QualcodeError(f"{path.name} cannot be restored: it is not a qualcode project")
    if ok != "ok":
        raise QualcodeError(f"{path.name} cannot be restored: it is damaged ({ok})")
    if version > schema.SCHEMA_VERSION:
        raise QualcodeError(f"{path.name} was written by a newer qualcode (schema {version}); upgrade to restore it")


def restore(project_path: Path, ref: str | None = None) -> dict:
    """Put a backup's content into the project, after backing up what is there now.

    The copy runs through the backup API into the open project, one write transaction, so a
    failure leaves the project as it was. A project that cannot be opened (damaged, missing) is
    moved aside instead of overwritten, and the backup is copied to its place.
    """
    from qualcode.store.project import Project

    project_path = Path(project_path)
    chosen = find_backup(project_path, ref)
    check_backup(chosen.path)
    result = {"restored": chosen.name, "from": str(chosen.path), "created": chosen.created,
              "reason": chosen.reason, "previous": None, "moved_aside": None}
    try:
        project = Project(project_path) if project_path.exists() else None
    except QualcodeError:
        project = None
    if project is None:
        # a complete copy first, beside the project; only then the damaged file makes way for it
        staged = project_path.with_name(f".{project_path.name}.restored")
        tmp = project_path.with_name(f".{project_path.name}.restoring.tmp")
        for leftover in (tmp, staged):  # from a restore that crashed
            leftover.unlink(missing_ok=True)
        src = _open_readonly(chosen.path)
        try:
            copy_database(src, tmp, staged)
        finally:
            src.close()
        _set_wal(staged)
        result["moved_aside"] = _move_aside(project_path)
        os.replace(staged, project_path)
        _fsync(project_path.parent)
        return result
    try:
        result["previous"] = rotate(project, f"before restoring {chosen.name}").name
        _copy_into(chosen.path, project)
        ok = project.conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            raise QualcodeError(f"the restored project failed its integrity check ({ok}); "
                                f"`qualcode restore {result['previous']}` puts back the state before")
    finally:
        project.close()
    return result


# --- internals ---------------------------------------------------------------------------------

def _copy_into(backup_path: Path, project) -> None:
    """Backup API, backup → live project: one write transaction on the project, busy-aware."""
    from qualcode.store.project import _locked, busy_timeout_ms

    conn = project.conn
    try:  # fail fast with the usual message when another window or command is writing
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        raise _locked(project.path, exc) from None
    deadline = time.monotonic() + busy_timeout_ms() / 1000

    def progress(status, remaining, total):
        # sqlite3's backup loop retries a busy destination forever; give up like a write would
        if status in _BUSY and time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")

    src = _open_readonly(backup_path)
    try:
        src.backup(conn, progress=progress)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _locked(project.path, exc) from None
        raise QualcodeError(f"restore failed, the project is unchanged ({exc})") from None
    finally:
        src.close()


def _open_readonly(path: Path) -> sqlite3.Connection:
    with open(path, "rb") as fh:
        header = fh.read(20)
    if len(header) == 20 and header[18] == 2:
        # a WAL-mode copy (first-release backups): a read-only connection would leave -wal and
        # -shm behind; a normal one, used only to read, removes them when it closes
        return sqlite3.connect(path)
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _move_aside(project_path: Path) -> str | None:
    if not project_path.exists():
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = project_path.with_name(f"{project_path.name}.before-restore-{stamp}")
    for suffix in ("-wal", "-shm", ""):
        src = Path(str(project_path) + suffix)
        if src.exists():
            os.replace(src, Path(str(aside) + suffix))
    return str(aside)


def _set_wal(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _latest(project_path: Path) -> Backup | None:
    found = backups(project_path)
    return found[-1] if found else None


def _read_log(folder: Path) -> dict[str, Backup]:
    """name -> Backup from backups.log; lines are `name<TAB>created<TAB>state<TAB>reason`."""
    out: dict[str, Backup] = {}
    try:
        lines = (folder / LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        parts = line.split("\t")
        if len(parts) >= 4:
            out[parts[0]] = Backup(folder / parts[0], parts[1], parts[3], parts[2] or None)
        elif len(parts) == 2:  # the first release wrote `name<TAB>reason`
            out[parts[0]] = Backup(folder / parts[0], "", parts[1], None)
    return out


def _append_log(folder: Path, b: Backup) -> None:
    reason = " ".join(b.reason.split())
    fd = os.open(folder / LOG, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as log:
        log.write(f"{b.name}\t{b.created}\t{b.state or ''}\t{reason}\n")


def _prune(project_path: Path, keep: int) -> None:
    files = list_backups(project_path)
    for old in files[:-keep] if keep > 0 else []:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(old) + suffix).unlink(missing_ok=True)
    folder = backup_dir(project_path)
    logged = _read_log(folder)
    if len(logged) > 4 * max(keep, 1):  # keep the log as short as the folder
        alive = {p.name for p in list_backups(project_path)}
        lines = [line for line in (folder / LOG).read_text(encoding="utf-8").splitlines()
                 if line.split("\t", 1)[0] in alive]
        tmp = folder / f".{LOG}.tmp"
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
        os.replace(tmp, folder / LOG)


def _remove_stale_tmp(folder: Path) -> None:
    """Temporary copies left by a crash mid-backup (a fresh one may be another process's)."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    for tmp in folder.glob(".*.tmp*"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories
    finally:
        os.close(fd)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
