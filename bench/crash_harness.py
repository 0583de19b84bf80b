"""Crash harness, the parent side: kill the worker at random moments and check what survived.

After each SIGKILL of the worker (crash_worker.py) the project must show:

- `PRAGMA integrity_check` ok and `PRAGMA foreign_key_check` empty;
- every acknowledged action: its event exists, in order, in the state the acknowledgements
  imply (undo and redo included); only the one in-flight action may be either way;
- nothing half-written: replaying the journals of the events in effect gives exactly the rows
  of every table (a row written outside an event, or an event missing its rows, shows); every
  coding's text is its document's text at its span; every document has its turns and
  sentences; every code's path follows the tree;
- every file under a backup's name is an intact SQLite database.

Used by tests/test_crash_harness.py (a few dozen kills) and bench/bench_crash.py (thousands).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crash_worker import parse, spawn, transcript  # noqa: E402


@dataclass
class Model:
    """Event ids in order and their states, as the acknowledgements say they must be."""
    order: list[str] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)

    def copy(self) -> "Model":
        return Model(list(self.order), dict(self.state))

    def change(self, event_id: str) -> None:
        for e in self.order:
            if self.state[e] == "undone":
                self.state[e] = "dropped"
        self.order.append(event_id)
        self.state[event_id] = "done"

    def undo(self) -> str | None:
        done = [e for e in self.order if self.state[e] == "done"]
        if done:
            self.state[done[-1]] = "undone"
            return done[-1]
        return None

    def redo(self) -> str | None:
        undone = [e for e in self.order if self.state[e] == "undone"]
        if undone:
            self.state[undone[0]] = "done"
            return undone[0]
        return None


@dataclass
class Tally:
    kills: int = 0
    actions_tried: int = 0
    actions_acknowledged: int = 0
    refused: int = 0
    lost: int = 0
    in_flight_committed: int = 0
    in_flight_absent: int = 0
    backups_checked: int = 0
    problems: list[str] = field(default_factory=list)
    acknowledged_by_action: dict[str, int] = field(default_factory=dict)
    killed_during: dict[str, int] = field(default_factory=dict)   # the in-flight action at each kill


def read_log(log_path: Path) -> tuple[list[dict], tuple[str, str] | None, int]:
    """(acknowledgements, in-flight (kind, action) or None, intents) from complete lines only."""
    acks, pending, intents = [], None, 0
    data = log_path.read_bytes() if log_path.exists() else b""
    for line in data.decode("utf-8", "replace").split("\n")[:-1]:  # a torn last line is not complete
        kind, _, rest = line.partition("\t")
        if kind == "I":
            intents += 1
            _, k, name = rest.split("\t")
            pending = (k, name)
        elif kind == "A":
            acks.append(json.loads(rest))
            pending = None
    return acks, pending, intents


def check_events(conn, model: Model, acks: list[dict], pending, tally: Tally) -> Model:
    """Acknowledged actions are all there; returns the model as the project now is."""
    expected = model.copy()
    for ack in acks:
        if ack["status"] != "ok":
            tally.refused += 1
        if ack["kind"] == "change":
            for e in ack["new_events"]:
                expected.change(e)
        elif ack["kind"] in ("undo", "redo"):
            flipped = getattr(expected, ack["kind"])()
            if flipped != ack.get("event"):
                tally.problems.append(f"{ack['kind']} acknowledged {ack.get('event')} but the model says {flipped}")
    rows = conn.execute("SELECT id, state FROM events ORDER BY seq").fetchall()
    actual = Model([r[0] for r in rows], {r[0]: r[1] for r in rows})
    candidates = [expected]
    if pending:
        alt = expected.copy()
        if pending[0] == "change" and len(actual.order) == len(expected.order) + 1:
            alt.change(actual.order[-1])
        elif pending[0] in ("undo", "redo"):
            getattr(alt, pending[0])()
        candidates.append(alt)
    for i, c in enumerate(candidates):
        if c.order == actual.order and c.state == actual.state:
            if i == 1 and (c.order != expected.order or c.state != expected.state):
                tally.in_flight_committed += 1
            elif pending:
                tally.in_flight_absent += 1
            return actual
    missing = [e for e in expected.order if e not in actual.state]
    wrong = [e for e in expected.order if e in actual.state and actual.state[e] != expected.state[e]]
    tally.lost += max(1, len(missing) + len(wrong))
    tally.problems.append(f"events differ from the acknowledgements: {len(missing)} missing, {len(wrong)} in the "
                          f"wrong state, {len(actual.order) - len(expected.order)} extra (in flight: {pending})")
    return actual


def check_journal(conn, tally: Tally) -> None:
    """Replaying the journals of the events in effect must give exactly the rows in the tables."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                                         "('events', 'meta', 'sqlite_sequence')")]
    model: dict[str, dict[str, dict]] = {t: {} for t in tables}
    for (ops,) in conn.execute("SELECT ops FROM events WHERE state = 'done' ORDER BY seq"):
        for op in json.loads(ops):
            rows = model.setdefault(op["table"], {})
            if op["op"] == "insert":
                for r in op.get("rows") or [{"id": i} for i in op["ids"]]:
                    if r["id"] in rows:
                        tally.problems.append(f"journal inserts {op['table']} {r['id']} twice")
                    rows[r["id"]] = dict(r)
            elif op["op"] == "delete":
                for r in op["rows"]:
                    if rows.pop(r["id"], None) is None:
                        tally.problems.append(f"journal deletes {op['table']} {r['id']} that it never had")
            else:
                if op["id"] not in rows:
                    tally.problems.append(f"journal updates {op['table']} {op['id']} that it never had")
                rows.setdefault(op["id"], {"id": op["id"]}).update(op["after"])
    conn.row_factory = sqlite3.Row
    try:
        for table in tables:
            actual = {r["id"]: r for r in conn.execute(f"SELECT * FROM {table}")}
            expected = model.get(table, {})
            if set(actual) != set(expected):
                extra, gone = set(actual) - set(expected), set(expected) - set(actual)
                tally.problems.append(f"{table}: {len(extra)} rows no event wrote, "
                                      f"{len(gone)} rows an event wrote are gone")
                continue
            for rid, known in expected.items():
                row = actual[rid]
                bad = [k for k, v in known.items() if row[k] != v]
                if bad:
                    tally.problems.append(f"{table} {rid}: {bad} differ from the journal")
                    break
    finally:
        conn.row_factory = None


