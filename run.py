#!/usr/bin/env python3
"""Set up and run qualcode with nothing but Python 3.11+ installed.

    python3 run.py demo     build the demo project and open the app
    python3 run.py test     run the whole test suite (what CI runs)
    python3 run.py bench    run the benchmarks in bench/
    python3 run.py -- ARGS  run `qualcode ARGS` inside the project's environment

It creates .venv beside this file and installs qualcode into it (again only when
pyproject.toml changes). Packages come from your configured package index; nothing is
downloaded when qualcode itself runs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".qualcode-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"error: qualcode needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PY.exists():
        print("Creating .venv …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != want:
        print("Installing qualcode and its dependencies into .venv (first run takes a few minutes) …",
              file=sys.stderr)
        subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(want)


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "help"
    if task in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    ensure_env()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if task == "demo":
        return subprocess.call([str(BIN / "qualcode"), "demo", *argv[1:]], cwd=ROOT, env=env)
    if task == "test":
        return subprocess.call([str(PY), "-m", "pytest", "-n", "2", "-q", *argv[1:]], cwd=ROOT, env=env)
    if task == "bench":
        code = 0
        for script in sorted((ROOT / "bench").glob("bench_*.py")):
            print(f"== {script.name}", flush=True)
            code |= subprocess.call([str(PY), str(script), *argv[1:]], cwd=ROOT, env=env)
        return code
    if task == "--":
        return subprocess.call([str(BIN / "qualcode"), *argv[1:]], cwd=ROOT, env=env)
    print(f"error: unknown task {task!r}; try: python3 run.py demo | test | bench", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
