"""Another qualcode project file read (read-only) as a `merge.Incoming` bundle, for `qualcode merge`."""

from __future__ import annotations

import json
from pathlib import Path

from qualcode.codebook import SEP
from qualcode.errors import QualcodeError
from qualcode.ingest.importer import ParsedDocument
from qualcode.merge import Incoming, IncomingDocument


def read_project(path: Path) -> Incoming:
    """Everything in another qualcode project file, read-only, as an Incoming bundle."""
    import sqlite3

    from qualcode.ingest import turns as turnmod
    from qualcode.store import schema

    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise QualcodeError(f"{path.name} is not a qualcode project ({exc})") from None
    try:
        if app_id != schema.APPLICATION_ID:
            raise QualcodeError(f"{path.name} is not a qualcode project")
        if version != schema.SCHEMA_VERSION:
            raise QualcodeError(f"{path.name} has schema {version}, this qualcode has {schema.SCHEMA_VERSION}; "
                                "open it once with this qualcode (it upgrades itself), then merge")
        q = lambda sql: [dict(r) for r in conn.execute(sql)]  # noqa: E731
        inc = Incoming(path.name)
        inc.coders = q("SELECT id, name, created_at FROM coders")
        codes = q("SELECT * FROM codes")
        depth = {c["id"]: c["path"].count(SEP) for c in codes}
        for c in sorted(codes, key=lambda c: (depth[c["id"]], c["position"], c["name"])):
            c["examples"] = json.loads(c["examples"] or "[]")
            c["keywords"] = json.loads(c["keywords"] or "[]")
            inc.codes.append(c)
        attrs: dict[str, dict] = {}
        for r in q("SELECT document_id, key, value FROM document_attributes ORDER BY rowid"):
            attrs.setdefault(r["document_id"], {})[r["key"]] = r["value"]
        speakers: dict[str, dict] = {}
        labels: dict[str, str] = {}
        for r in q("SELECT id, document_id, label FROM speakers ORDER BY rowid"):
            speakers.setdefault(r["document_id"], {})[r["label"]] = {}
            labels[r["id"]] = r["label"]
        for r in q("SELECT s.document_id, s.label, a.key, a.value FROM speaker_attributes a "
                   "JOIN speakers s ON s.id = a.speaker_id ORDER BY a.rowid"):
            speakers[r["document_id"]][r["label"]][r["key"]] = r["value"]
        units: dict[str, dict[str, list]] = {}
        for table in ("turns", "paragraphs", "sentences"):
            for r in q(f"SELECT * FROM {table} ORDER BY document_id, idx"):
                units.setdefault(r["document_id"], {}).setdefault(table, []).append(r)
        for d in q("SELECT * FROM documents ORDER BY position, name"):
            u = units.get(d["id"], {})
            turn_index = {t["id"]: i for i, t in enumerate(u.get("turns", []))}
            turns = [turnmod.Turn(t["start"], t["text_start"], t["end"], labels.get(t["speaker_id"]), t["timestamp"])
                     for t in u.get("turns", [])]
            pd = ParsedDocument(name=d["name"], text=d["text"], source_name=d["source_name"] or d["name"],
                                source_format=d["source_format"] or "txt", type=d["type"], language=d["language"],
                                attributes=attrs.get(d["id"], {}), speakers=speakers.get(d["id"], {}), turns=turns,
                                paragraphs=[(p["start"], p["end"], turn_index.get(p["turn_id"], 0))
                                            for p in u.get("paragraphs", [])],
                                sentences=[(s["start"], s["end"], turn_index.get(s["turn_id"], 0))
                                           for s in u.get("sentences", [])])
            inc.documents.append(IncomingDocument(d["id"], pd, created_at=d["imported_at"]))
        inc.codings = q("SELECT id, document_id, code_id, coder_id, start, \"end\", memo, origin, created_at, "
                        "updated_at FROM codings")
        inc.memos = q("SELECT * FROM memos")
        members: dict[str, list] = {}
        for m in q("SELECT * FROM set_members"):
            members.setdefault(m["set_id"], []).append(
                ("document", m["document_id"]) if m["document_id"] else ("code", m["code_id"]))
        inc.sets = [{**s, "members": members.get(s["id"], [])} for s in q("SELECT * FROM sets")]
        return inc
    except sqlite3.DatabaseError as exc:
        raise QualcodeError(f"{path.name} could not be read ({exc})") from None
    finally:
        conn.close()
