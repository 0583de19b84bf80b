"""Code × code co-occurrence: overlapping coded spans, or codes sharing a sentence, turn,
document or speaker.

For `segment`, a cell counts pairs of codings of the two codes whose spans overlap (the diagonal
holds each code's number of codings); for the other units, a cell counts units coded with both
codes (the diagonal: units coded with the code). The matrix is symmetric.
"""

from __future__ import annotations

from collections import defaultdict

from qualcode.analysis.units import Corpus, check_unit, parse_condition
from qualcode.store.project import Project


def cooccurrence(project: Project, unit: str = "segment", code: str | None = None, coder: str | None = None,
                 themes: bool = False, speaker_filter=None, corpus: Corpus | None = None) -> dict:
    """{"unit","codes":[...],"matrix":[[...]]}; `themes` folds sub-codes into their theme."""
    unit = check_unit(unit)
    corpus = corpus or Corpus(project, coder=coder, code=code)
    from qualcode.analysis.frequencies import _scope

    docs_scope, sp_scope = _scope(corpus, speaker_filter)

    def label(code_id: str) -> str:
        return corpus.theme_of(code_id)["path"] if themes else corpus.code_by_id[code_id]["path"]

    codings = [c for c in corpus.codings if docs_scope is None or c.document_id in docs_scope]
    if sp_scope is not None:
        codings = [c for c in codings if any(s in sp_scope for s in corpus.coding_speakers(c))]
    order = {c["path"]: i for i, c in enumerate(corpus.codes)}
    present = sorted({label(c.code_id) for c in codings}, key=lambda p: order.get(p, 1 << 30))
    index = {p: i for i, p in enumerate(present)}
    n = len(present)
    matrix = [[0] * n for _ in range(n)]

    label_index = {cid: index[label(cid)] for cid in {c.code_id for c in codings}}
    if unit == "segment":
        # sweep each document in start order: spans still open when a coding starts overlap it
        last_doc, active = None, []
        for c in sorted(codings, key=lambda c: (c.document_id, c.start)):
            i = label_index[c.code_id]
            matrix[i][i] += 1
            if c.document_id != last_doc:
                last_doc, active = c.document_id, []
            start = c.start
            active = [a for a in active if a[0] > start]
            row = matrix[i]
            for _, j in active:
                if i != j:
                    row[j] += 1
                    matrix[j][i] += 1
            active.append((c.end, i))
    else:
        unit_codes: dict[str, set[int]] = defaultdict(set)
        for c, key, unit_speaker in corpus.coding_units(unit):
            if sp_scope is not None and unit in ("sentence", "turn", "speaker") and unit_speaker not in sp_scope:
                continue
            if docs_scope is not None and c.document_id not in docs_scope:
                continue
            if sp_scope is not None and not any(s in sp_scope for s in corpus.coding_speakers(c)):
                continue
            unit_codes[key].add(label_index[c.code_id])
        for idxs in unit_codes.values():
            for i in idxs:
                row = matrix[i]
                for j in idxs:
                    row[j] += 1
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
