"""Theme frequency tables: codes (as a tree, themes with subtotals) by the values of a document or
speaker attribute, at a chosen unit, with column and row percentages and chi-square tests.

Counting rule, per unit: a row's cell is the number of distinct units in that column touched by a
coding of the code or any of its sub-codes. For `segment` that is the number of codings; for
`document` it reads "mentioned in N documents"; for `speaker`, "N participants".

Percent of column divides by the column's base: every unit of the corpus in that column (all
sentences, turns, documents or non-interviewer speakers), or for `segment` all codings in it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from qualcode.analysis.units import NO_VALUE, Corpus, check_unit, parse_condition
from qualcode.store.project import Project

ALL = "All"
MIN_EXPECTED = 5  # Cochran: no expected count below 1 and at most 20% below 5


def frequency_table(project: Project, by: str | None = None, unit: str = "segment", code: str | None = None,
                    speaker_filter=None, coder: str | None = None, corpus: Corpus | None = None) -> dict:
    """The contract JSON shape {"unit","by","columns","rows":[{"code","counts","total"}]} plus
    percentages, column bases, theme subtotals and chi-square tests.

    `code` restricts rows to one code and its sub-codes; `speaker_filter` ("gender=female", or a
    document attribute such as "city=Baku") restricts the units counted; `coder` counts one coder.
    """
    unit = check_unit(unit)
    corpus = corpus or Corpus(project, coder=coder, code=code)
    level = corpus.attribute_level(by) if by else None
    docs_scope, sp_scope = _scope(corpus, speaker_filter)
    per_speaker = level == "speaker"

    def columns_for(doc_id, sps) -> set[str]:
        if level is None:
            return {ALL}
        if level in ("document", "name"):
            return {corpus.document_value(doc_id, by)}
        return {corpus.speaker_value(s, by) for s in sps} or {NO_VALUE}

    lineage = {c["id"]: corpus.ancestors_and_self(c["id"]) for c in corpus.codes}
    cell_n, row_n, seg_base, seg_exclusive = _count_units(corpus, unit, by, level, lineage, docs_scope, sp_scope)

    # bases: how many units each column holds
    bases: dict[str, int] = {}
    exclusive = True
    if unit == "segment":
        bases = dict(seg_base)
        exclusive = seg_exclusive
        for col in _possible_columns(corpus, by, level, docs_scope, sp_scope):
            bases.setdefault(col, 0)
    else:
        counted: dict[str, set] = defaultdict(set)
        per_unit_cols: dict[str, set] = defaultdict(set)
        participants: dict[str, list[str]] = defaultdict(list)
        if unit == "document" and (per_speaker or sp_scope is not None):
            for s, sp in corpus.speakers.items():
                if not corpus.is_interviewer(s):
                    participants[sp["document_id"]].append(s)
        for doc_id, key, unit_speaker in corpus.all_units(unit, docs_scope):
            if unit == "document":  # a document belongs to the groups of its participants
                sps = tuple(participants.get(doc_id, ()))
                if sp_scope is not None:
                    sps = tuple(s for s in sps if s in sp_scope)
                    if not sps:
                        continue
            else:
                sps = (unit_speaker,)
                if sp_scope is not None and unit_speaker not in sp_scope:
                    continue
            for col in columns_for(doc_id, sps):
                counted[col].add(key)
                per_unit_cols[key].add(col)
        bases = {col: len(keys) for col, keys in counted.items()}
        exclusive = all(len(v) == 1 for v in per_unit_cols.values())
    for (cid, col) in cell_n:
        bases.setdefault(col, 0)
    columns = _order_columns(corpus, by, list(bases))

    root_depth = corpus.root_code["depth"] if corpus.root_code else 0
    rows = []
    for code_row in corpus.codes:
        cid = code_row["id"]
        counts = {col: cell_n.get((cid, col), 0) for col in columns}
        total = row_n.get(cid, 0)
        n_sum = sum(counts.values())
        has_children = any(lineage[o["id"]][1:2] == [cid] for o in corpus.codes)
        rows.append({
            "code": code_row["path"], "name": code_row["name"], "depth": code_row["depth"] - root_depth,
            "theme": code_row["path"].split("/", 1)[0], "subtotal": has_children,
            "counts": counts, "total": total,
            "column_percent": {col: _pct(counts[col], bases[col]) for col in columns},
            "row_percent": {col: _pct(counts[col], n_sum) for col in columns},
        })
    table = {"unit": unit, "by": by, "columns": columns, "rows": rows,
             "column_totals": {col: bases[col] for col in columns},
             "filters": {"code": corpus.root_code["path"] if corpus.root_code else None,
                         "where": "=".join(parse_condition(speaker_filter)) if speaker_filter else None,
                         "coder": coder},
             "exclusive_columns": exclusive}
    _add_tests(table, exclusive)
    return table


def _count_units(corpus: Corpus, unit: str, by, level, lineage: dict, docs_scope, sp_scope):
    """Cells, row totals, and for segments the column bases and whether each coding sits in one
    column, by the general rule: every (coding, unit) pair is credited to its columns (the coding's
    document, the unit's speaker, or for segments and documents the coding's speakers), folded up
    the code tree, and distinct units counted. On arrays: the Python loop took 3 s at 100k codings."""
    import numpy as np

    from qualcode.analysis.intervals import distinct

    c = corpus.coding_arrays()
    n = len(c.doc)
    names: dict[str, int] = {}  # column name → index

    def col(name: str) -> int:
        return names.setdefault(name, len(names))

    per_speaker = level == "speaker"
    sp_ids = corpus.speaker_ids
    if level is None:
        doc_cols = np.full(len(corpus.doc_order), col(ALL), dtype=np.int64)
    elif level in ("document", "name"):
        doc_cols = np.array([col(corpus.document_value(d, by)) for d in corpus.doc_order], dtype=np.int64)
    else:  # the last entry answers for speaker index -1 (a unit nobody speaks)
        sp_cols = np.array([col(corpus.speaker_value(s, by)) for s in sp_ids] + [col(NO_VALUE)], dtype=np.int64)
    in_scope = np.array([s in sp_scope for s in sp_ids] + [False], dtype=bool) if sp_scope is not None else None

    code_index = {cid: i for i, cid in enumerate(corpus.code_ids)}
    code_ok = np.zeros(len(code_index) + 1, dtype=bool)
    code_ok[[code_index[cid] for cid in lineage]] = True
    keep = code_ok[c.code]
    if docs_scope is not None:
        keep &= np.array([d in docs_scope for d in corpus.doc_order], dtype=bool)[c.doc]

    ci, ui, us = corpus.unit_pairs(unit)
    sel = keep[ci]
    ci, ui, us = ci[sel], ui[sel], us[sel]
    if unit in ("sentence", "turn", "speaker"):  # credited to the unit's own speaker
        if in_scope is not None:
            sel = in_scope[us]
            ci, ui, us = ci[sel], ui[sel], us[sel]
        cols = sp_cols[us] if per_speaker else doc_cols[c.doc[ci]]
    elif per_speaker or in_scope is not None:  # segment, document: credited to the coding's speakers
        sci, ssp = corpus.coding_speaker_pairs()
        sel = keep[sci] if in_scope is None else keep[sci] & in_scope[ssp]
        sci, ssp = sci[sel], ssp[sel]
        spoken = np.zeros(n, dtype=bool)
        spoken[sci] = True
        if per_speaker:
            # no speaker at all: the (no value) column, unless a speaker filter left it out
            silent = ci[~spoken[ci]] if in_scope is None else ci[:0]
            ci = np.concatenate([sci, silent])
            cols = np.concatenate([sp_cols[ssp], np.full(len(silent), col(NO_VALUE), dtype=np.int64)])
        else:
            ci = ci[spoken[ci]]
            cols = doc_cols[c.doc[ci]]
        ui = ci if unit == "segment" else c.doc[ci]
    else:
        cols = doc_cols[c.doc[ci]]

    n_cols = max(len(names), 1)
    col_names = list(names)
    seg_base: dict[str, int] = {}
    seg_exclusive = True
    if unit == "segment":
        pairs = distinct(ci * n_cols + cols)
        for k, v in enumerate(np.bincount(pairs % n_cols, minlength=n_cols).tolist()):
            if v:
                seg_base[col_names[k]] = v
        owners = pairs // n_cols
        seg_exclusive = bool(len(owners) == len(distinct(owners)))

    # fold codes into their parents: a theme's cell is the union of its sub-codes' units
    depth = max(len(v) for v in lineage.values()) if lineage else 1
    up = np.full((len(code_index) + 1, depth), -1, dtype=np.int64)
    for cid, chain in lineage.items():
        up[code_index[cid], :len(chain)] = [code_index[x] for x in chain]
    anc = up[c.code[ci]]
    has = anc >= 0
    codes_x = anc[has]
    cols_x = np.broadcast_to(cols[:, None], anc.shape)[has]
    units_x = np.broadcast_to(ui[:, None], anc.shape)[has]
    n_units = int(ui.max()) + 1 if len(ui) else 1
    cell_keys = distinct((codes_x * n_cols + cols_x) * n_units + units_x) // n_units
    row_keys = distinct(codes_x * n_units + units_x) // n_units
    code_ids = corpus.code_ids
    cell_n = {(code_ids[k // n_cols], col_names[k % n_cols]): v
              for k, v in zip(*(a.tolist() for a in np.unique(cell_keys, return_counts=True)))}
    row_n = {code_ids[k]: v for k, v in zip(*(a.tolist() for a in np.unique(row_keys, return_counts=True)))}
    return cell_n, row_n, seg_base, seg_exclusive


def _pct(n: int, base: int) -> float | None:
    return round(100.0 * n / base, 1) if base else None


def _scope(corpus: Corpus, condition) -> tuple[set[str] | None, set[str] | None]:
    cond = parse_condition(condition)
    if cond is None:
        return None, None
    key, value = cond
    if corpus.attribute_level(key) in ("document", "name"):
        return corpus.matching_documents(key, value), None
    return None, corpus.matching_speakers(key, value)


def _possible_columns(corpus: Corpus, by, level, docs_scope, sp_scope) -> set[str]:
    """Values present in scope, so a group with no codings still shows as a zero column."""
    if level is None:
        return {ALL}
    docs = [d for d in corpus.doc_order if docs_scope is None or d in docs_scope]
    if level in ("document", "name"):
        return {corpus.document_value(d, by) for d in docs}
    docset = set(docs)
    return {corpus.speaker_value(s, by) for s, sp in corpus.speakers.items()
            if sp["document_id"] in docset and not corpus.is_interviewer(s) and (sp_scope is None or s in sp_scope)}


def _order_columns(corpus: Corpus, by, cols: list[str]) -> list[str]:
    if by == "document":
        order = {corpus.docs[d]["name"]: i for i, d in enumerate(corpus.doc_order)}
        return sorted(cols, key=lambda c: (order.get(c, 1 << 30), c))
    return sorted(cols, key=lambda c: (c == NO_VALUE, _natural(c)))


def _natural(value: str):
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value.lower())


# --- chi-square ---------------------------------------------------------------------------------

def chi_square(table: list[list[float]]) -> dict | None:
    """Pearson's chi-square test of independence with Cramér's V, or None when the table has fewer
    than two non-empty rows or columns. `small_expected` flags Cochran's rule being broken
    (an expected count below 1, or more than 20% of them below 5): the p-value is then unreliable.
    """
    rows = [r for r in table if sum(r) > 0]
    if len(rows) < 2:
        return None
    keep = [j for j in range(len(rows[0])) if sum(r[j] for r in rows) > 0]
    if len(keep) < 2:
        return None
    rows = [[r[j] for j in keep] for r in rows]
    n = sum(sum(r) for r in rows)
    rsum = [sum(r) for r in rows]
    csum = [sum(r[j] for r in rows) for j in range(len(keep))]
    stat = 0.0
    expected = []
    for i, r in enumerate(rows):
        for j, obs in enumerate(r):
            e = rsum[i] * csum[j] / n
            expected.append(e)
            stat += (obs - e) ** 2 / e
    df = (len(rows) - 1) * (len(keep) - 1)
    p = chi2_sf(stat, df)
    k = min(len(rows), len(keep)) - 1
    low = sum(1 for e in expected if e < MIN_EXPECTED) / len(expected)
    return {"chi2": round(stat, 4), "df": df, "p": p, "n": n,
            "cramers_v": round(math.sqrt(stat / (n * k)), 4) if n and k else None,
            "min_expected": round(min(expected), 3),
            "small_expected": min(expected) < 1 or low > 0.2}


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df ≥ x): the regularised upper incomplete gamma Q(df/2, x/2), by its series below
    a + 1 and its continued fraction above (Numerical Recipes' gammq). Saves importing scipy."""
    if x <= 0:
        return 1.0
    a, z = df / 2.0, x / 2.0
    log_front = a * math.log(z) - z - math.lgamma(a)
    if z < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= z / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = z + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def _add_tests(table: dict, exclusive: bool) -> None:
    """A per-row test (this code vs the rest of each column) and, for segments, themes × columns."""
    cols = [c for c in table["columns"] if c != NO_VALUE]
    note = None
    if len(cols) < 2:
        note = "needs at least two groups"
    elif not exclusive:
        note = "some units fall in more than one group (e.g. a turn exchange between a man and a woman); no test"
    table["test_note"] = note
    overall = None
    if note is None:
        bases = table["column_totals"]
        for row in table["rows"]:
            row["test"] = chi_square([[row["counts"][c] for c in cols],
                                      [bases[c] - row["counts"][c] for c in cols]])
        if table["unit"] == "segment":
            top = min((r["depth"] for r in table["rows"]), default=0)
            themes = [r for r in table["rows"] if r["depth"] == top]
            if table["filters"]["code"]:  # one theme: compare its sub-codes instead
                themes = [r for r in table["rows"] if r["depth"] == top + 1]
            overall = chi_square([[r["counts"][c] for c in cols] for r in themes])
            if overall is not None:
                overall["rows"] = [r["code"] for r in themes]
    else:
        for row in table["rows"]:
            row["test"] = None
    table["test"] = overall


def cooccurrence(project: Project, unit: str = "segment", **kwargs) -> dict:
    from qualcode.analysis.cooccurrence import cooccurrence as _cooccurrence

    return _cooccurrence(project, unit=unit, **kwargs)


def write_table(table: dict, path, fmt: str | None = None) -> None:
    """Write a frequency or co-occurrence table as csv, json, md, docx or xlsx."""
    from qualcode.export.tables import write_table as _write

    _write(table, path, fmt)
