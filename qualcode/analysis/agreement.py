"""Inter-coder agreement on a project: reliability data from codings, figures, disagreements.

docs/agreement.md says how codings become reliability data (present 1 / absent 0 / missing per
coder, code and unit) and what each figure means; agreement_stats holds the formulas for a
coders × units matrix. Here the same figures are computed from *pattern counts*: a unit's
column of values (e.g. coder A 1, coder B 0, coder C missing) is one of 3^coders patterns, and
every statistic depends only on how many units show each pattern. That keeps character-level
agreement (one unit per character) and bootstrap intervals fast; tests check the results equal
agreement_stats on the expanded matrix.

Bootstrap: resampling n units with replacement is drawing pattern counts from a multinomial,
which is what happens for sentence, turn, paragraph and document units. Characters are not
independent, so at character level whole documents are resampled instead.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from qualcode.errors import QualcodeError
from qualcode.store.project import Project

UNITS = ("sentence", "turn", "paragraph", "document", "character")
_TABLES = {"sentence": "sentences", "turn": "turns", "paragraph": "paragraphs"}
STATS = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
MAX_CODERS = 8


# --- statistics from pattern counts ----------------------------------------------------------

class Patterns:
    """The 3^m value patterns of m coders: 0 = missing, 1 = code absent, 2 = code present."""

    def __init__(self, m: int):
        self.m = m
        self.size = 3 ** m
        digits = np.array([[(p // 3 ** j) % 3 for j in range(m)] for p in range(self.size)], dtype=np.int64)
        self.digits = digits
        self.n0 = (digits == 1).sum(axis=1)
        self.n1 = (digits == 2).sum(axis=1)
        self.mu = self.n0 + self.n1
        self.pairable = self.mu >= 2
        self.agree = self.pairable & ((self.n0 == 0) | (self.n1 == 0))
        self.complete = self.mu == m

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Pattern id of each column of a coders × units matrix of 0/1/2 values."""
        weights = 3 ** np.arange(self.m, dtype=np.int64)
        return (values.astype(np.int64) * weights[:, None]).sum(axis=0)

    def stats(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Every statistic for pattern counts of shape (..., size); NaN where undefined."""
        c = np.asarray(counts, dtype=float)
        out: dict[str, np.ndarray] = {}
        with np.errstate(divide="ignore", invalid="ignore"):
            pair = c[..., self.pairable].sum(axis=-1)
            out["n_units"] = pair
            out["percent_agreement"] = np.where(pair > 0, c[..., self.agree].sum(axis=-1) / pair, np.nan)
            # Krippendorff's alpha (nominal), coincidence form; see agreement_stats
            n0 = (c * np.where(self.pairable, self.n0, 0)).sum(axis=-1)
            n1 = (c * np.where(self.pairable, self.n1, 0)).sum(axis=-1)
            n = n0 + n1
            expected = n * (n - 1) - n0 * (n0 - 1) - n1 * (n1 - 1)
            diag = np.where(self.pairable, (self.n0 * (self.n0 - 1) + self.n1 * (self.n1 - 1))
                            / np.maximum(self.mu - 1, 1), 0.0)
            o_diag = (c * diag).sum(axis=-1)
            out["krippendorff_alpha"] = np.where((expected != 0) & (pair > 0),
                                                 1.0 - (n - 1) * (n - o_diag) / expected, np.nan)
            # Fleiss' kappa on the units every coder coded
            if self.m >= 2:
                cc = np.where(self.complete, 1.0, 0.0) * c
                N = cc.sum(axis=-1)
                total = N * self.m
                t0 = (cc * self.n0).sum(axis=-1)
                t1 = (cc * self.n1).sum(axis=-1)
                sq = t0 ** 2 + t1 ** 2
                p_bar = (cc * (self.n0 ** 2 + self.n1 ** 2 - self.m)).sum(axis=-1) / (N * self.m * (self.m - 1))
                p_e = sq / total ** 2
                out["fleiss_kappa"] = np.where((N > 0) & (sq != total ** 2), (p_bar - p_e) / (1 - p_e), np.nan)
            else:
                out["fleiss_kappa"] = np.full(c.shape[:-1], np.nan)
            # Cohen's kappa: two coders, units both coded
            if self.m == 2:
                a, b = self.digits[:, 0], self.digits[:, 1]
                both = (a > 0) & (b > 0)
                nb = (c * both).sum(axis=-1)
                agree = (c * (both & (a == b))).sum(axis=-1)
                a1 = (c * (both & (a == 2))).sum(axis=-1)
                b1 = (c * (both & (b == 2))).sum(axis=-1)
                chance = a1 * b1 + (nb - a1) * (nb - b1)
                denom = nb * nb - chance
                out["cohen_kappa"] = np.where((nb > 0) & (denom != 0), (nb * agree - chance) / denom, np.nan)
            else:
                out["cohen_kappa"] = np.full(c.shape[:-1], np.nan)
        return out


def _clean(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _interval(values: np.ndarray, level: float) -> list[float | None]:
    v = values[~np.isnan(values)]
    if v.size == 0:
        return [None, None]
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(v, [tail, 1.0 - tail])
    return [float(lo), float(hi)]


def bootstrap(pat: Patterns, clusters: np.ndarray, n: int, seed: int, level: float,
              singletons: bool) -> dict[str, list]:
    """Percentile intervals from resampling clusters (rows of pattern counts) with replacement.

    With `singletons` every cluster is one unit, and resampling units is one multinomial draw
    over the pattern counts. Otherwise identical clusters are pooled and the number of times
    each distinct cluster is drawn is multinomial: the same distribution as picking k clusters.
    """
    rng = np.random.default_rng(seed)
    total = clusters.sum(axis=0)
    if singletons:
        k = int(total.sum())
        if k == 0:
            return {s: [None, None] for s in STATS}
        draws = rng.multinomial(k, total / k, size=n)
    else:
        k = clusters.shape[0]
        if k == 0:
            return {s: [None, None] for s in STATS}
        # identical clusters are interchangeable: draw how often each distinct one is picked
        distinct, weight = np.unique(clusters, axis=0, return_counts=True)
        draws = rng.multinomial(k, weight / k, size=n) @ distinct
    stats = pat.stats(draws)
    names = STATS if pat.m == 2 else tuple(s for s in STATS if s != "cohen_kappa")
    return {s: _interval(stats[s], level) for s in names}


# --- reliability data from codings -----------------------------------------------------------

@dataclass
class Reliability:
    """Per code, the pattern of every unit; units listed in document order."""
    unit: str
    coders: list[str]
    codes: list[dict]                                  # id, path
    units: list[tuple[str, int, int, int]] = field(default_factory=list)   # (doc id, idx, start, end); not for characters
    patterns: dict[str, np.ndarray] = field(default_factory=dict)          # code id -> pattern per unit (unit-level)
    doc_counts: dict[str, np.ndarray] = field(default_factory=dict)        # code id -> docs × patterns (character)
    runs: dict[str, list] = field(default_factory=dict)                    # code id -> disagreeing char runs
    applied: dict[str, dict[str, int]] = field(default_factory=dict)       # code id -> coder -> units with 1
    documents: list[dict] = field(default_factory=list)


def _select(project: Project, coders: list[str] | None, codes: list[str] | None,
            documents: list[str] | None) -> tuple[list[dict], list[dict], list[dict]]:
    from qualcode.codebook import find_code
    from qualcode.documents import find_document

    docs = [dict(find_document(project, d)) for d in documents] if documents else \
        [dict(r) for r in project.query("SELECT * FROM documents ORDER BY position, name")]
    doc_ids = [d["id"] for d in docs]
    marks = ",".join("?" * len(doc_ids))
    known = {r["name"]: r["id"] for r in project.query("SELECT id, name FROM coders")}
    if coders:
        missing = [c for c in coders if c not in known]
        if missing:
            raise QualcodeError(f"unknown coder {missing[0]!r}; coders in this project: {', '.join(sorted(known)) or 'none'}")
        chosen = [{"id": known[c], "name": c} for c in dict.fromkeys(coders)]
    else:
        chosen = [{"id": r["id"], "name": r["name"]} for r in project.query(
            f"SELECT k.id, k.name FROM coders k WHERE EXISTS (SELECT 1 FROM codings c WHERE c.coder_id = k.id "
            f"AND c.document_id IN ({marks})) ORDER BY k.name", doc_ids)]
    if len(chosen) < 2:
        have = ", ".join(c["name"] for c in chosen) or "nobody"
        raise QualcodeError(f"agreement needs codings by at least two coders; found {have}. "
                            "Bring in a second coder's work with `qualcode merge FILE`")
    if len(chosen) > MAX_CODERS:
        raise QualcodeError(f"agreement compares at most {MAX_CODERS} coders at once; choose them with --coders")
    if codes:
        code_rows = [dict(find_code(project, c)) for c in codes]
    else:
        ids = [c["id"] for c in chosen]
        code_rows = [dict(r) for r in project.query(
            f"SELECT DISTINCT k.* FROM codes k JOIN codings c ON c.code_id = k.id WHERE c.coder_id IN "
            f"({','.join('?' * len(ids))}) AND c.document_id IN ({marks}) ORDER BY k.path", [*ids, *doc_ids])]
    return chosen, code_rows, docs


def reliability(project: Project, coders: list[str] | None = None, unit: str = "sentence",
                codes: list[str] | None = None, documents: list[str] | None = None) -> Reliability:
    """Build the reliability data of docs/agreement.md for every code."""
    if unit not in UNITS:
        raise QualcodeError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    chosen, code_rows, docs = _select(project, coders, codes, documents)
    rel = Reliability(unit, [c["name"] for c in chosen], [{"id": c["id"], "path": c["path"]} for c in code_rows],
                      documents=docs)
    pat = Patterns(len(chosen))
    coder_index = {c["id"]: j for j, c in enumerate(chosen)}
    doc_index = {d["id"]: i for i, d in enumerate(docs)}
    code_ids = {c["id"] for c in code_rows}
    spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}   # (code, doc) -> (coder j, start, end)
    coded = np.zeros((len(chosen), len(docs)), dtype=bool)           # coder coded the document at all
    for r in project.query("SELECT document_id, code_id, coder_id, start, \"end\" FROM codings"):
        j, i = coder_index.get(r["coder_id"]), doc_index.get(r["document_id"])
        if j is None or i is None:
            continue
        coded[j, i] = True
        if r["code_id"] in code_ids:
            spans.setdefault((r["code_id"], r["document_id"]), []).append((j, r["start"], r["end"]))
    rel.applied = {c["id"]: {name: 0 for name in rel.coders} for c in code_rows}
    if unit == "character":
        _characters(rel, pat, docs, coded, spans)
        return rel
    if unit == "document":
        rel.units = [(d["id"], 0, 0, len(d["text"])) for d in docs]
    else:
        rows = project.query(f"SELECT document_id, idx, start, \"end\" FROM {_TABLES[unit]} ORDER BY start")
        per_doc: dict[str, list] = {}
        for r in rows:
            if r["document_id"] in doc_index:
                per_doc.setdefault(r["document_id"], []).append((r["document_id"], r["idx"], r["start"], r["end"]))
        for d in docs:
            rel.units.extend(per_doc.get(d["id"], []))
    n_units = len(rel.units)
    unit_doc = np.array([doc_index[u[0]] for u in rel.units], dtype=np.int64)
    base = np.where(coded[:, unit_doc], 1, 0).astype(np.int8) if n_units else np.zeros((len(chosen), 0), np.int8)
    ranges: dict[str, list[int]] = {}          # doc id -> [first unit, last unit + 1]
    for k, u in enumerate(rel.units):
        ranges.setdefault(u[0], [k, k])[1] = k + 1
    starts = [u[2] for u in rel.units]
    ends = [u[3] for u in rel.units]
    for c in code_rows:
        values = base.copy()
        for d in docs:
            if d["id"] not in ranges:
                continue
            lo, hi = ranges[d["id"]]
            for j, s, e in spans.get((c["id"], d["id"]), []):
                # units overlapping [s, e): unit.start < e and unit.end > s
                a = bisect.bisect_right(ends, s, lo, hi)
                b = bisect.bisect_left(starts, e, lo, hi)
                if b > a:
                    values[j, a:b] = 2
        rel.patterns[c["id"]] = pat.encode(values)
        ones = (values == 2).sum(axis=1)
        rel.applied[c["id"]] = {name: int(ones[j]) for j, name in enumerate(rel.coders)}
    return rel


def _characters(rel: Reliability, pat: Patterns, docs: list[dict], coded: np.ndarray, spans: dict) -> None:
    m = len(rel.coders)
    weights = 3 ** np.arange(m, dtype=np.int64)
    for c in rel.codes:
        counts = np.zeros((len(docs), pat.size))
        runs = []
        ones = np.zeros(m, dtype=np.int64)
        for i, d in enumerate(docs):
            length = len(d["text"])
            if length == 0:
                continue
            values = np.repeat(np.where(coded[:, i], 1, 0).astype(np.int8)[:, None], length, axis=1)
            for j, s, e in spans.get((c["id"], d["id"]), []):
                values[j, s:e] = 2
            ids = (values.astype(np.int64) * weights[:, None]).sum(axis=0)
            counts[i] = np.bincount(ids, minlength=pat.size)
            ones += (values == 2).sum(axis=1)
            bad = pat.pairable[ids] & ~pat.agree[ids]
            if bad.any():
                change = np.flatnonzero(np.diff(np.concatenate(([-1], np.where(bad, ids, -1), [-1]))) != 0)
                for a, b in zip(change[:-1], change[1:]):
                    if bad[a]:
                        runs.append((d["id"], int(a), int(b), int(ids[a])))
        rel.doc_counts[c["id"]] = counts
        rel.runs[c["id"]] = runs
        rel.applied[c["id"]] = {name: int(ones[j]) for j, name in enumerate(rel.coders)}


# --- figures ---------------------------------------------------------------------------------

def agreement(project: Project, coders: list[str] | None = None, unit: str = "sentence",
              codes: list[str] | None = None, documents: list[str] | None = None, bootstrap_n: int = 1000,
              seed: int = 0, level: float = 0.95) -> dict:
    """Per-code and overall agreement, as the `agreement --json` contract describes."""
    rel = reliability(project, coders, unit, codes, documents)
    pat = Patterns(len(rel.coders))
    out_codes = []
    pooled_units = None
    pooled_clusters = None
    for c in rel.codes:
        if unit == "character":
            clusters = rel.doc_counts[c["id"]]
        else:
            ids = rel.patterns[c["id"]]
            clusters = np.zeros((len(ids), pat.size))
            clusters[np.arange(len(ids)), ids] = 1
        totals = clusters.sum(axis=0)
        pooled_clusters = clusters.copy() if pooled_clusters is None else pooled_clusters + clusters
        pooled_units = totals if pooled_units is None else pooled_units + totals
        out_codes.append({"code": c["path"], **_figures(pat, totals, clusters, bootstrap_n, seed, level,
                                                        singletons=unit != "character"),
                          "applied": rel.applied[c["id"]]})
    overall = {"n_codes": len(rel.codes)}
    if pooled_units is not None:
        # pooled: every (unit, code) pair is one decision; a unit keeps all its codes when resampled
        overall.update(_figures(pat, pooled_units, pooled_clusters, bootstrap_n, seed, level, singletons=False))
    else:
        overall.update({s: None for s in STATS} | {"n_units": 0, "ci": {}})
    n_docs = len(rel.documents)
    return {"unit": unit, "coders": rel.coders, "documents": n_docs, "bootstrap": bootstrap_n, "level": level,
            "codes": out_codes, "overall": overall}


def _figures(pat: Patterns, totals: np.ndarray, clusters: np.ndarray, n: int, seed: int, level: float,
             singletons: bool) -> dict:
    s = pat.stats(totals)
    out = {k: _clean(s[k]) for k in STATS}
    if pat.m != 2:
        out["cohen_kappa"] = None
    out["n_units"] = int(s["n_units"])
    out["ci"] = bootstrap(pat, clusters, n, seed, level, singletons) if n > 0 else {}
    return out


# --- disagreements ---------------------------------------------------------------------------

def disagreements(project: Project, coders: list[str] | None = None, unit: str = "sentence",
                  codes: list[str] | None = None, documents: list[str] | None = None) -> list[dict]:
    """Every unit (or run of characters) where the coders who coded it disagree about a code."""
    rel = reliability(project, coders, unit, codes, documents)
    pat = Patterns(len(rel.coders))
    docs = {d["id"]: d for d in rel.documents}
    order = {d["id"]: i for i, d in enumerate(rel.documents)}
    rows = []

    def row(code, doc_id, idx, start, end, pattern):
        digits = pat.digits[pattern]
        d = docs[doc_id]
        return {"code": code, "document": d["name"], "unit": unit, "index": idx, "start": start, "end": end,
                "applied_by": [rel.coders[j] for j in range(pat.m) if digits[j] == 2],
                "not_applied_by": [rel.coders[j] for j in range(pat.m) if digits[j] == 1],
                "text": d["text"][start:end], "_order": (order[doc_id], start, end)}

    for c in rel.codes:
        if unit == "character":
            for doc_id, a, b, p in rel.runs[c["id"]]:
                rows.append(row(c["path"], doc_id, None, a, b, p))
            continue
        ids = rel.patterns[c["id"]]
        bad = np.flatnonzero(pat.pairable[ids] & ~pat.agree[ids])
        for k in bad:
            doc_id, idx, s, e = rel.units[k]
            rows.append(row(c["path"], doc_id, idx, s, e, int(ids[k])))
    rows.sort(key=lambda r: (r["_order"], r["code"]))
    for r in rows:
        r.pop("_order")
    return rows


def write_disagreements(rows: list[dict], target) -> None:
    """CSV or XLSX for adjudication, with an empty `decision` column to fill in."""
    from pathlib import Path

    target = Path(target)
    header = ["document", "unit", "index", "start", "end", "code", "applied_by", "not_applied_by", "text", "decision"]
    table = [[r["document"], r["unit"], "" if r["index"] is None else r["index"], r["start"], r["end"], r["code"],
              "; ".join(r["applied_by"]), "; ".join(r["not_applied_by"]), r["text"], ""] for r in rows]
    suffix = target.suffix.lower()
    if suffix == ".csv":
        import csv
        with open(target, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([[_cell_safe(v) for v in line] for line in table])
    elif suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font

        wb = Workbook()
        ws = wb.active
        ws.title = "Disagreements"
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for line in table:
            ws.append([_cell_safe(v) for v in line])
        ws.freeze_panes = "A2"
        for col, width in zip("ABCDEFGHIJ", (24, 10, 7, 8, 8, 28, 18, 18, 80, 20)):
            ws.column_dimensions[col].width = width
        for cell in ws["I"][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        wb.save(target)
    else:
        raise QualcodeError(f"write the disagreement list as .csv or .xlsx, not {suffix or 'no suffix'!r}")


def _cell_safe(value):
    """Text that starts like a formula is written as text, never evaluated by the spreadsheet."""
    if isinstance(value, str):
        value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
        if value[:1] in ("=", "+", "-", "@"):
            return "'" + value
    return value
