"""Opening a project file, the one write path, and undo/redo built on its events.

Every change goes through `Project.change()`: the rows it writes and an event describing
them are committed in one SQLite transaction, so a crash loses nothing that was reported
done and leaves nothing half-written. The event's `ops` journal is what undo and redo replay.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from qualcode.errors import QualcodeError
from qualcode.store import schema

BUSY_TIMEOUT_MS = 5000


# changes that are not the researcher's work (measuring suggestion quality, remembering who codes):
# undo and redo step over them, and they leave the redo history alone
BOOKKEEPING_KINDS = ("evaluate", "preference")
_BOOKKEEPING_SQL = "(" + ", ".join(f"'{k}'" for k in BOOKKEEPING_KINDS) + ")"


def busy_timeout_ms() -> int:
    """How long a write waits for another window or command to finish ($QUALCODE_BUSY_TIMEOUT_MS)."""
    try:
        return max(0, int(os.environ.get("QUALCODE_BUSY_TIMEOUT_MS", BUSY_TIMEOUT_MS)))
    except ValueError:
        return BUSY_TIMEOUT_MS


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_id() -> str:
    return uuid.uuid4().hex


def default_project_path() -> Path:
    return Path(os.environ.get("QUALCODE_PROJECT") or "qualcode.db")


def open_project(path: str | os.PathLike | None = None, create: bool = False) -> "Project":
    return Project(Path(path) if path else default_project_path(), create=create)


class Project:
    """A qualcode project: one SQLite file."""

    def __init__(self, path: Path, create: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            raise QualcodeError(f"{self.path} is a folder, not a project file")
        is_new = not self.path.exists()
        if is_new and not create:
            raise QualcodeError(f"no project at {self.path}; create one with `qualcode init {self.path}` "
                                "or import a transcript")
        if is_new:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # owner-only from the first byte: transcripts are sensitive
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self.conn = self._connect(self.path)
        try:
            if is_new:
                schema.create(self.conn)
            else:
                self._check_and_migrate()
        except BaseException:
            self.conn.close()
            if is_new:
                _remove_db_files(self.path)
            raise

    # --- connection --------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        timeout_ms = busy_timeout_ms()
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout_ms / 1000)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            # FULL: each commit reaches the disk before it is reported done. WAL's usual NORMAL can
            # lose the latest commits to a power cut or OS crash (a few ms per change: bench/RESULTS.md)
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise QualcodeError(f"{path} is not a qualcode project ({exc})") from None
        return conn

    def _check_and_migrate(self) -> None:
        try:
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise QualcodeError(f"{self.path} is not a qualcode project ({exc})") from None
        if app_id != schema.APPLICATION_ID:
            raise QualcodeError(f"{self.path} is not a qualcode project (it is some other SQLite file)")
        if version > schema.SCHEMA_VERSION:
            raise QualcodeError(f"{self.path} was written by a newer qualcode (schema {version}, this one "
                                f"reads up to {schema.SCHEMA_VERSION}); upgrade qualcode to open it")
        if version < schema.SCHEMA_VERSION:
            from qualcode.store import backup
            backup.rotate(self, reason=f"before migration from schema {version}")
            schema.migrate(self.conn, version)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def db(self):
        """A sqlite-utils view of the same connection, for reads and introspection."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    def data_version(self) -> int:
        """Changes when another connection commits: how the app notices CLI edits."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # --- reads -------------------------------------------------------------------------

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.one("SELECT value FROM settings WHERE id = ?", (key,))
        return json.loads(row["value"]) if row else default

    # --- the write path ----------------------------------------------------------------

    @contextmanager
    def change(self, kind: str, summary: str, coder: str | None = None) -> Iterator["Change"]:
        """One user-visible change: its rows and its event, in one transaction."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _locked(self.path, exc) from None
        ch = Change(self, kind, summary, coder or current_coder(self))
        try:
            yield ch
            if ch.ops:
                # a new change ends the redo history (bookkeeping the researcher did not do leaves it)
                if kind not in BOOKKEEPING_KINDS:
                    self.conn.execute("UPDATE events SET state = 'dropped' WHERE state = 'undone'")
                self.conn.execute(
                    "INSERT INTO events (id, ts, coder, kind, summary, ops) VALUES (?, ?, ?, ?, ?, ?)",
                    (ch.event_id, now(), ch.coder, kind, ch.summary, json.dumps(ch.ops, ensure_ascii=False)))
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise _locked(self.path, exc) from None
            if isinstance(exc, sqlite3.IntegrityError):
                raise QualcodeError(f"the change was refused by the project's rules ({exc}); nothing was saved") from None
            raise

    def history(self, limit: int = 50) -> list[sqlite3.Row]:
        return self.query("SELECT seq, id, ts, coder, kind, summary, state FROM events "
                          "WHERE state != 'dropped' ORDER BY seq DESC LIMIT ?", (limit,))

    def undo(self) -> sqlite3.Row | None:
        """Reverse the latest change still in effect; returns its event, or None."""
        return self._replay(f"SELECT * FROM events WHERE state = 'done' AND kind NOT IN {_BOOKKEEPING_SQL} "
                            "ORDER BY seq DESC LIMIT 1", backwards=True)

    def redo(self) -> sqlite3.Row | None:
        return self._replay(f"SELECT * FROM events WHERE state = 'undone' AND kind NOT IN {_BOOKKEEPING_SQL} "
                            "ORDER BY seq ASC LIMIT 1", backwards=False)

    def _replay(self, select: str, backwards: bool) -> sqlite3.Row | None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _locked(self.path, exc) from None
        try:
            event = self.one(select)
            if event is None:
                self.conn.execute("ROLLBACK")
                return None
            ops = json.loads(event["ops"])
            for op in (reversed(ops) if backwards else ops):
                _apply(self.conn, op, backwards)
            self.conn.execute("UPDATE events SET state = ?, ops = ? WHERE seq = ?",
                              ("undone" if backwards else "done", json.dumps(ops, ensure_ascii=False), event["seq"]))
            self.conn.execute("COMMIT")
            return event
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise


