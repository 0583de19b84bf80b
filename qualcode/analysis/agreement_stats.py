"""Inter-coder agreement statistics on reliability data.

Pure functions, numpy only: this module must not import Textual, spaCy or scikit-learn.

Reliability data
----------------
A *reliability data matrix* has one row per coder and one column per unit (sentence, turn,
document, character ...). A cell holds the value the coder assigned to the unit: any hashable
category label (``True``/``False``, ``1``/``0``, ``"Fees"`` ...), or ``None`` when the coder did
not code the unit. A float NaN (``float("nan")``, ``numpy.nan``) is read as missing too, so a
numeric numpy array with NaN holes works as input.

Labels are compared with Python equality, so ``1``, ``1.0`` and ``True`` are the same category.

* A unit is *pairable* when at least two coders gave it a value. Units that are not pairable
  carry no information about agreement and drop out of every statistic here.
* Where a statistic is undefined (no pairable units, only one category used, fewer than two
  coders) the function returns ``float("nan")``; it never raises for that. It raises
  ``ValueError`` only for malformed input (ragged rows, negative counts, ...).

The formulas and their sources are written out in ``docs/agreement.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Sequence

import numpy as np

__all__ = [
    "AgreementResult",
    "agreement_for",
    "bootstrap_ci",
    "coincidence_matrix",
    "cohen_kappa",
    "fleiss_kappa",
    "fleiss_kappa_from_data",
    "krippendorff_alpha_nominal",
    "percent_agreement",
]

NAN = float("nan")

ReliabilityData = Sequence[Sequence[Hashable | None]]


# --------------------------------------------------------------------------- helpers


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)  # NaN
    return False


def _rows(data: ReliabilityData) -> list[list[Any]]:
    """The matrix as a list of coder rows, checked to be rectangular."""
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ValueError(
                f"reliability data must be 2-D (coders x units), got {data.ndim}-D"
            )
        return [list(row) for row in data]
    rows = [list(row) for row in data]
    if rows and len({len(row) for row in rows}) != 1:
        raise ValueError("reliability data is ragged: every coder needs one value per unit")
    return rows


def _encode(data: ReliabilityData) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (coders x units, -1 = missing) and the category labels they stand for."""
    rows = _rows(data)
    n_units = len(rows[0]) if rows else 0
    index: dict[Any, int] = {}
    codes = np.full((len(rows), n_units), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        for u, value in enumerate(row):
            if _is_missing(value):
                continue
            code = index.get(value)
            if code is None:
                code = index[value] = len(index)
            codes[i, u] = code
    return codes, list(index)


def _unit_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Units x categories matrix: how many coders put each unit in each category."""
    n_units = codes.shape[1]
    counts = np.zeros((n_units, n_categories), dtype=np.int64)
    coder_idx, unit_idx = np.nonzero(codes >= 0)
    np.add.at(counts, (unit_idx, codes[coder_idx, unit_idx]), 1)
    return counts


# --------------------------------------------------------------------------- statistics


def percent_agreement(data: ReliabilityData) -> float:
    """Share of pairable units on which every coder who coded the unit gave the same value.

    Definition: let U be the units with at least two non-missing values. A unit in U *agrees*
    when all its non-missing values are equal. Percent agreement = |agreeing units| / |U|,
    returned as a proportion in [0, 1]. Missing values are ignored, so a unit coded by 2 of 3
    coders agrees when those two agree. With two coders and no missing data this is simple
    agreement: the share of units on which the two coders agree.

    This is the strict ("all coders agree") definition, not the mean of pairwise agreements.
    Returns NaN when no unit is pairable.
    """
    codes, labels = _encode(data)
    if codes.size == 0 or not labels:
        return NAN
    counts = _unit_counts(codes, len(labels))
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_pairable = int(pairable.sum())
    if n_pairable == 0:
        return NAN
    agree = counts[pairable].max(axis=1) == m[pairable]
    return float(agree.sum() / n_pairable)


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> float:
    """Cohen's kappa for two coders (Cohen 1960), on the units both of them coded.

    kappa = (p_o - p_e) / (1 - p_e), where p_o is the share of units on which a and b agree and
    p_e = sum over categories c of p_a(c) * p_b(c), each coder's own marginal proportion.
    For presence/absence that is p_e = yes_a*yes_b + no_a*no_b.

    Units where either value is missing are left out. Returns NaN when no unit was coded by
    both, or when p_e == 1 (both coders used one and the same category throughout).
    """
    a = list(a)
    b = list(b)
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa needs two equally long sequences, got {len(a)} and {len(b)}")
    codes, labels = _encode([a, b])
    both = (codes >= 0).all(axis=0)
    n = int(both.sum())
    if n == 0:
        return NAN
    x, y = codes[0, both], codes[1, both]
    k = len(labels)
    # Work in counts to keep the "undefined" test exact:
    # kappa = (n*agree - sum_c a_c b_c) / (n^2 - sum_c a_c b_c)
    agree = int((x == y).sum())
    chance = int((np.bincount(x, minlength=k) * np.bincount(y, minlength=k)).sum())
    denominator = n * n - chance
    if denominator == 0:
        return NAN
    return float((n * agree - chance) / denominator)


def fleiss_kappa(counts: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Fleiss' kappa (Fleiss 1971) from a units x categories count matrix.

    ``counts[i][j]`` is the number of raters who put unit i in category j; every row must sum
    to the same number of raters n. With N units:

        P_i   = (sum_j n_ij^2 - n) / (n (n - 1))
        P_bar = mean_i P_i
        p_j   = sum_i n_ij / (N n)
        P_e   = sum_j p_j^2
        kappa = (P_bar - P_e) / (1 - P_e)

    Returns NaN when there are no units, fewer than two raters per unit, or P_e == 1 (all
    ratings in one category). Raises ValueError when rows have different sums or counts are
    negative.
    """
    matrix = np.asarray(counts, dtype=float)
    if matrix.size == 0:
        return NAN
    if matrix.ndim != 2:
        raise ValueError(f"fleiss_kappa needs a 2-D units x categories matrix, got {matrix.ndim}-D")
    if (matrix < 0).any():
        raise ValueError("fleiss_kappa: counts must not be negative")
    row_sums = matrix.sum(axis=1)
    n = row_sums[0]
    if not np.allclose(row_sums, n):
        raise ValueError(
            "fleiss_kappa: every unit needs the same number of ratings "
            f"(row sums range from {row_sums.min():g} to {row_sums.max():g})"
        )
    if n < 2:
        return NAN
    n_units = matrix.shape[0]
    total = n_units * n
    column_totals = matrix.sum(axis=0)
    sum_sq_totals = float((column_totals**2).sum())
    if math.isclose(sum_sq_totals, total * total):  # a single category: P_e == 1
        return NAN
    p_bar = float(((matrix**2).sum(axis=1) - n).sum() / (n_units * n * (n - 1)))
    p_e = sum_sq_totals / (total * total)
    return float((p_bar - p_e) / (1.0 - p_e))


def fleiss_kappa_from_data(data: ReliabilityData) -> float:
    """Fleiss' kappa from a coders x units reliability data matrix.

    Fleiss' kappa needs the same number of ratings for every unit, so only units coded by
    *every* coder are used; units with any missing value are dropped (use
    ``krippendorff_alpha_nominal`` for incomplete data). With two coders this equals
    Scott's pi. Returns NaN when no unit is complete or fewer than two coders.
    """
    codes, labels = _encode(data)
    if codes.shape[0] < 2 or codes.size == 0 or not labels:
        return NAN
    complete = (codes >= 0).all(axis=0)
    if not complete.any():
        return NAN
    return fleiss_kappa(_unit_counts(codes[:, complete], len(labels)))


def coincidence_matrix(data: ReliabilityData) -> tuple[np.ndarray, list[Any]]:
    """Krippendorff's coincidence matrix and the category labels of its rows/columns.

    o_ck = sum over pairable units u of (number of ordered pairs of values (c, k) from
    different coders in u) / (m_u - 1), where m_u is the number of values in u. Units with
    m_u < 2 are left out. The matrix is symmetric; its total is n, the number of pairable
    values. Categories that occur only in unpairable units are dropped.
    """
    codes, labels = _encode(data)
    if codes.size == 0 or not labels:
        return np.zeros((0, 0)), []
    counts = _unit_counts(codes, len(labels))
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts = counts[pairable].astype(float)
    weights = 1.0 / (m[pairable] - 1.0)
    weighted = counts * weights[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    used = counts.sum(axis=0) > 0
    return o[np.ix_(used, used)], [label for label, keep in zip(labels, used) if keep]


def krippendorff_alpha_nominal(data: ReliabilityData) -> float:
    """Krippendorff's alpha for nominal data, any number of coders, missing values allowed.

    Coincidence-matrix method of Krippendorff (2011), "Computing Krippendorff's
    Alpha-Reliability": with o_ck the coincidence matrix, n_c = sum_k o_ck and n = sum_c n_c,

        alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k
              = ((n - 1) sum_c o_cc - sum_c n_c (n_c - 1)) / (n (n - 1) - sum_c n_c (n_c - 1))

    Units with fewer than two values are not pairable and drop out. Returns NaN when there is
    no pairable unit or only one category among the pairable values (D_e == 0).
    """
    codes, labels = _encode(data)
    if codes.size == 0 or not labels:
        return NAN
    counts = _unit_counts(codes, len(labels))
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts = counts[pairable]
    if counts.shape[0] == 0:
        return NAN
    n_c = counts.sum(axis=0)  # integer: every pairable value contributes m_u-1 pairs / (m_u-1)
    n = int(n_c.sum())
    expected = n * (n - 1) - int((n_c * (n_c - 1)).sum())  # = sum_{c != k} n_c n_k
    if expected == 0:
        return NAN
    weights = 1.0 / (m[pairable] - 1.0)
    o_diag = float((weights[:, None] * counts * (counts - 1)).sum())  # sum_c o_cc
    observed_pairs = n - o_diag  # sum_{c != k} o_ck
    return float(1.0 - (n - 1) * observed_pairs / expected)


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    stat_fn: Callable[[list[list[Any]]], float],
    data: ReliabilityData,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval for ``stat_fn(data)``, resampling units.

    Draws ``n`` samples of the units (columns) with replacement, keeping each unit's values for
    all coders together, and calls ``stat_fn`` on each resampled coders x units matrix (a list
    of lists). Resamples whose statistic is NaN (e.g. no variation left) are skipped. Returns
    the (1 - level)/2 and (1 + level)/2 quantiles of the remaining statistics, or (NaN, NaN)
    when there are no units or every resample was degenerate. Deterministic for a given seed.

    For a two-argument statistic wrap it: ``bootstrap_ci(lambda d: cohen_kappa(*d), data)``.
    """
    if n < 1:
        raise ValueError(f"bootstrap_ci: n must be at least 1, got {n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"bootstrap_ci: level must be between 0 and 1, got {level}")
    rows = _rows(data)
    n_units = len(rows[0]) if rows else 0
    if n_units == 0:
        return NAN, NAN
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(n, n_units))
    stats = []
    for idx in draws:
        sample = [[row[j] for j in idx] for row in rows]
        value = stat_fn(sample)
        if value is None or _is_missing(value):
            continue
        stats.append(float(value))
    if not stats:
        return NAN, NAN
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(stats), [tail, 1.0 - tail])
    return float(low), float(high)


# --------------------------------------------------------------------------- all at once


@dataclass
class AgreementResult:
    """All applicable agreement statistics for one reliability data matrix.

    ``cohen_kappa`` is None unless there are exactly two coders (not applicable); NaN always
    means "applicable but undefined for these data". ``n_units`` counts the pairable units
    (coded by at least two coders), i.e. the units that entered percent agreement and alpha.
    ``ci`` maps a statistic's name to its bootstrap (low, high) interval; it is empty when no
    bootstrap was asked for.
    """

    percent_agreement: float
    cohen_kappa: float | None
    fleiss_kappa: float
    krippendorff_alpha: float
    n_units: int
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: NaN becomes None, intervals become [low, high] lists."""

        def clean(x: float | None) -> float | None:
            return None if x is None or _is_missing(x) else float(x)

        return {
            "percent_agreement": clean(self.percent_agreement),
            "cohen_kappa": clean(self.cohen_kappa),
            "fleiss_kappa": clean(self.fleiss_kappa),
            "krippendorff_alpha": clean(self.krippendorff_alpha),
            "n_units": self.n_units,
            "ci": {name: [clean(lo), clean(hi)] for name, (lo, hi) in self.ci.items()},
        }


def _cohen_on_matrix(data: ReliabilityData) -> float:
    first, second = _rows(data)
    return cohen_kappa(first, second)


def agreement_for(
    data: ReliabilityData, bootstrap: int = 0, *, seed: int = 0, level: float = 0.95
) -> AgreementResult:
    """Every applicable statistic for ``data`` (coders x units); Cohen's kappa only for 2 coders.

    With ``bootstrap > 0`` each statistic also gets a percentile interval from that many unit
    resamples (same seed for every statistic, so they use the same resamples).
    """
    rows = _rows(data)
    codes, labels = _encode(rows)
    n_pairable = int(((codes >= 0).sum(axis=0) >= 2).sum()) if codes.size else 0
    two_coders = len(rows) == 2

    stat_fns: dict[str, Callable[[ReliabilityData], float]] = {
        "percent_agreement": percent_agreement,
        "fleiss_kappa": fleiss_kappa_from_data,
        "krippendorff_alpha": krippendorff_alpha_nominal,
    }
    if two_coders:
        stat_fns["cohen_kappa"] = _cohen_on_matrix
    values = {name: fn(rows) for name, fn in stat_fns.items()}

    ci: dict[str, tuple[float, float]] = {}
    if bootstrap > 0:
        for name, fn in stat_fns.items():
            ci[name] = bootstrap_ci(fn, rows, n=bootstrap, seed=seed, level=level)

    return AgreementResult(
        percent_agreement=values["percent_agreement"],
        cohen_kappa=values.get("cohen_kappa") if two_coders else None,
        fleiss_kappa=values["fleiss_kappa"],
        krippendorff_alpha=values["krippendorff_alpha"],
        n_units=n_pairable,
        ci=ci,
    )
