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

    if unit == "segment":
        by_doc: dict[str, list] = defaultdict(list)
        for c in codings:
            by_doc[c.document_id].append(c)
            matrix[index[label(c.code_id)]][index[label(c.code_id)]] += 1
        for items in by_doc.values():
            items.sort(key=lambda c: c.start)
            active: list = []
            for c in items:  # sweep: spans still open when c starts overlap it
                active = [a for a in active if a.end > c.start]
                i = index[label(c.code_id)]
                for a in active:
                    j = index[label(a.code_id)]
                    if i != j:
                        matrix[i][j] += 1
                        matrix[j][i] += 1
                active.append(c)
    else:
        unit_codes: dict[str, set[int]] = defaultdict(set)
        for c in codings:
            i = index[label(c.code_id)]
            for key, unit_speaker in corpus.units_of(c, unit):
                if sp_scope is not None and unit in ("sentence", "turn", "speaker") and unit_speaker not in sp_scope:
                    continue
                unit_codes[key].add(i)
        for idxs in unit_codes.values():
            for i in idxs:
                for j in idxs:
                    matrix[i][j] += 1
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
