"""Crash safety, short form: random actions through the write path, SIGKILLed at random moments.

The long form (1,000+ kills) is bench/bench_crash.py; both use bench/crash_harness.py. The
last tests plant each kind of damage the checks look for, so a passing run means something.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import sys

import pytest

from support import REPO

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the harness forks its worker")


@pytest.fixture(scope="module")
def harness():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        yield importlib.import_module("crash_harness")
    finally:
        sys.path.remove(str(REPO / "bench"))


def test_random_kills_lose_no_acknowledged_action(harness, tmp_path):
    tally = harness.run(tmp_path, kills=30, seed=8, max_delay=0.12, round_size=15)
    assert tally.problems == []
    assert tally.kills == 30
    assert tally.lost == 0
    assert tally.actions_acknowledged >= 30  # the worker really worked between kills


# --- the checks notice damage ------------------------------------------------------------------

@pytest.fixture
def built(harness, tmp_path):
    db = tmp_path / "p.db"
    model = harness.setup(db, seed=3)
    return db, model


def _verify(harness, db, model, tmp_path, log_lines=()):
    log = tmp_path / "actions.log"
    log.write_text("".join(line + "\n" for line in log_lines), encoding="utf-8")
    tally = harness.Tally()
    harness.verify(db, model, log, tally, set())
    return tally


def test_an_intact_project_passes(harness, built, tmp_path):
    db, model = built
    assert _verify(harness, db, model, tmp_path).problems == []


def test_a_row_written_outside_an_event_is_noticed(harness, built, tmp_path):
    db, model = built
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO coders (id, name, created_at) VALUES ('x', 'ghost', 'now')")
    conn.commit()
    conn.close()
    assert any("rows no event wrote" in p for p in _verify(harness, db, model, tmp_path).problems)


def test_an_event_without_its_rows_is_noticed(harness, built, tmp_path):
    db, model = built
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM sentences WHERE rowid IN (SELECT rowid FROM sentences LIMIT 3)")
    conn.commit()
    conn.close()
    assert any("rows an event wrote are gone" in p for p in _verify(harness, db, model, tmp_path).problems)


def test_an_acknowledged_action_that_is_missing_counts_as_lost(harness, built, tmp_path):
    db, model = built
    ack = {"n": 0, "action": "code", "kind": "change", "status": "ok", "new_events": ["f" * 32]}
    tally = _verify(harness, db, model, tmp_path, ["I\t0\tchange\tcode", "A\t" + json.dumps(ack)])
    assert tally.lost == 1 and tally.problems


def test_an_acknowledged_undo_that_did_not_stick_counts_as_lost(harness, built, tmp_path):
    db, model = built
    ack = {"n": 0, "action": "undo", "kind": "undo", "status": "ok", "new_events": [], "event": model.order[-1]}
    tally = _verify(harness, db, model, tmp_path, ["I\t0\tundo\tundo", "A\t" + json.dumps(ack)])
    assert tally.lost == 1


def test_the_in_flight_action_may_have_landed_or_not(harness, built, tmp_path):
    db, model = built
    from qualcode.store.project import Project
    with Project(db) as p:
        p.undo()
    # killed after the undo committed but before its acknowledgement: fine either way
    tally = _verify(harness, db, model, tmp_path, ["I\t0\tundo\tundo"])
    assert tally.problems == [] and tally.in_flight_committed == 1


def test_a_coding_that_no_longer_matches_its_text_is_noticed(harness, built, tmp_path):
    db, model = built
    from qualcode.coding import apply_code
    from qualcode.store.project import Project
    with Project(db) as p:
        apply_code(p, "T0", 0, 5, p.one("SELECT path FROM codes LIMIT 1")[0])
        rows = p.query("SELECT id, state FROM events ORDER BY seq")
    model = harness.Model([r["id"] for r in rows], {r["id"]: r["state"] for r in rows})
    conn = sqlite3.connect(db)
    conn.execute("UPDATE codings SET start = start + 1")
    conn.commit()
    conn.close()
    problems = _verify(harness, db, model, tmp_path).problems
    assert "a coding's text is not its document's text at its span" in problems


def test_a_torn_backup_is_noticed(harness, built, tmp_path):
    db, model = built
    folder = tmp_path / "p.db.backups"
    folder.mkdir()
    (folder / "p-20260101-000000-000000.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    assert any("backup" in p for p in _verify(harness, db, model, tmp_path).problems)
