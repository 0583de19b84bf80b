"""Suggested codes as proposals: listed, accepted (becoming a coding) or rejected.

Generation lives in qualcode.nlp; this module is only the store side, so the app can review
suggestions without loading spaCy or scikit-learn. Accepting and rejecting are events like any
other change, and the model learns from both (rejected ones become negatives).
"""

from __future__ import annotations

import json

from qualcode.coding import coding_row, ensure_coder
from qualcode.errors import QualcodeError
from qualcode.store.project import Project, current_coder, now


def open_suggestions(project: Project, document_id: str | None = None, limit: int | None = None) -> list[dict]:
    """Open suggestions, most useful first: highest score, then uncertain codes last."""
    sql = ("SELECT s.*, d.name AS document, c.path AS code FROM suggestions s "
           "JOIN documents d ON d.id = s.document_id JOIN codes c ON c.id = s.code_id WHERE s.status = 'open'")
    params: list = []
    if document_id:
        sql += " AND s.document_id = ?"
        params.append(document_id)
    sql += " ORDER BY s.score DESC, d.position, s.start"
    if limit:
        sql += f" LIMIT {int(limit)}"
    out = []
    for r in project.query(sql, params):
        d = dict(r)
        d["evidence"] = json.loads(d["evidence"] or "{}")
        out.append(d)
    return out


def _get(project: Project, suggestion_id: str):
    row = project.one("SELECT s.*, c.path, d.name AS doc FROM suggestions s JOIN codes c ON c.id = s.code_id "
                      "JOIN documents d ON d.id = s.document_id WHERE s.id = ?", (suggestion_id,))
    if row is None:
        raise QualcodeError(f"no suggestion {suggestion_id}")
    if row["status"] != "open":
        raise QualcodeError(f"that suggestion was already {row['status']}")
    return row


def accept_suggestion(project: Project, suggestion_id: str, coder: str | None = None) -> str:
    """Turn a suggestion into a coding by the current coder; returns the coding id."""
    s = _get(project, suggestion_id)
    coder = current_coder(project, coder)
    doc = project.one("SELECT * FROM documents WHERE id = ?", (s["document_id"],))
    with project.change("suggestion", f"Accepted {s['path']} on {s['doc']} {s['start']}–{s['end']}", coder) as ch:
        coder_id = ensure_coder(ch, coder)
        row = coding_row(doc, s["code_id"], coder_id, s["start"], s["end"], None, "suggestion")
        ch.insert("codings", row)
        ch.update("suggestions", suggestion_id, {"status": "accepted", "decided_at": now(), "decided_by": coder})
    return row["id"]


def reject_suggestion(project: Project, suggestion_id: str, coder: str | None = None) -> None:
    s = _get(project, suggestion_id)
    coder = current_coder(project, coder)
    with project.change("suggestion", f"Rejected {s['path']} on {s['doc']} {s['start']}–{s['end']}", coder) as ch:
        ch.update("suggestions", suggestion_id, {"status": "rejected", "decided_at": now(), "decided_by": coder})


def rejected_spans(project: Project) -> list[dict]:
    """Rejected suggestions: negatives for training."""
    return [dict(r) for r in project.query(
        "SELECT document_id, code_id, start, \"end\" FROM suggestions WHERE status = 'rejected'")]
