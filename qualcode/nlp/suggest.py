"""Suggested codes for the units researchers code, stored as proposals for review.

Each suggestion carries a score in [0, 1] (the model's probability that a coder would apply the
code to that unit), the evidence behind it (matched keywords, the nearest coded examples and
their documents, the code's measured reliability) and the model version. Generating replaces
the open suggestions of the scored documents and keeps accepted and rejected ones; it never
proposes a code already applied to the span, nor one a coder rejected there. A sub-code implies
its theme, so the theme itself is not proposed beside its own sub-code.
"""

from __future__ import annotations

import json

from qualcode.codebook import SEP
from qualcode.documents import find_document
from qualcode.errors import QualcodeError
from qualcode.nlp import model as modelmod
from qualcode.nlp.units import check_unit, load_units
from qualcode.store.project import Project, new_id, now

EXAMPLES = 2
CHUNK = 4000
THRESHOLD_SETTING = "suggest.threshold"
RELIABILITY_SETTING = "suggest.reliability"


def threshold(project: Project) -> float:
    value = project.setting(THRESHOLD_SETTING)
    try:
        return float(value) if value is not None else modelmod.DEFAULT_THRESHOLD
    except (TypeError, ValueError):
        return modelmod.DEFAULT_THRESHOLD


def _documents(project: Project, documents) -> list:
    if documents is None:
        return project.query("SELECT id, name FROM documents ORDER BY position, name")
    rows, seen = [], set()
    for name in documents:
        r = find_document(project, name)
        if r["id"] not in seen:
            seen.add(r["id"])
            rows.append(r)
    return rows


def generate_suggestions(project: Project, documents: list[str] | None = None, unit: str = "sentence", top: int = 3,
                         progress=None, min_score: float | None = None, store: bool = True) -> list[dict]:
    """Score every unit of the documents (names; None = all), store and return the proposals."""
    unit = check_unit(unit)
    if top < 1:
        raise QualcodeError("--top must be at least 1")
    docs = _documents(project, documents)
    if not docs:
        return []
    if project.one("SELECT 1 FROM codes LIMIT 1") is None:
        raise QualcodeError("the project has no codebook yet; import one with `qualcode codebook import FILE`")
    units = load_units(project, unit, [d["id"] for d in docs])
    # whole documents per batch, about CHUNK units each: bounded memory, steady progress
    batches, current = [], []
    for i, u in enumerate(units):
        if current and len(current) >= CHUNK and u.doc_id != units[i - 1].doc_id:
            batches.append(current)
            current = []
        current.append(u)
    if current:
        batches.append(current)
    total = len(batches) + 1

    def step(done):
        if progress:
            progress(done, total)

    step(0)
    model = modelmod.ensure_model(project, unit)
    step(1)
    cutoff = threshold(project) if min_score is None else float(min_score)
    reliability = project.setting(RELIABILITY_SETTING, {}) or {}
    applied, rejected = _decided(project, [d["id"] for d in docs])
    out: list[dict] = []
    for n, batch in enumerate(batches, start=2):
        out.extend(_propose(project, model, batch, top, cutoff, applied, rejected, reliability))
        step(n)
    if store:
        _store(project, [d["id"] for d in docs], out, unit)
    return out


def _decided(project: Project, doc_ids: list[str]):
    """Spans already coded (per document) and rejected suggestions (exact span and code)."""
    marks = ",".join("?" * len(doc_ids))
    applied: dict = {}
    for r in project.query(f"SELECT c.document_id, c.start, c.\"end\", k.path FROM codings c JOIN codes k "
                           f"ON k.id = c.code_id WHERE c.document_id IN ({marks})", doc_ids):
        applied.setdefault(r["document_id"], []).append((r["start"], r["end"], r["path"]))
    rejected = {(r["document_id"], r["code_id"], r["start"], r["end"]) for r in project.query(
        f"SELECT document_id, code_id, start, \"end\" FROM suggestions WHERE status = 'rejected' "
        f"AND document_id IN ({marks})", doc_ids)}
    return applied, rejected


