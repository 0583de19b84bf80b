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

    def relevant_speakers(c, unit_speaker):
        """The speakers a counted unit is credited to (None: the unit is out of scope)."""
        if not per_speaker and sp_scope is None:
            return ()  # grouping by a document attribute: speakers do not matter
        sps = (unit_speaker,) if unit in ("sentence", "turn", "speaker") else corpus.coding_speakers(c)
        if sp_scope is not None:
            sps = tuple(s for s in sps if s in sp_scope)
            if not sps:
                return None
        return sps

    def columns_for(doc_id, sps) -> set[str]:
        if level is None:
            return {ALL}
        if level in ("document", "name"):
            return {corpus.document_value(doc_id, by)}
        return {corpus.speaker_value(s, by) for s in sps} or {NO_VALUE}

    lineage = {c["id"]: corpus.ancestors_and_self(c["id"]) for c in corpus.codes}
    cell_n: dict[tuple[str, str], int] = defaultdict(int)
    row_n: dict[str, int] = defaultdict(int)
    seg_base: dict[str, int] = defaultdict(int)  # segment unit: codings per column
    seg_exclusive = True
    if unit in ("segment", "document") and not per_speaker and sp_scope is None:
        # a coding (or its document) falls in exactly one column: count in SQL, fold up the tree here
        doc_col = {d: (ALL if level is None else corpus.document_value(d, by)) for d in corpus.docs}
        doc_sets: dict[tuple[str, str], set] = defaultdict(set)
        doc_rows: dict[str, set] = defaultdict(set)
        for code_id, doc_id, n in corpus.grouped_counts():
            codes = lineage.get(code_id)
            if not codes or (docs_scope is not None and doc_id not in docs_scope):
                continue
            col = doc_col[doc_id]
            seg_base[col] += n
            for cid in codes:
                if unit == "segment":
                    cell_n[(cid, col)] += n
                    row_n[cid] += n
                else:
                    doc_sets[(cid, col)].add(doc_id)
                    doc_rows[cid].add(doc_id)
        if unit == "document":
            cell_n.update({k: len(v) for k, v in doc_sets.items()})
            row_n.update({k: len(v) for k, v in doc_rows.items()})
    else:
        doc_col = {d: corpus.document_value(d, by) for d in corpus.docs} if level in ("document", "name") else {}
        sp_col = {s: corpus.speaker_value(s, by) for s in corpus.speakers} if per_speaker else {}
        own: dict[tuple[str, str], set] = defaultdict(set)  # (code, column) → unit keys
        seg_cols: dict[str, int] = defaultdict(int)
        for c, key, unit_speaker in corpus.coding_units(unit):
            if docs_scope is not None and c.document_id not in docs_scope:
                continue
            if c.code_id not in lineage:
                continue
            if per_speaker or sp_scope is not None:
                sps = relevant_speakers(c, unit_speaker)
                if sps is None:
                    continue
            if level is None:
                cols = (ALL,)
            elif doc_col:
                cols = (doc_col[c.document_id],)
            else:
                cols = {sp_col.get(s, NO_VALUE) for s in sps} or {NO_VALUE}
            if unit == "segment":
                seg_cols[key] = len(cols)
                for col in cols:
                    seg_base[col] += 1
            for col in cols:
                own[(c.code_id, col)].add(key)
        # fold codes into their parents: a theme's cell is the union of its sub-codes' units
        cells: dict[tuple[str, str], set] = defaultdict(set)
        row_units: dict[str, set] = defaultdict(set)
        for (code_id, col), keys in own.items():
            for cid in lineage[code_id]:
                cells[(cid, col)] |= keys
                row_units[cid] |= keys
        cell_n.update({k: len(v) for k, v in cells.items()})
        row_n.update({k: len(v) for k, v in row_units.items()})
        seg_exclusive = all(n == 1 for n in seg_cols.values())

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
