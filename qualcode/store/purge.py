"""Forgetting on purpose: emptying the undo journal up to an event, and rewriting the file.

Undo replays the journal, so the journal holds every old value; backups hold old copies; and
SQLite keeps old pages in free space and in the write-ahead log. When old values must not
survive (anonymisation), purge_journal() empties the journal's operations up to and including
one event (those changes can no longer be undone; who did what and when stays, with each summary
passed through `scrub`), deletes the backups, and rewrites the file with secure_delete, VACUUM
and a truncating WAL checkpoint.
"""

from __future__ import annotations

import json
from typing import Callable

from qualcode.store.project import Project, new_id, now


def purge_journal(project: Project, up_to_seq: int, scrub: Callable[[str], str] | None, summary: str,
                  settings: dict | None = None) -> dict:
    """Returns {"events": n emptied, "backups_removed": n, "file_rewritten": bool}."""
    from qualcode.store import backup

    conn = project.conn
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        events = conn.execute("SELECT seq, summary FROM events WHERE seq <= ?", (up_to_seq,)).fetchall()
        # 'purged': kept in the history, never replayed by undo or redo
        conn.execute("UPDATE events SET ops = '[]', state = CASE state WHEN 'done' THEN 'purged' ELSE 'dropped' END "
                     "WHERE seq <= ?", (up_to_seq,))
        for ev in events if scrub else []:
            scrubbed = scrub(ev["summary"])
            if scrubbed != ev["summary"]:
                conn.execute("UPDATE events SET summary = ? WHERE seq = ?", (scrubbed, ev["seq"]))
        conn.execute("INSERT INTO events (id, ts, coder, kind, summary, ops, state) "
                     "VALUES (?, ?, NULL, 'purge', ?, '[]', 'purged')", (new_id(), now(), summary))
        # written directly, not through a change: they describe the journal itself and must not be undone
        for key, value in (settings or {}).items():
            conn.execute("INSERT OR REPLACE INTO settings (id, value) VALUES (?, ?)",
                         (key, json.dumps(value, ensure_ascii=False)))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    removed = 0
    for old in backup.list_backups(project.path):
        old.unlink(missing_ok=True)
        removed += 1
    try:
        conn.execute("VACUUM")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except Exception:   # another connection holds the file: old pages stay until it lets go
        busy = 1
    return {"events": len(events), "backups_removed": removed, "file_rewritten": not busy}