class Change:
    """The rows one change writes, journalled so undo and redo can replay them."""

    def __init__(self, project: Project, kind: str, summary: str, coder: str | None):
        self.project = project
        self.conn = project.conn
        self.kind = kind
        self.summary = summary
        self.coder = coder
        self.event_id = new_id()
        self.ops: list[dict] = []

    def insert(self, table: str, row: dict) -> str:
        self.insert_many(table, [row])
        return row["id"]

    def insert_many(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(_q(c) for c in cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[r[c] for c in cols] for r in rows])
        self.ops.append({"op": "insert", "table": table, "ids": [r["id"] for r in rows]})

    def update(self, table: str, row_id: str, values: dict) -> None:
        before = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if before is None:
            raise QualcodeError(f"nothing to change: {table} {row_id} does not exist")
        old = {k: before[k] for k in values}
        if old == values:
            return
        self.conn.execute(f"UPDATE {table} SET {', '.join(f'{_q(k)} = ?' for k in values)} WHERE id = ?",
                          [*values.values(), row_id])
        self.ops.append({"op": "update", "table": table, "id": row_id, "before": old, "after": values})

    def delete(self, table: str, row_id: str) -> None:
        self.delete_where(table, "id = ?", (row_id,))

    def delete_where(self, table: str, where: str, params: Any = ()) -> int:
        rows = [dict(r) for r in self.conn.execute(f"SELECT * FROM {table} WHERE {where}", params)]
        if rows:
            self.conn.executemany(f"DELETE FROM {table} WHERE id = ?", [(r["id"],) for r in rows])
            self.ops.append({"op": "delete", "table": table, "rows": rows})
        return len(rows)

    def set_setting(self, key: str, value: Any) -> None:
        encoded = json.dumps(value, ensure_ascii=False)
        if self.conn.execute("SELECT 1 FROM settings WHERE id = ?", (key,)).fetchone():
            self.update("settings", key, {"value": encoded})
        else:
            self.insert("settings", {"id": key, "value": encoded})


def _apply(conn: sqlite3.Connection, op: dict, backwards: bool) -> None:
    """Replay one journal entry forwards (redo) or backwards (undo)."""
    table = op["table"]
    kind = op["op"]
    if kind == "update":
        values = op["before"] if backwards else op["after"]
        conn.execute(f"UPDATE {table} SET {', '.join(f'{_q(k)} = ?' for k in values)} WHERE id = ?",
                     [*values.values(), op["id"]])
        return
    removing = (kind == "insert") == backwards
    if removing:
        ids = op.get("ids") or [r["id"] for r in op["rows"]]
        marks = ",".join("?" * len(ids))
        rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE id IN ({marks})", ids)] if ids else []
        order = {i: n for n, i in enumerate(ids)}
        op["rows"] = sorted(rows, key=lambda r: order[r["id"]])
        op.pop("ids", None)
        conn.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])
    else:
        rows = op["rows"]
        if rows:
            cols = list(rows[0])
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(_q(c) for c in cols)}) VALUES ({', '.join('?' * len(cols))})",
                [[r[c] for c in cols] for r in rows])


def _q(name: str) -> str:
    return f'"{name}"'


def _locked(path: Path, exc: Exception) -> QualcodeError:
    return QualcodeError(f"{path} is busy: another qualcode window or command is writing to it; "
                         "try again in a moment")


def _remove_db_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(str(path) + suffix)
        except FileNotFoundError:
            pass


def current_coder(project: Project | None = None, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get("QUALCODE_CODER"):
        return os.environ["QUALCODE_CODER"]
    if project is not None:
        stored = project.setting("coder")
        if stored:
            return stored
    try:
        return getpass.getuser()
    except Exception:
        return "coder"
