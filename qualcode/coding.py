"""Codings (a code on a span of a document, by a coder) and memos."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from qualcode import text as textmod
from qualcode.codebook import find_code
from qualcode.documents import find_document
from qualcode.errors import QualcodeError
from qualcode.store.project import Change, Project, current_coder, new_id, now


@dataclass
class SpanRequest:
    document: str
    start: int
    end: int
    code: str
    coder: str | None = None
    memo: str | None = None


def ensure_coder(ch: Change, name: str) -> str:
    name = (name or "").strip()
    if not name or any(ord(c) < 32 for c in name):
        raise QualcodeError(f"coder name {name!r} is not usable")
    row = ch.conn.execute("SELECT id FROM coders WHERE name = ?", (name,)).fetchone()
    if row:
        return row["id"]
    return ch.insert("coders", {"id": new_id(), "name": name, "created_at": now()})


def check_span(doc, start: int, end: int) -> None:
    n = len(doc["text"])
    if not isinstance(start, int) or not isinstance(end, int):
        raise QualcodeError("start and end must be whole numbers (code-point offsets)")
    if start < 0 or end < 0:
        raise QualcodeError(f"offsets cannot be negative ({start}–{end})")
    if start >= end:
        raise QualcodeError(f"a coding's start ({start}) must be before its end ({end})")
    if end > n:
        raise QualcodeError(f"{doc['name']} has {n} characters; the span {start}–{end} runs past its end")


def coding_row(doc, code_id: str, coder_id: str, start: int, end: int, memo: str | None, origin: str) -> dict:
    text = doc["text"]
    before, after = textmod.context(text, start, end)
    ts = now()
    return {"id": new_id(), "document_id": doc["id"], "code_id": code_id, "coder_id": coder_id,
            "start": start, "end": end, "text": text[start:end], "context_before": before,
            "context_after": after, "memo": memo or None, "origin": origin, "created_at": ts, "updated_at": ts}


def apply_code(project: Project, document: str, start: int, end: int, code: str, coder: str | None = None,
               memo: str | None = None, origin: str = "manual") -> dict:
    """Code one span. Coding the same span with the same code twice is a no-op."""
    doc = find_document(project, document)
    check_span(doc, start, end)
    code_row = find_code(project, code)
    coder = current_coder(project, coder)
    with project.change("code", f"Coded {doc['name']} {start}–{end} as {code_row['path']}", coder) as ch:
        # checked inside the write transaction, so two processes cannot both add it
        dup = ch.conn.execute("SELECT c.* FROM codings c JOIN coders k ON k.id = c.coder_id WHERE c.document_id = ? "
                              "AND c.code_id = ? AND c.start = ? AND c.\"end\" = ? AND k.name = ?",
                              (doc["id"], code_row["id"], start, end, coder)).fetchone()
        if dup is not None:
            row = dict(dup)
        else:
            coder_id = ensure_coder(ch, coder)
            row = coding_row(doc, code_row["id"], coder_id, start, end, memo, origin)
            ch.insert("codings", row)
    return coding_dict(project, row)


def coding_dict(project: Project, row) -> dict:
    row = dict(row)
    doc = project.one("SELECT name FROM documents WHERE id = ?", (row["document_id"],))
    code = project.one("SELECT path FROM codes WHERE id = ?", (row["code_id"],))
    coder = project.one("SELECT name FROM coders WHERE id = ?", (row["coder_id"],))
    return {"id": row["id"], "document": doc["name"], "start": row["start"], "end": row["end"],
            "code": code["path"], "coder": coder["name"] if coder else None, "text": row["text"],
            "memo": row["memo"], "created_at": row["created_at"]}


def remove_coding(project: Project, coding_id: str, coder: str | None = None) -> None:
    row = project.one("SELECT c.*, d.name AS doc, k.path FROM codings c JOIN documents d ON d.id = c.document_id "
                      "JOIN codes k ON k.id = c.code_id WHERE c.id = ?", (coding_id,))
    if row is None:
        raise QualcodeError(f"no coding {coding_id}")
    with project.change("uncode", f"Removed {row['path']} from {row['doc']} {row['start']}–{row['end']}",
                        current_coder(project, coder)) as ch:
        ch.delete("codings", coding_id)


def uncode(project: Project, document: str, start: int, end: int, code: str | None = None,
           coder: str | None = None) -> int:
    """Remove codings (of one code, or all) that overlap a span."""
    doc = find_document(project, document)
    params: list = [doc["id"], end, start]
    where = "document_id = ? AND start < ? AND \"end\" > ?"
    label = "all codes"
    if code:
        code_row = find_code(project, code)
        where += " AND code_id = ?"
        params.append(code_row["id"])
        label = code_row["path"]
    if not project.one(f"SELECT 1 FROM codings WHERE {where}", params):
        return 0
    with project.change("uncode", f"Removed {label} from {doc['name']} {start}–{end}",
                        current_coder(project, coder)) as ch:
        return ch.delete_where("codings", where, params)


def set_coding_memo(project: Project, coding_id: str, memo: str | None, coder: str | None = None) -> None:
    if not project.one("SELECT 1 FROM codings WHERE id = ?", (coding_id,)):
        raise QualcodeError(f"no coding {coding_id}")
    with project.change("memo", "Memo on a coding", current_coder(project, coder)) as ch:
        ch.update("codings", coding_id, {"memo": memo or None, "updated_at": now()})


def write_memo(project: Project, target_type: str, target_id: str | None, text: str,
               coder: str | None = None, title: str | None = None) -> str:
    """One memo per target and coder: writing again replaces its text."""
    if target_type not in ("document", "code", "project", "coding"):
        raise QualcodeError(f"memos attach to a document, a code, a coding or the project, not {target_type!r}")
    if target_type == "coding":
        set_coding_memo(project, target_id, text, coder)
        return target_id
    coder = current_coder(project, coder)
    with project.change("memo", f"Memo on {target_type}", coder) as ch:
        existing = ch.conn.execute("SELECT m.id FROM memos m LEFT JOIN coders k ON k.id = m.coder_id WHERE "
                                   "m.target_type = ? AND m.target_id IS ? AND k.name IS ?",
                                   (target_type, target_id, coder)).fetchone()
        coder_id = ensure_coder(ch, coder)
        if existing:
            ch.update("memos", existing["id"], {"text": text, "updated_at": now()})
            return existing["id"]
        return ch.insert("memos", {"id": new_id(), "target_type": target_type, "target_id": target_id,
                                   "coder_id": coder_id, "title": title, "text": text,
                                   "created_at": now(), "updated_at": now()})


def memos_for(project: Project, target_type: str, target_id: str | None) -> list[dict]:
    return [dict(r) for r in project.query(
        "SELECT m.*, k.name AS coder FROM memos m LEFT JOIN coders k ON k.id = m.coder_id "
        "WHERE m.target_type = ? AND m.target_id IS ? ORDER BY m.created_at", (target_type, target_id))]


# --- bulk ------------------------------------------------------------------------------------

def read_coding_file(path: Path) -> list[SpanRequest]:
    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.is_dir():
        raise QualcodeError(f"{path} is a folder, not a codings file")
    from qualcode.ingest.plaintext import decode

    if path.suffix.lower() not in (".csv", ".jsonl", ".ndjson", ".json"):
        raise QualcodeError(f"{path.name}: codings are read from .csv or .jsonl")
    text, _ = decode(path.read_bytes(), path.name)
    rows: list = []
    if path.suffix.lower() == ".csv":
        try:
            rows = list(csv.DictReader(io.StringIO(text)))
        except csv.Error as exc:
            raise QualcodeError(f"{path.name} is not a readable CSV file ({exc})") from None
    elif path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise QualcodeError(f"{path.name} is not valid JSON (or nests too deeply)") from None
        rows = data if isinstance(data, list) else []
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except (json.JSONDecodeError, RecursionError):
                    raise QualcodeError(f"{path.name} line {n} is not valid JSON") from None
    out = []
    for n, r in enumerate(rows, 1):
        try:
            out.append(SpanRequest(str(r["document"]), int(r["start"]), int(r["end"]), str(r["code"]),
                                   _optional_text(r.get("coder")), _optional_text(r.get("memo"))))
        except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
            raise QualcodeError(f"{path.name} record {n} needs document, start, end (whole numbers) and code") from None
    return out


def _optional_text(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, (str, int, float)):
        raise TypeError("not text")
    return str(value)


def import_codings(project: Project, requests: list[SpanRequest], coder: str | None = None,
                   summary: str | None = None, origin: str = "import") -> int:
    """Validate every request first, then write them all in one change."""
    docs, codes = {}, {}
    for r in requests:
        if r.document not in docs:
            docs[r.document] = find_document(project, r.document)
        check_span(docs[r.document], r.start, r.end)
        if r.code not in codes:
            codes[r.code] = find_code(project, r.code)
    default = current_coder(project, coder)
    n = 0
    with project.change("code", summary or f"Imported {len(requests)} codings", default) as ch:
        existing = {(c["document_id"], c["code_id"], c["start"], c["end"], c["coder"]) for c in ch.conn.execute(
            "SELECT c.document_id, c.code_id, c.start, c.\"end\", k.name AS coder FROM codings c "
            "JOIN coders k ON k.id = c.coder_id")}
        coder_ids: dict[str, str] = {}
        rows = []
        for r in requests:
            name = r.coder or default
            if name not in coder_ids:
                coder_ids[name] = ensure_coder(ch, name)
            doc, code = docs[r.document], codes[r.code]
            key = (doc["id"], code["id"], r.start, r.end, name)
            if key in existing:
                continue
            existing.add(key)
            rows.append(coding_row(doc, code["id"], coder_ids[name], r.start, r.end, r.memo, origin))
        ch.insert_many("codings", rows)
        n = len(rows)
    return n


def export_codings(project: Project) -> list[dict]:
    return [dict(r) for r in project.query(
        "SELECT d.name AS document, c.start, c.\"end\" AS \"end\", k.path AS code, u.name AS coder, c.text, c.memo, c.id "
        "FROM codings c JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id "
        "JOIN coders u ON u.id = c.coder_id ORDER BY d.position, d.name, c.start, c.\"end\", k.path")]
