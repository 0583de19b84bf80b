"""A warning when a project sits in a cloud-synced folder, where SQLite files get corrupted."""

from __future__ import annotations

import sys
from pathlib import Path

_MARKERS = ("dropbox", "onedrive", "icloud", "icloud drive", "mobile documents", "google drive",
            "googledrive", "my drive", "box sync", "pcloud", "mega")


def synced_folder(path: Path) -> str | None:
    for part in Path(path).resolve().parts:
        low = part.lower()
        if any(low == m or low.startswith(m + " ") or low.startswith(m + "-") or low.startswith(m + "(")
               for m in _MARKERS) or low.startswith("onedrive"):
            return part
    return None


def warn_if_synced(path: Path) -> None:
    folder = synced_folder(path)
    if folder:
        print(f"warning: {path} is inside {folder!r}, a cloud-synced folder; sync tools can corrupt SQLite "
              "files. Keep the project elsewhere and sync backups instead.", file=sys.stderr)
