"""What qualcode keeps for itself in a .qdpx: the facts REFI-QDA has no place for.

They travel in one free-standing Note (why a Note: docs/refi-qda.md), whose text is a header
line for people who meet it in another tool, then one JSON object:

    {"format": "qualcode-roundtrip", "version": 1,
     "coders":    {GUID: {"created_at": ts}},
     "codes":     {GUID: {"shortcut": 1-9, "created_at": ts,
                          "exact": {field: value}, "description_sha256": hex}},
     "documents": {GUID: {"source_name": str, "source_format": str}},
     "coding_origins": {origin: [GUID, ...]}}

GUIDs are those of the same objects in the file. `coding_origins` lists every origin except
"import", which is what the importer gives any coding it has no word on. `exact` holds a code's
definition fields only where its Description would not parse back to them (a rule of several
paragraphs, an example holding " | "); they apply only while the Description is still the text
they were written beside (its SHA-256), so an edit made in another tool wins.

Everything read back is checked: a value of the wrong kind is ignored, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from qualcode.codebook_files import describe, guid, parse_description

NOTE_NAME = "qualcode round-trip data"
HEADER = (f"{NOTE_NAME}: qualcode reads this note back when this file is imported into qualcode, to "
          "restore what REFI-QDA has no place for (favourite keys, how each coding was made, original "
          "file names). Other programs can ignore it; deleting it loses only those.")
FORMAT, VERSION = "qualcode-roundtrip", 1
TEXT_FIELDS = ("description", "when_to_use", "when_not_to_use")
LIST_FIELDS = ("examples", "keywords")
IMPORT_ORIGIN = "import"

_ORIGIN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?$")
_FORMAT = re.compile(r"^[a-z0-9]{1,10}$")


def text_sha(text: str | None) -> str:
    """The fingerprint of a Description, blind to line-end rewriting and outer whitespace."""
    norm = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


# --- writing ---------------------------------------------------------------------------------

def _exact(code: dict) -> dict:
    """The definition fields the Description text would not give back as they are."""
    got = parse_description(describe(code))
    want = {k: code.get(k) for k in TEXT_FIELDS}
    want.update({k: list(code.get(k) or []) for k in LIST_FIELDS})
    return {k: v for k, v in want.items() if got[k] != v}


def payload(coders: list[dict], codes: list[dict], documents: list[dict], codings: list[dict]) -> dict | None:
    """Our rows (as the exporter reads them) → the JSON object without empty parts; None if all are."""
    out: dict = {"format": FORMAT, "version": VERSION}
    out["coders"] = {guid(c["id"]): {"created_at": c["created_at"]} for c in coders if c.get("created_at")}
    code_part = {}
    for c in codes:
        entry = {}
        if c.get("shortcut"):
            entry["shortcut"] = c["shortcut"]
        if c.get("created_at"):
            entry["created_at"] = c["created_at"]
        exact = _exact(c)
        if exact:
            entry["exact"] = exact
            entry["description_sha256"] = text_sha(describe(c))
        if entry:
            code_part[guid(c["id"])] = entry
    out["codes"] = code_part
    out["documents"] = {guid(d["id"]): {k: d[k] for k in ("source_name", "source_format") if d.get(k)}
                        for d in documents if d.get("source_name") or d.get("source_format")}
    origins: dict[str, list[str]] = {}
    for c in codings:
        if c.get("origin") and c["origin"] != IMPORT_ORIGIN:
            origins.setdefault(c["origin"], []).append(guid(c["id"]))
    out["coding_origins"] = origins
    out = {k: v for k, v in out.items() if v != {}}
    return out if len(out) > 2 else None


def note_text(data: dict) -> str:
    """The Note's text: sorted keys and no spacing, so the same project gives the same bytes."""
    return HEADER + "\n" + json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# --- reading ---------------------------------------------------------------------------------

@dataclass
class Carried:
    """What a file's round-trip note says, checked; every key is a GUID as 32 lowercase hex."""
    coders: dict[str, str] = field(default_factory=dict)          # created_at
    codes: dict[str, dict] = field(default_factory=dict)          # shortcut, created_at, exact, sha
    documents: dict[str, dict] = field(default_factory=dict)      # source_name, source_format
    origins: dict[str, str] = field(default_factory=dict)         # coding GUID -> origin

    def code_fields(self, h: str | None, description: str | None, fields: dict) -> dict:
        """`fields` parsed from the Description, with the exact values where they still apply."""
        entry = self.codes.get(h or "")
        if not entry or not entry.get("exact") or entry.get("sha") != text_sha(description):
            return fields
        return {**fields, **entry["exact"]}

    def origin(self, h: str | None) -> str:
        return self.origins.get(h or "", IMPORT_ORIGIN)


def is_ours(text: str | None) -> bool:
    return bool(text) and text.lstrip("\ufeff \t\r\n").startswith(NOTE_NAME + ":")


def parse(text: str, hex_id) -> Carried | None:
    """A note's text → Carried; None when it is not a readable round-trip note of ours."""
    body = text.lstrip("\ufeff \t\r\n")
    _, _, rest = body.partition("\n")
    try:
        data = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("version"), int):
        return None
    out = Carried()
    for g, v in _dict(data.get("coders")).items():
        if hex_id(g) and isinstance(v, dict) and _stamp(v.get("created_at")):
            out.coders[hex_id(g)] = v["created_at"]
    for g, v in _dict(data.get("codes")).items():
        if hex_id(g) and isinstance(v, dict):
            out.codes[hex_id(g)] = _code(v)
    for g, v in _dict(data.get("documents")).items():
        if hex_id(g) and isinstance(v, dict):
            doc = {}
            name = v.get("source_name")
            if isinstance(name, str) and 0 < len(name) <= 255 and all(ord(ch) >= 32 for ch in name):
                doc["source_name"] = name
            if isinstance(v.get("source_format"), str) and _FORMAT.match(v["source_format"]):
                doc["source_format"] = v["source_format"]
            out.documents[hex_id(g)] = doc
    for origin, guids in _dict(data.get("coding_origins")).items():
        if _ORIGIN.match(origin) and isinstance(guids, list):
            for g in guids:
                if isinstance(g, str) and hex_id(g):
                    out.origins[hex_id(g)] = origin
    return out


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _stamp(value) -> bool:
    return isinstance(value, str) and len(value) <= 40 and bool(_STAMP.match(value))


def _code(v: dict) -> dict:
    out: dict = {}
    if isinstance(v.get("shortcut"), int) and not isinstance(v["shortcut"], bool) and 1 <= v["shortcut"] <= 9:
        out["shortcut"] = v["shortcut"]
    if _stamp(v.get("created_at")):
        out["created_at"] = v["created_at"]
    exact = {}
    for k, val in _dict(v.get("exact")).items():
        if k in TEXT_FIELDS and (val is None or isinstance(val, str)):
            exact[k] = val
        elif k in LIST_FIELDS and isinstance(val, list) and all(isinstance(x, str) for x in val):
            exact[k] = val
    if exact and isinstance(v.get("description_sha256"), str):
        out["exact"], out["sha"] = exact, v["description_sha256"]
    return out
