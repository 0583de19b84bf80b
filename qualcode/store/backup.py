"""Rotating backups through SQLite's online backup API (consistent even while in use)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

KEEP = 10


def backup_dir(project_path: Path) -> Path:
    return project_path.with_name(project_path.name + ".backups")


def rotate(project, reason: str = "", keep: int = KEEP) -> Path:
    """Copy the project to <project>.backups/<timestamp>.db and keep the newest `keep`."""
    folder = backup_dir(project.path)
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{project.path.stem}-{stamp}.db"
    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
    dest = sqlite3.connect(target)
    try:
        project.conn.backup(dest)
        if reason:
            dest.execute("PRAGMA user_version")  # the reason lives in the log line below
    finally:
        dest.close()
    with open(folder / "backups.log", "a", encoding="utf-8") as log:
        log.write(f"{target.name}\t{reason}\n")
    backups = sorted(folder.glob(f"{project.path.stem}-*.db"))
    for old in backups[:-keep]:
        old.unlink(missing_ok=True)
    return target


def list_backups(project_path: Path) -> list[Path]:
    return sorted(backup_dir(project_path).glob(f"{project_path.stem}-*.db"))
