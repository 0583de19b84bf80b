"""Crash safety: thousands of random actions through the write path, SIGKILLed at random moments.

The harness (bench/crash_harness.py, worker in bench/crash_worker.py) kills a worker process
that codes, uncodes, writes memos, edits and imports codebooks, imports and replaces documents,
accepts and rejects suggestions, undoes, redoes and backs up, then checks after every kill that
the project is intact, every acknowledged action is there and nothing is half-written.

Baselines measured in the same run: the cost of a durable commit (synchronous=FULL, what
projects use) against WAL's usual synchronous=NORMAL; and the cost of a backup of the demo
project against a plain file copy, and of the on-exit backup when nothing changed.

    .venv/bin/python bench/bench_crash.py [--kills 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import best_of, median_of, record  # noqa: E402
from crash_harness import run  # noqa: E402
from crash_worker import PLAN  # noqa: E402

MAX_DELAY = 0.3


def commit_cost(tmp: Path) -> dict[str, float]:
    """Milliseconds per coding (one change each) with each synchronous setting."""
    from crash_harness import setup

    from qualcode.coding import apply_code
    from qualcode.store.project import Project

    db = tmp / "commits.db"
    setup(db, seed=7)
    out = {}
    with Project(db) as p:
        codes = [r[0] for r in p.query("SELECT path FROM codes")]
        n = 200
        counter = iter(range(10**9))  # every coding new (a repeated one writes nothing)
        for mode in ("NORMAL", "FULL"):
            p.conn.execute(f"PRAGMA synchronous = {mode}")

            def batch():
                for i in range(n):
                    k = next(counter)
                    apply_code(p, "T0", k % 40, k % 40 + 5, codes[k % len(codes)], f"coder-{k}")

            out[mode] = median_of(batch, repeat=3) / n * 1000
    return out


def backup_cost(tmp: Path) -> dict:
    from qualcode.demo import build_demo
    from qualcode.store import backup
    from qualcode.store.project import Project

    db = tmp / "demo.db"
    build_demo(db)
    with Project(db) as p:
        p.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.stat().st_size
        copy = best_of(lambda: shutil.copyfile(db, tmp / "plain-copy.db"), repeat=5)
        full = best_of(lambda: backup.rotate(p, "bench", force=True), repeat=5)
        unchanged = best_of(lambda: backup.rotate(p, "on exit"), repeat=20)
    return {"size": size, "copy": copy, "full": full, "unchanged": unchanged}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    started = time.perf_counter()

    def progress(done, tally):
        if done % 50 == 0 or done == args.kills:
            print(f"{done}/{args.kills} kills, {tally.actions_tried} actions, {tally.lost} lost, "
                  f"{len(tally.problems)} problems, {time.perf_counter() - started:.0f} s", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        tally = run(Path(tmp) / "crash", args.kills, seed=args.seed, max_delay=MAX_DELAY, progress=progress)
        elapsed = time.perf_counter() - started
        commits = commit_cost(Path(tmp))
        backups = backup_cost(Path(tmp))
    by_action = sorted(PLAN, key=lambda name: -PLAN[name][0])
    lines = [
        f"{tally.kills:,} SIGKILLs, each 0–{MAX_DELAY * 1000:.0f} ms after the worker started; a fresh project "
        f"every 50 kills (3 generated transcripts + the study codebook); {elapsed:.0f} s in all.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| kills | {tally.kills:,} |",
        f"| actions tried | {tally.actions_tried:,} |",
        f"| actions acknowledged (function returned, ack fsynced) | {tally.actions_acknowledged:,} |",
        f"| refused with a user error (nothing written) | {tally.refused:,} |",
        f"| **acknowledged actions lost** | **{tally.lost}** |",
        f"| kills that hit an action after its commit, before its ack (kept) | {tally.in_flight_committed:,} |",
        f"| kills that hit an action before its commit (absent, as it must be) | {tally.in_flight_absent:,} |",
        f"| backup files checked intact | {tally.backups_checked:,} |",
        f"| failed checks (integrity, foreign keys, journal replay, spans, units, paths) | {len(tally.problems)} |",
        "",
        "Per action: weight in the random mix, times acknowledged, kills while it was in flight.",
        "",
        "| action | weight | acknowledged | killed during |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {PLAN[name][0]} | {tally.acknowledged_by_action.get(name, 0):,} | "
          f"{tally.killed_during.get(name, 0):,} |" for name in by_action],
        "",
        "Cost of durability, ms per change (a coding), median of 3 × 200: "
        f"synchronous=NORMAL (WAL's usual) {commits['NORMAL']:.2f} ms, synchronous=FULL (what projects use, so a "
        f"power cut cannot take back a change shown as saved) {commits['FULL']:.2f} ms.",
        "",
        f"Backups of the demo project ({backups['size'] / 2**20:.1f} MB), best of 5: plain file copy (baseline) "
        f"{backups['copy'] * 1000:.1f} ms; `backup.rotate` (SQLite backup API, temp file, fsync, rename) "
        f"{backups['full'] * 1000:.1f} ms; on exit with nothing changed since the last backup "
        f"{backups['unchanged'] * 1000:.2f} ms (skipped).",
    ]
    if tally.problems:
        lines += ["", "Problems:", *[f"- {p.splitlines()[0]}" for p in tally.problems[:10]]]
    record("Crash safety", lines)
    sys.exit(1 if tally.problems or tally.lost else 0)


if __name__ == "__main__":
    main()
