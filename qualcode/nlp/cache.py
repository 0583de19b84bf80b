"""Cache files beside a project (<project>.models/): written privately, loaded only when trusted.

A pickle runs code when it is loaded and a project folder may be shared, so a cache file is
read only when this user owns it and its folder and nobody else can write to either.
"""

from __future__ import annotations

import pickle
import threading
from pathlib import Path


def trusted_file(path: Path) -> bool:
    """Only unpickle cache files this user wrote and nobody else can change: a pickle runs code
    when loaded, and a project folder may be shared."""
    import os
    import stat

    try:
        st = path.stat()
        parent = path.parent.stat()
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or (st.st_uid == os.getuid() and parent.st_uid == os.getuid())
    return mine and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)) and \
        not (parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    try:
        path.chmod(0o700)
    except OSError:
        pass


def load(path: Path, key: str, fmt: int):
    """The cached value stored under key (and format), or None."""
    if not trusted_file(path):
        return None
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
    except Exception:   # missing, damaged or from another version: rebuild
        return None
    if not isinstance(stored, dict) or stored.get("key") != key or stored.get("format") != fmt:
        return None
    return stored.get("value")


STALE_SECONDS = 600     # a temporary file this old was left by a process that was killed mid-write


def save(path: Path, key: str, fmt: int, value) -> None:
    import os
    import time

    try:
        private_dir(path.parent)
        for old in path.parent.glob(f"{path.stem}.tmp*"):
            try:
                if time.time() - old.stat().st_mtime > STALE_SECONDS:
                    old.unlink()
            except OSError:
                pass
        tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            pickle.dump({"key": key, "format": fmt, "value": value}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:   # a read-only folder only costs a retrain next time
        pass