CONTENT_CHECKS = {
    "a coding's text is not its document's text at its span":
        "SELECT c.id FROM codings c JOIN documents d ON d.id = c.document_id "
        "WHERE substr(d.text, c.start + 1, c.\"end\" - c.start) != c.text OR c.\"end\" > length(d.text)",
    "a document has no turns or no sentences":
        "SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM turns t WHERE t.document_id = d.id) "
        "OR NOT EXISTS (SELECT 1 FROM sentences s WHERE s.document_id = d.id)",
    "a sentence runs past its document's end":
        "SELECT s.id FROM sentences s JOIN documents d ON d.id = s.document_id WHERE s.\"end\" > length(d.text)",
    "a code's path does not follow the tree":
        "SELECT c.id FROM codes c LEFT JOIN codes p ON p.id = c.parent_id "
        "WHERE c.path != CASE WHEN c.parent_id IS NULL THEN c.name ELSE p.path || '/' || c.name END",
}


def check_backups(db: Path, seen: set[str], tally: Tally) -> None:
    from qualcode.store.backup import list_backups

    for path in list_backups(db):
        if path.name in seen:
            continue
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            ok = str(exc)
        if ok != "ok":
            tally.problems.append(f"backup {path.name} is damaged: {ok}")
        seen.add(path.name)
        tally.backups_checked += 1


def verify(db: Path, model: Model, log_path: Path, tally: Tally, seen_backups: set[str]) -> Model:
    acks, pending, intents = read_log(log_path)
    tally.actions_tried += intents
    tally.actions_acknowledged += sum(1 for a in acks if a["status"] == "ok")
    for a in (a for a in acks if a["status"] == "ok"):
        tally.acknowledged_by_action[a["action"]] = tally.acknowledged_by_action.get(a["action"], 0) + 1
    if pending:
        tally.killed_during[pending[1]] = tally.killed_during.get(pending[1], 0) + 1
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchall()
        if [r[0] for r in ok] != ["ok"]:
            tally.problems.append(f"integrity_check: {ok[:3]}")
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            tally.problems.append(f"foreign_key_check: {len(fk)} rows point nowhere, e.g. {fk[0]}")
        model = check_events(conn, model, acks, pending, tally)
        check_journal(conn, tally)
        for what, sql in CONTENT_CHECKS.items():
            if conn.execute(sql).fetchone():
                tally.problems.append(what)
    finally:
        conn.close()
    check_backups(db, seen_backups, tally)
    return model


def setup(db: Path, seed: int) -> Model:
    """A fresh project built through the write path: three transcripts and the study codebook."""
    from qualcode.codebook import import_specs
    from qualcode.codebook_files import load
    from qualcode.documents import store_documents
    from qualcode.store.project import Project

    rng = random.Random(seed)
    codebook = Path(__file__).resolve().parents[1] / "codebooks" / "remittances.yaml"
    with Project(db, create=True) as project:
        store_documents(project, [parse(f"T{i}", transcript(rng)) for i in range(3)])
        import_specs(project, load(codebook)[1], summary="Loaded the study codebook")
        rows = project.query("SELECT id, state FROM events ORDER BY seq")
    return Model([r["id"] for r in rows], {r["id"]: r["state"] for r in rows})


def run(folder: Path, kills: int, seed: int = 1, max_delay: float = 0.15, round_size: int = 50,
        progress=None) -> Tally:
    """`kills` kill-and-check rounds; a fresh project every `round_size` kills keeps checks quick."""
    from qualcode.nlp.pipeline import sentencizer

    sentencizer("en")  # load spaCy once, before forking
    rng = random.Random(seed)
    tally = Tally()
    folder.mkdir(parents=True, exist_ok=True)
    db, model, seen = None, Model(), set()
    for k in range(kills):
        if k % round_size == 0:
            db = folder / f"crash-{seed}-{k // round_size}.db"
            model, seen = setup(db, seed * 1000 + k), set()
        log_path = folder / f"actions-{k}.log"
        log_path.write_bytes(b"")
        pid = spawn(db, log_path, seed * 100003 + k)
        time.sleep(rng.random() * max_delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        tally.kills += 1
        err = Path(str(log_path) + ".err")
        if err.exists():  # the child stopped on its own: an unexpected error in the write path
            tally.problems.append(f"kill {k}: the child failed before the kill:\n{err.read_text(encoding='utf-8')}")
        model = verify(db, model, log_path, tally, seen)
        log_path.unlink()
        if progress:
            progress(k + 1, tally)
        if tally.problems:
            break
    return tally