def _ancestors(path: str) -> list[str]:
    parts = path.split(SEP)
    return [SEP.join(parts[:i]) for i in range(1, len(parts))]


def _propose(project, model, units, top, cutoff, applied, rejected, reliability) -> list[dict]:
    import numpy as np

    S, nearest, terms, blocks = modelmod.score(project, model, units)
    paths = model.paths
    by_path = {p: i for i, p in enumerate(paths)}
    positives = [np.where(model.bank.labels[:, c])[0] for c in range(len(paths))]
    out = []
    ranked = np.argsort(-S, axis=1)[:, :top + 6]      # a few spare for codes that are skipped
    for i in np.where(S.max(1) >= cutoff)[0] if len(units) else []:
        u = units[i]
        taken = set()
        for s, e, path in applied.get(u.doc_id, ()):
            if s < u.end and e > u.start:
                taken.add(path)
                taken.update(_ancestors(path))      # a coded sub-code already implies its theme
        chosen: list[int] = []
        for c in ranked[i]:
            if len(chosen) >= top or S[i, c] < cutoff:
                break
            path = paths[c]
            if path in taken or (u.doc_id, model.code_ids[c], u.start, u.end) in rejected:
                continue
            if any(paths[k].startswith(path + SEP) for k in chosen):
                continue                                   # its sub-code is already proposed
            chosen = [k for k in chosen if not path.startswith(paths[k] + SEP)]
            chosen.append(int(c))
        for c in chosen:
            path = paths[c]
            evidence = {"source": "model" if model.classifiers[c] is not None else "codebook",
                        "matched_terms": terms.get((i, c), []),
                        "examples": _examples(model, blocks["dense"][i], nearest[i], c, positives[c], u.doc)}
            parents = [a for a in _ancestors(path) if a in by_path]
            if parents:
                evidence["theme"] = parents[0]
            if path in reliability:
                evidence["reliability"] = reliability[path]
            out.append({"document": u.doc, "document_id": u.doc_id, "code_id": model.code_ids[c],
                        "start": u.start, "end": u.end, "code": path, "score": round(float(S[i, c]), 4),
                        "unit": model.unit, "text": u.text, "evidence": evidence, "model_version": model.version})
    return out


def _examples(model, vector, nearest_row, c, positives, doc) -> list[dict]:
    """The nearest coded units with this code, from other documents."""
    import numpy as np

    bank = model.bank
    picks = [int(j) for j in nearest_row if j >= 0 and bank.labels[j, c] and bank.refs[j][0] != doc][:EXAMPLES]
    if len(picks) < EXAMPLES and len(positives):
        sims = bank.vectors["dense"][positives] @ vector
        for j in positives[np.argsort(-sims)]:
            if len(picks) >= EXAMPLES:
                break
            if j not in picks and bank.refs[j][0] != doc:
                picks.append(int(j))
    out = []
    for j in picks:
        source, start, end, text = bank.refs[j]
        out.append({"document": source, "start": start, "end": end, "text": text,
                    "similarity": round(float(bank.vectors["dense"][j] @ vector), 3)})
    return out


def _store(project: Project, doc_ids: list[str], suggestions: list[dict], unit: str) -> None:
    stamp = now()
    rows = [{"id": new_id(), "document_id": s["document_id"], "code_id": s["code_id"], "start": s["start"],
             "end": s["end"], "unit": unit, "score": s["score"],
             "evidence": json.dumps(s["evidence"], ensure_ascii=False), "model_version": s["model_version"],
             "status": "open", "created_at": stamp} for s in suggestions]
    marks = ",".join("?" * len(doc_ids))
    summary = f"Suggested {len(rows)} code{'s' * (len(rows) != 1)} in {len(doc_ids)} document{'s' * (len(doc_ids) != 1)}"
    with project.change("suggest", summary) as ch:
        ch.delete_where("suggestions", f"status = 'open' AND document_id IN ({marks})", doc_ids)
        ch.insert_many("suggestions", rows)
