"""The files of an anonymisation that hold real names, and so never live in the project:
the researcher's lists of names and the key (real name → pseudonym)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from qualcode.errors import QualcodeError
from qualcode.store.project import Project, new_id, now

KEY_FORMAT = "qualcode-anonymisation-key"


def read_list(path: Path) -> tuple[list[tuple[str, str | None]], set[str]]:
    """A list file: one name a line, `real => pseudonym` to choose the pseudonym, `!word` for a
    word that is never a name, `#` comments."""
    from qualcode.ingest.plaintext import decode

    path = Path(path)
    if not path.is_file():
        raise QualcodeError(f"{path} does not exist or is not a file")
    text, _ = decode(path.read_bytes(), path.name)
    entries, excluded = [], set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            excluded.add(line[1:].strip())
            continue
        real, _, pseudo = (part.strip() for part in line.partition("=>"))
        if not any(ch.isalpha() for ch in real) or any(ord(c) < 32 for c in real + pseudo):
            raise QualcodeError(f"{path.name} line {n}: {line[:60]!r} is not a name (`Real Name => Pseudonym`)")
        entries.append((real, pseudo or None))
    return entries, excluded


def read_key(path: Path | None) -> list[dict]:
    """An earlier run's entries ({real, pseudonym, kind, forms}); none when the file is new."""
    if path is None or not Path(path).exists():
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = data["entries"] if data.get("format") == KEY_FORMAT else None
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        entries = None
    if not isinstance(entries, list):
        raise QualcodeError(f"{path} is not a qualcode anonymisation key; name a new file or the key of an earlier run")
    return [e for e in entries if isinstance(e, dict) and e.get("real") and e.get("pseudonym")]


def check_private_path(project: Project, path, what: str) -> Path:
    """Keys and reports hold the real names: never inside the project's folder."""
    target = Path(path).expanduser().resolve()
    folder = project.path.resolve().parent
    if target == folder or folder in target.parents:
        raise QualcodeError(f"the {what} holds the real names, so it must live outside the project's folder "
                            f"({folder}); write it to another place, e.g. an encrypted drive")
    if target.is_dir():
        raise QualcodeError(f"{target} is a folder; name a file for the {what}")
    if not target.parent.is_dir():
        raise QualcodeError(f"the folder {target.parent} does not exist")
    return target


def write_private(path: Path, content: str) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.with_name(f".{path.name}.{new_id()[:8]}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_key(path: Path, project: Project, entities) -> None:
    """Merge these entities into the key (an earlier run's entries are kept), owner-only."""
    known = {(e["kind"], e["real"].casefold()): e for e in read_key(path)}
    for ent in entities:
        known[(ent.kind, ent.real.casefold())] = {"real": ent.real, "pseudonym": ent.pseudonym, "kind": ent.kind,
                                                  "forms": sorted(ent.forms), "sources": sorted(ent.sources)}
    data = {"format": KEY_FORMAT, "version": 1, "project": str(project.path.resolve()), "updated": now(),
            "note": "Real names and their pseudonyms. Keep this file apart from the project, encrypted.",
            "entries": sorted(known.values(), key=lambda e: (e["kind"], _natural(e["pseudonym"])))}
    write_private(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _natural(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]
