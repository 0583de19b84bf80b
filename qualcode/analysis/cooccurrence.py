"""Code × code co-occurrence: overlapping coded spans, or codes sharing a sentence, turn,
document or speaker.

For `segment`, a cell counts pairs of codings of the two codes whose spans overlap (the diagonal
holds each code's number of codings); for the other units, a cell counts units coded with both
codes (the diagonal: units coded with the code). The matrix is symmetric.
"""

from __future__ import annotations

from qualcode.analysis.units import Corpus, check_unit, parse_condition
from qualcode.store.project import Project


def cooccurrence(project: Project, unit: str = "segment", code: str | None = None, coder: str | None = None,
                 themes: bool = False, speaker_filter=None, corpus: Corpus | None = None) -> dict:
    """{"unit","codes":[...],"matrix":[[...]]}; `themes` folds sub-codes into their theme.
    Counted on arrays (see intervals.py): a per-coding loop took 3 s at 100k codings."""
    import numpy as np

    from qualcode.analysis.frequencies import _scope
    from qualcode.analysis.intervals import gram, overlapping_span_pairs

    unit = check_unit(unit)
    corpus = corpus or Corpus(project, coder=coder, code=code)
    docs_scope, sp_scope = _scope(corpus, speaker_filter)

    def label(code_id: str) -> str:
        return corpus.theme_of(code_id)["path"] if themes else corpus.code_by_id[code_id]["path"]

    c = corpus.coding_arrays()
    keep = np.ones(len(c.doc), dtype=bool)
    if docs_scope is not None:
        keep &= np.array([d in docs_scope for d in corpus.doc_order], dtype=bool)[c.doc]
    if sp_scope is not None:  # a coding counts when one of its speakers is in the group
        in_scope = np.array([s in sp_scope for s in corpus.speaker_ids] + [False], dtype=bool)
        sci, ssp = corpus.coding_speaker_pairs()
        spoken = np.zeros(len(c.doc), dtype=bool)
        spoken[sci[in_scope[ssp]]] = True
        keep &= spoken
    code_ids = corpus.code_ids
    order = {k["path"]: i for i, k in enumerate(corpus.codes)}
    present = sorted({label(code_ids[k]) for k in np.flatnonzero(np.bincount(c.code[keep])).tolist()},
                     key=lambda p: order.get(p, 1 << 30))
    index = {p: i for i, p in enumerate(present)}
    n = len(present)
    label_of = np.array([index.get(label(cid), -1) for cid in code_ids], dtype=np.int64)  # -1: not in scope

    if unit == "segment":
        docs, starts, ends, labels = c.doc[keep], c.start[keep], c.end[keep], label_of[c.code[keep]]
        matrix = overlapping_span_pairs(docs, starts, ends, labels, n, len(corpus.doc_order)).tolist()
    else:
        ci, ui, us = corpus.unit_pairs(unit)
        sel = keep[ci]
        if sp_scope is not None and unit in ("sentence", "turn", "speaker"):
            sel &= in_scope[us]
        matrix = gram(ui[sel], label_of[c.code[ci[sel]]], n).tolist()
    return {"unit": unit, "codes": present, "matrix": matrix, "themes": themes,
            "filters": {"code": corpus.root_code["path"] if corpus.root_code else None, "coder": coder,
                        "where": "=".join(parse_condition(speaker_filter)) if speaker_filter else None}}


def top_pairs(table: dict, limit: int = 10) -> list[dict]:
    """The most frequent off-diagonal pairs, for a quick read of a large matrix."""
    out = []
    codes, m = table["codes"], table["matrix"]
    for i in range(len(codes)):
        for j in range(i + 1, len(codes)):
            if m[i][j]:
                out.append({"a": codes[i], "b": codes[j], "n": m[i][j]})
    return sorted(out, key=lambda p: -p["n"])[:limit]
