"""Retrieval: the quotes of a code, combined with another code or an attribute.

`retrieve(project, "Barriers/Trust", "and", "Gender")` — Trust codings that overlap a Gender
coding; `"not", "attr:city=Baku"` — Trust codings outside Baku documents; speaker attributes
work the same way (`"attr:gender=female"` matches the document's or a speaker's). A coding's
speakers are those of the turns it overlaps, interviewers only when nobody else speaks — the
same rule as the frequency tables and quote exports (`analysis.units.Corpus.coding_speakers`).
"""

from __future__ import annotations

from qualcode.codebook import descendants, find_code
from qualcode.errors import QualcodeError
from qualcode.store.project import Project

_BASE = """
SELECT c.id AS coding_id, c.document_id, d.name AS document, c.start, c."end" AS "end", k.path AS code,
       u.name AS coder, c.text, c.memo, c.code_id, c.created_at
FROM codings c JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id
JOIN coders u ON u.id = c.coder_id
"""


def _codings(project: Project, code_ref: str, include_children: bool, coder: str | None) -> list[dict]:
    code = find_code(project, code_ref)
    ids = [code["id"], *(descendants(project, code["id"]) if include_children else [])]
    sql = _BASE + f" WHERE c.code_id IN ({','.join('?' * len(ids))})"
    params: list = list(ids)
    if coder:
        sql += " AND u.name = ?"
        params.append(coder)
    return [dict(r) for r in project.query(sql + " ORDER BY d.position, d.name, c.start", params)]


class _Speakers:
    """Fills in who speaks in each returned coding; the turns are read once per retrieval."""

    def __init__(self, project: Project):
        from qualcode.analysis.units import Corpus

        self.corpus = Corpus(project)
        self.labels = {r["id"]: r["label"] for r in project.query("SELECT id, label FROM speakers")}

    def add(self, rows: list[dict]) -> list[dict]:
        from qualcode.analysis.units import Coding

        for r in rows:
            r["speakers"] = list(self.corpus.coding_speakers(Coding(r["coding_id"], r["document_id"], r["code_id"],
                                                                    r["coder"], r["start"], r["end"], r["created_at"])))
            r["speaker_id"] = r["speakers"][0] if r["speakers"] else None
            r["speaker"] = ", ".join(self.labels[s] for s in r["speakers"] if s in self.labels) or None
        return rows


def _attribute_match(project: Project, expr: str):
    """A predicate over codings for `attr:key=value` (document or speaker attribute)."""
    body = expr[len("attr:"):]
    if "=" not in body:
        raise QualcodeError(f"an attribute condition is attr:KEY=VALUE, not {expr!r}")
    key, value = (s.strip() for s in body.split("=", 1))
    docs = {r["document_id"] for r in project.query(
        "SELECT document_id FROM document_attributes WHERE key = ? AND lower(value) = lower(?)", (key, value))}
    if key == "type":
        docs |= {r["id"] for r in project.query("SELECT id FROM documents WHERE lower(type) = lower(?)", (value,))}
    speakers = {r["speaker_id"] for r in project.query(
        "SELECT speaker_id FROM speaker_attributes WHERE key = ? AND lower(value) = lower(?)", (key, value))}
    return lambda c: c["document_id"] in docs or any(s in speakers for s in c.get("speakers", ()))


def retrieve(project: Project, code: str, op: str | None = None, other: str | None = None,
             coder: str | None = None, include_children: bool = True) -> list[dict]:
    """Codings of `code` (with its sub-codes), optionally `and`/`or`/`not` another code or attribute."""
    speakers = _Speakers(project)
    base = speakers.add(_codings(project, code, include_children, coder))
    if not op:
        return base
    op = op.lower()
    if op not in ("and", "or", "not"):
        raise QualcodeError(f"combine codes with and, or, not — not {op!r}")
    if not other:
        raise QualcodeError(f"'{op}' needs a second code or attr:KEY=VALUE")
    if other.startswith("attr:"):
        match = _attribute_match(project, other)
        if op == "and":
            return [c for c in base if match(c)]
        if op == "not":
            return [c for c in base if not match(c)]
        raise QualcodeError("'or' combines two codes; use 'and'/'not' with an attribute")
    others = _codings(project, other, include_children, coder)
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for o in others:
        by_doc.setdefault(o["document_id"], []).append((o["start"], o["end"]))

    def overlaps(c):
        return any(s < c["end"] and e > c["start"] for s, e in by_doc.get(c["document_id"], []))

    if op == "and":
        return [c for c in base if overlaps(c)]
    if op == "not":
        return [c for c in base if not overlaps(c)]
    seen = {c["coding_id"] for c in base}
    merged = base + speakers.add([o for o in others if o["coding_id"] not in seen])
    return sorted(merged, key=lambda c: (c["document"], c["start"]))
