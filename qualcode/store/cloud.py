"""A warning when a project sits in a cloud-synced folder, where SQLite files get corrupted.

Sync clients copy the database, its -wal and -shm files one by one while they change, and
"resolve conflicts" by keeping one side: the classic way to lose work with SQLite. We recognise
synced folders by their usual names (Dropbox, OneDrive, iCloud Drive, Google Drive, ...), by the
marker files their clients leave in the synced root, and by OneDrive's environment variables.
Set QUALCODE_ALLOW_SYNCED=1 to silence the warning (e.g. a folder excluded from sync).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# folder names (lower case) used by sync clients for their root, or as a prefix ("OneDrive - Org")
_NAMES = ("dropbox", "onedrive", "icloud drive", "icloud", "icloud~com~apple~clouddocs", "com~apple~clouddocs",
          "mobile documents", "google drive", "googledrive", "my drive", "box sync", "box", "pcloud drive",
          "pcloud", "mega", "megasync", "nextcloud", "owncloud", "seafile", "tresorit", "yandex.disk",
          "sync.com")
# files or folders a sync client keeps in the root of what it syncs
_MARKERS = (".dropbox", ".dropbox.cache", ".stfolder", ".sync", ".nextcloudsync.log", ".owncloudsync.log",
            ".megaignore", ".tresorit")
_ENV = ("OneDrive", "OneDriveConsumer", "OneDriveCommercial")


def _named_like_sync_root(part: str) -> bool:
    low = part.lower()
    for name in _NAMES:
        if low == name or any(low.startswith(name + sep) for sep in (" ", "-", "(", "_")):
            return True
    return False


def synced_folder(path: Path) -> str | None:
    """The synced folder the path is in (as named on disk), or None."""
    resolved = Path(path).expanduser().resolve()
    parts = resolved.parts
    for i, part in enumerate(parts[:-1]):
        # "Box" is too common a name to trust anywhere: only directly in a home folder
        if part.lower() == "box" and not (i >= 2 and parts[i - 2].lower() in ("home", "users")):
            continue
        if _named_like_sync_root(part):
            return part
        if part.lower() == "cloudstorage" and i > 0 and parts[i - 1].lower() == "library" and i + 1 < len(parts) - 1:
            return parts[i + 1]  # macOS File Provider: ~/Library/CloudStorage/<provider>
    for env in _ENV:
        root = os.environ.get(env)
        if root:
            try:
                resolved.relative_to(Path(root).expanduser().resolve())
                return Path(root).name or root
            except ValueError:
                pass
    for folder in resolved.parents:
        for marker in _MARKERS:
            if (folder / marker).exists():
                return folder.name or str(folder)
    return None


def warn_if_synced(path: Path) -> str | None:
    """Print the warning on stderr when the project is in a synced folder; returns the message."""
    if os.environ.get("QUALCODE_ALLOW_SYNCED", "") not in ("", "0"):
        return None
    folder = synced_folder(path)
    if not folder:
        return None
    message = (f"warning: {path} is inside {folder!r}, a cloud-synced folder; sync tools can corrupt an open "
               "SQLite project and lose work. Keep the project elsewhere and sync its backups instead "
               "(`qualcode backup`), or set QUALCODE_ALLOW_SYNCED=1 if this folder is not synced.")
    print(message, file=sys.stderr)
    return message
