"""Documents in a project: adding parsed transcripts, replacing a corrected version, lookups."""

from __future__ import annotations

from dataclasses import dataclass, field

from qualcode import text as textmod
from qualcode.errors import QualcodeError
from qualcode.ingest.importer import ParsedDocument
from qualcode.store.project import Change, Project, new_id, now


@dataclass
class ImportOutcome:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unplaced: list[dict] = field(default_factory=list)    # codings --replace could not re-anchor
    moved: int = 0


def store_documents(project: Project, docs: list[ParsedDocument], replace: bool = False,
                    coder: str | None = None, progress=None) -> ImportOutcome:
    """Write parsed documents in one change (one event, one undo step)."""
    outcome = ImportOutcome()
    names = [d.name for d in docs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise QualcodeError(f"two files would both be named {sorted(dupes)[0]!r}; import them separately with --name")
    existing = {r["name"]: r for r in project.query("SELECT id, name, sha256 FROM documents")}
    by_hash = {r["sha256"]: r["name"] for r in existing.values()}
    todo_new, todo_replace = [], []
    for d in docs:
        old = existing.get(d.name)
        if old is not None and old["sha256"] == d.sha256:
            outcome.unchanged.append(d.name)
        elif old is not None:
            if not replace:
                raise QualcodeError(f"{d.name} is already in the project with different text; "
                                    "use --replace to update it (codings are re-anchored)")
            todo_replace.append((d, old["id"]))
        elif d.sha256 in by_hash:
            outcome.unchanged.append(d.name)
        else:
            todo_new.append(d)
    if not todo_new and not todo_replace:
        return outcome
    parts = []
    if todo_new:
        parts.append(f"{len(todo_new)} document{'s' * (len(todo_new) != 1)}")
    if todo_replace:
        parts.append(f"replaced {', '.join(d.name for d, _ in todo_replace)}")
    summary = "Imported " + "; ".join(parts) if todo_new else "Replaced " + ", ".join(d.name for d, _ in todo_replace)
    if todo_replace:
        from qualcode.store import backup
        backup.rotate(project, reason="before --replace")
    position = (project.one("SELECT COALESCE(MAX(position), 0) AS p FROM documents")["p"] or 0)
    with project.change("import", summary, coder) as ch:
        for i, d in enumerate(todo_new):
            position += 1
            _insert_document(ch, d, new_id(), position)
            outcome.created.append(d.name)
            if progress:
                progress(d.name)
        for d, doc_id in todo_replace:
            unplaced, moved = _replace_document(ch, d, doc_id)
            outcome.unplaced.extend(unplaced)
            outcome.moved += moved
            outcome.replaced.append(d.name)
            if progress:
                progress(d.name)
    return outcome


def _insert_document(ch: Change, d: ParsedDocument, doc_id: str, position: int,
                     imported_at: str | None = None) -> None:
    """imported_at: when the document first came into a project, if a merged file says so; else now."""
    ch.insert("documents", {"id": doc_id, "name": d.name, "type": d.type, "language": d.language, "text": d.text,
                            "sha256": d.sha256, "source_name": d.source_name, "source_format": d.source_format,
                            "imported_at": imported_at or now(), "position": position})
    _insert_units(ch, d, doc_id)


def _insert_units(ch: Change, d: ParsedDocument, doc_id: str) -> None:
    ch.insert_many("document_attributes", [{"id": new_id(), "document_id": doc_id, "key": k, "value": v}
                                           for k, v in d.attributes.items()])
    speaker_ids = {}
    speakers, attrs = [], []
    for label, a in d.speakers.items():
        sid = new_id()
        speaker_ids[label] = sid
        speakers.append({"id": sid, "document_id": doc_id, "label": label, "role": a.get("role")})
        attrs.extend({"id": new_id(), "speaker_id": sid, "key": k, "value": v} for k, v in a.items())
    ch.insert_many("speakers", speakers)
    ch.insert_many("speaker_attributes", attrs)
    turn_ids = [f"{doc_id}:t{i}" for i in range(len(d.turns))]
    ch.insert_many("turns", [{"id": turn_ids[i], "document_id": doc_id, "idx": i,
                              "speaker_id": speaker_ids.get(t.label) if t.label else None,
                              "start": t.start, "end": t.end, "text_start": t.text_start, "timestamp": t.timestamp}
                             for i, t in enumerate(d.turns)])
    ch.insert_many("paragraphs", [{"id": f"{doc_id}:p{i}", "document_id": doc_id, "idx": i,
                                   "turn_id": turn_ids[ti] if turn_ids else None, "start": s, "end": e}
                                  for i, (s, e, ti) in enumerate(d.paragraphs)])
    ch.insert_many("sentences", [{"id": f"{doc_id}:s{i}", "document_id": doc_id, "idx": i,
                                  "turn_id": turn_ids[ti] if turn_ids else None, "start": s, "end": e}
                                 for i, (s, e, ti) in enumerate(d.sentences)])


def _replace_document(ch: Change, d: ParsedDocument, doc_id: str) -> tuple[list[dict], int]:
    """Swap in corrected text; codings follow their quoted text, or are listed as unplaced."""
    for table in ("sentences", "paragraphs"):
        ch.delete_where(table, "document_id = ?", (doc_id,))
    ch.delete_where("turns", "document_id = ?", (doc_id,))
    ch.delete_where("speaker_attributes", "speaker_id IN (SELECT id FROM speakers WHERE document_id = ?)", (doc_id,))
    ch.delete_where("speakers", "document_id = ?", (doc_id,))
    ch.delete_where("document_attributes", "document_id = ?", (doc_id,))
    ch.delete_where("suggestions", "document_id = ?", (doc_id,))
    ch.update("documents", doc_id, {"text": d.text, "sha256": d.sha256, "source_name": d.source_name,
                                    "source_format": d.source_format, "language": d.language,
                                    "type": d.type, "imported_at": now()})
    _insert_units(ch, d, doc_id)
    unplaced, moved = [], 0
    for c in ch.conn.execute("SELECT * FROM codings WHERE document_id = ?", (doc_id,)).fetchall():
        anchor = textmod.reanchor(d.text, c["text"], c["context_before"], c["context_after"], c["start"])
        if anchor is None:
            unplaced.append({"document": d.name, "start": c["start"], "end": c["end"], "text": c["text"],
                             "code_id": c["code_id"]})
            ch.delete("codings", c["id"])
            continue
        before, after = textmod.context(d.text, anchor.start, anchor.end)
        values = {"start": anchor.start, "end": anchor.end, "text": d.text[anchor.start:anchor.end],
                  "context_before": before, "context_after": after}
        if (anchor.start, anchor.end) != (c["start"], c["end"]) or values["text"] != c["text"]:
            moved += 1
            values["updated_at"] = now()
            ch.update("codings", c["id"], values)
    return unplaced, moved


# --- lookups ---------------------------------------------------------------------------------

def find_document(project: Project, name: str):
    row = project.one("SELECT * FROM documents WHERE name = ?", (name,))
    if row is None:
        row = project.one("SELECT * FROM documents WHERE lower(name) = lower(?)", (name,))
    if row is None:
        raise QualcodeError(f"unknown document {name!r}; `qualcode documents` lists them")
    return row


def document_attributes(project: Project, doc_id: str) -> dict[str, str]:
    return {r["key"]: r["value"] for r in project.query(
        "SELECT key, value FROM document_attributes WHERE document_id = ? ORDER BY rowid", (doc_id,))}


def list_documents(project: Project) -> list[dict]:
    attrs: dict[str, dict] = {}
    for r in project.query("SELECT document_id, key, value FROM document_attributes ORDER BY rowid"):
        attrs.setdefault(r["document_id"], {})[r["key"]] = r["value"]
    speakers: dict[str, list] = {}
    for r in project.query("SELECT document_id, label FROM speakers ORDER BY rowid"):
        speakers.setdefault(r["document_id"], []).append(r["label"])
    turns = {r["document_id"]: r["n"] for r in project.query(
        "SELECT document_id, COUNT(*) AS n FROM turns GROUP BY document_id")}
    out = []
    for r in project.query("SELECT id, name, type, language, length(text) AS chars, source_name FROM documents "
                           "ORDER BY position, name"):
        out.append({"name": r["name"], "type": r["type"], "language": r["language"],
                    "attributes": attrs.get(r["id"], {}), "chars": r["chars"], "turns": turns.get(r["id"], 0),
                    "speakers": speakers.get(r["id"], []), "source": r["source_name"]})
    return out


def document_turns(project: Project, doc_id: str) -> list[dict]:
    return [{"start": r["start"], "end": r["end"], "speaker": r["label"], "text_start": r["text_start"]}
            for r in project.query("SELECT t.start, t.\"end\", t.text_start, s.label FROM turns t "
                                   "LEFT JOIN speakers s ON s.id = t.speaker_id WHERE t.document_id = ? ORDER BY t.idx",
                                   (doc_id,))]
