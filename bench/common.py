"""Shared by the benchmarks: timing, and appending results to RESULTS.md with their command."""

from __future__ import annotations

import platform
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def _times(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def best_of(fn, repeat: int = 3) -> float:
    return min(_times(fn, repeat))


def median_of(fn, repeat: int = 5) -> float:
    return statistics.median(_times(fn, repeat))


def record(section: str, lines: list[str]) -> None:
    """Replace this benchmark's section in RESULTS.md (one section per benchmark script)."""
    command = ".venv/bin/python bench/" + Path(sys.argv[0]).name + "".join(" " + a for a in sys.argv[1:])
    body = [f"## {section}", "", f"Command: `{command}`  ", f"Run: {date.today()} on {platform.machine()}, "
            f"{platform.python_implementation()} {platform.python_version()}, 2 cores", "", *lines, ""]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\nEach section is rewritten by the script named in its command.\n\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = "\n".join(body) + "\n"
    text = pattern.sub(lambda _: new, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + new
    RESULTS.write_text(text, encoding="utf-8")
    print("\n".join(body))
