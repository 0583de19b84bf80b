"""Taguette projects: documents, tags and highlights from a Taguette SQLite database.

Taguette stores each document as HTML and each highlight as UTF-8 *byte* offsets into that
HTML's text with the tags stripped and entities unescaped (measured on a real project: read as
character offsets, 1 in 30 highlights lands in the wrong place). We store that text, with a
line break added after a block element where the HTML had none, and convert every offset
exactly: bytes → characters of the stripped text → our stored (normalised) text.
Who made a highlight comes from Taguette's command log when it says so.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path, PurePosixPath

from qualcode import text as textmod
from qualcode.codebook import usable_code_name
from qualcode.errors import QualcodeError
from qualcode.ingest.importer import check_text, ParsedDocument, segment_document
from qualcode.merge import Incoming, IncomingDocument
from qualcode.store.project import new_id

_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"^<(?:/(?:p|h[1-6]|li|div|tr|blockquote|pre|ul|ol|table)|br\s*/?)\s*>$", re.I)
_SUFFIXES = {".odt", ".docx", ".doc", ".txt", ".md", ".html", ".htm", ".pdf", ".rtf"}


def html_text(contents: str) -> tuple[str, str, list[int]]:
    """(Taguette's text, our text, map from each Taguette character index to ours).

    Taguette's text is the HTML with every tag removed and entities unescaped; ours also gets a
    newline where a block element ends without one, so paragraphs stay apart.
    """
    plain: list[str] = []
    ours: list[str] = []
    index: list[int] = []
    size = 0
    pending_break = False
    for m in re.finditer(r"<[^>]*>|[^<]+|<", contents):
        token = m.group(0)
        if token.startswith("<") and len(token) > 1 and _TAG.fullmatch(token):
            if _BLOCK_END.match(token):
                pending_break = True
            continue
        piece = html.unescape(token)
        if pending_break and ours and not ours[-1].endswith("\n") and not piece.startswith(("\n", "\r")):
            ours.append("\n")
            size += 1
        pending_break = False
        for k in range(len(piece)):
            index.append(size + k)
        plain.append(piece)
        ours.append(piece)
        size += len(piece)
    index.append(size)
    return "".join(plain), "".join(ours), index


def read_taguette(path: Path, default_coder: str | None = None) -> Incoming:
    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.is_dir():
        raise QualcodeError(f"{path} is a folder, not a Taguette database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise QualcodeError(f"{path.name} is not a Taguette database ({exc})") from None
    try:
        need = {"documents", "tags", "highlights", "highlight_tags"}
        if not need <= tables:
            raise QualcodeError(f"{path.name} is not a Taguette database (it has no {', '.join(sorted(need - tables))} table)")
        return _read(conn, path, tables, default_coder)
    except sqlite3.DatabaseError as exc:
        raise QualcodeError(f"{path.name} could not be read as a Taguette database ({exc})") from None
    finally:
        conn.close()


def _read(conn, path: Path, tables: set[str], default_coder: str | None) -> Incoming:
    inc = Incoming(path.name)
    q = lambda sql, p=(): conn.execute(sql, p).fetchall()  # noqa: E731
    projects = {r["id"]: r["name"] for r in q("SELECT id, name FROM projects")} if "projects" in tables else {}
    # who made each highlight: the last highlight_add for it in the command log
    authors: dict[int, str] = {}
    if "commands" in tables:
        for r in q("SELECT user_login, payload FROM commands ORDER BY id"):
            try:
                payload = json.loads(r["payload"])
            except (TypeError, ValueError):
                continue
            if isinstance(payload, dict) and payload.get("type") == "highlight_add" and "highlight_id" in payload:
                authors[payload["highlight_id"]] = r["user_login"]
    members = [r["user_login"] for r in q("SELECT user_login FROM project_members ORDER BY privileges = 'ADMIN' DESC")] \
        if "project_members" in tables else []
    fallback = default_coder or (members[0] if members else "taguette")
    coder_ids: dict[str, str] = {}

    def coder(name: str) -> str:
        if name not in coder_ids:
            coder_ids[name] = new_id()
            inc.coders.append({"id": coder_ids[name], "name": name})
        return coder_ids[name]

    # tags → codes (flat; a '/' in a tag would split our path, so it becomes '-')
    code_ids: dict[int, str] = {}
    by_path: dict[str, str] = {}
    renamed = 0
    for r in q("SELECT id, project_id, path, description FROM tags ORDER BY id"):
        name = usable_code_name(r["path"], f"tag {r['id']}")
        if "/" in (r["path"] or ""):
            renamed += 1
        if name in by_path:
            code_ids[r["id"]] = by_path[name]
            continue
        cid = new_id()
        by_path[name] = code_ids[r["id"]] = cid
        inc.codes.append({"id": cid, "parent_id": None, "name": name, "description": (r["description"] or "").strip() or None,
                          "position": len(inc.codes)})
    if renamed:
        inc.notes.append(f"{renamed} tag name(s) contained '/'; it became '-' (qualcode uses '/' between levels)")
    tags_of: dict[int, list[int]] = {}
    for r in q("SELECT highlight_id, tag_id FROM highlight_tags"):
        tags_of.setdefault(r["highlight_id"], []).append(r["tag_id"])
    names: set[str] = set()
    dropped = untagged = mismatched = 0
    for d in q("SELECT * FROM documents ORDER BY id"):
        plain, ours, index = html_text(d["contents"] or "")
        if not ours.strip():
            inc.notes.append(f"document {d['name']!r} has no text; skipped")
            continue
        name = d["name"] or d["filename"] or f"document {d['id']}"
        if PurePosixPath(name).suffix.lower() in _SUFFIXES:
            name = PurePosixPath(name).stem
        name = "".join(ch for ch in name if ord(ch) >= 32).strip() or f"document {d['id']}"
        if name in names:
            name = f"{name} ({d['id']})"
        names.add(name)
        bom = 1 if plain.startswith("\ufeff") else 0     # ForeignText drops a BOM; Taguette counts it
        bytes_ = textmod.ForeignText(plain, "utf8")      # Taguette's byte offsets over its text
        stored, to_floor, to_ceil = textmod.normalise_with_map(ours)
        check_text(stored, f"Taguette document {name!r}")
        attrs = {}
        if (d["description"] or "").strip():
            attrs["description"] = d["description"].strip()
        if len(projects) > 1:
            attrs["taguette_project"] = projects.get(d["project_id"], str(d["project_id"]))
        pd = ParsedDocument(name=name, text=stored, source_name=d["filename"] or name, source_format="taguette",
                            type=None, language="en", attributes=attrs, speakers={}, turns=[])
        doc = IncomingDocument(new_id(), pd, created_at=str(d["created"]) if d["created"] else None)
        inc.documents.append(doc)
        for h in q("SELECT * FROM highlights WHERE document_id = ? ORDER BY start_offset, id", (d["id"],)):
            tags = [t for t in tags_of.get(h["id"], []) if t in code_ids]
            if not tags:
                untagged += 1
                continue
            start, end = int(h["start_offset"]) - 3 * bom, int(h["end_offset"]) - 3 * bom
            if start < 0 or end > bytes_.length or start >= end:
                dropped += len(tags)
                continue
            s = bytes_.raw_index(start, "start")[0] + bom   # characters of Taguette's text
            e = bytes_.raw_index(end, "end")[0] + bom
            # → ours (an end follows its last character, not a newline we added), then normalised
            s, e = to_floor[index[s]], to_ceil[index[e - 1] + 1]
            if e <= s:
                dropped += len(tags)
                continue
            quote = html.unescape(_TAG.sub("", h["snippet"] or ""))
            if quote and textmod.normalise(quote).strip() != stored[s:e].strip():
                mismatched += 1
            who = coder(authors.get(h["id"], fallback))
            for t in dict.fromkeys(tags):
                inc.codings.append({"id": new_id(), "document_id": doc.id, "code_id": code_ids[t], "coder_id": who,
                                    "start": s, "end": e, "memo": None, "origin": "import", "created_at": None,
                                    "updated_at": None})
    if not inc.coders:
        coder(fallback)
    if dropped:
        inc.notes.append(f"{dropped} highlight tag(s) lay outside their document's text; dropped")
    if untagged:
        inc.notes.append(f"{untagged} highlight(s) had no tag; not imported")
    if mismatched:
        inc.notes.append(f"{mismatched} highlight(s) cover text that differs from Taguette's saved snippet; check them")
    for doc in inc.documents:
        _segment(doc.parsed)
    return inc


def _segment(pd: ParsedDocument) -> None:
    from qualcode.ingest import turns as turnmod

    pd.turns = turnmod.find_turns(pd.text, [])
    speakers: dict[str, dict] = {}
    for t in pd.turns:
        if t.label:
            speakers[t.label] = {**t.details, **speakers.get(t.label, {})}
    pd.speakers = speakers
    segment_document(pd)
