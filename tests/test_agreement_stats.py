"""Tests for qualcode.analysis.agreement_stats.

Three kinds of check:
1. published worked examples (Krippendorff 2011; Fleiss 1971), hard-coded here and, when the
   sibling ../shared folder is present, also read from its reference file;
2. independent re-implementations written differently (plain loops, pairwise disagreement,
   confusion matrices, scikit-learn) on seeded random and hypothesis-generated matrices;
3. missing data, undefined (NaN) cases, bootstrap behaviour, and the import boundary.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.analysis.agreement_stats import (
    AgreementResult,
    agreement_for,
    bootstrap_ci,
    coincidence_matrix,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_data,
    krippendorff_alpha_nominal,
    percent_agreement,
)

REFERENCE = Path(__file__).parents[2] / "shared" / "reference" / "agreement-examples.json"

# --------------------------------------------------------------------------- published examples
# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, Departmental Papers 43: 4 coders x 12 units, missing values (None).
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
KRIPPENDORFF_2011_ALPHA_NOMINAL = 0.743

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin 76(5), 378-382: 10 subjects x 14 raters x 5 categories.
FLEISS_1971 = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
FLEISS_1971_KAPPA = 0.210


def test_krippendorff_2011_nominal_hard_coded():
    assert round(krippendorff_alpha_nominal(KRIPPENDORFF_2011), 3) == KRIPPENDORFF_2011_ALPHA_NOMINAL


def test_krippendorff_2011_coincidence_matrix_is_consistent():
    o, labels = coincidence_matrix(KRIPPENDORFF_2011)
    assert labels == [1, 2, 3, 4, 5]
    assert np.allclose(o, o.T)
    # 11 pairable units with 3+4*8+3+2 = 40 pairable values; the 12th unit drops out
    assert o.sum() == pytest.approx(40)
    assert o.sum(axis=1) == pytest.approx([9, 13, 10, 5, 3])
    assert np.diag(o) == pytest.approx([7, 10, 8, 4, 3])


def test_krippendorff_2011_percent_agreement_by_hand():
    # pairable units 1..11; units 2, 6 and 8 have a dissenting coder -> 8 of 11 agree
    assert percent_agreement(KRIPPENDORFF_2011) == pytest.approx(8 / 11)


def test_fleiss_1971_hard_coded():
    assert round(fleiss_kappa(FLEISS_1971), 3) == FLEISS_1971_KAPPA


def test_fleiss_1971_from_data_matches_counts():
    # expand the count table into a 14 raters x 10 subjects reliability matrix
    columns = []
    for row in FLEISS_1971:
        column = [cat for cat, k in enumerate(row) for _ in range(k)]
        columns.append(column)
    data = [list(r) for r in zip(*columns)]
    assert len(data) == 14
    assert fleiss_kappa_from_data(data) == pytest.approx(fleiss_kappa(FLEISS_1971))


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.is_file():
        pytest.skip(f"reference examples not available at {REFERENCE}")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_reference_file_krippendorff(reference):
    example = reference["krippendorff_2011"]
    assert example["values"] == KRIPPENDORFF_2011
    expected = example["alpha"]["nominal"]
    assert expected == KRIPPENDORFF_2011_ALPHA_NOMINAL
    assert round(krippendorff_alpha_nominal(example["values"]), 3) == round(expected, 3)


def test_reference_file_fleiss(reference):
    example = reference["fleiss_1971"]
    counts = example["counts_per_subject_and_category"]
    assert counts == FLEISS_1971
    assert all(sum(row) == example["raters_per_subject"] for row in counts)
    assert example["kappa"] == FLEISS_1971_KAPPA
    assert round(fleiss_kappa(counts), 3) == round(example["kappa"], 3)


# --------------------------------------------------------------------------- independent references


def _missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def ref_alpha_pairwise(data):
    """Krippendorff's alpha nominal as 1 - D_o/D_e from pairwise disagreements, plain loops.

    D_o = (1/n) * sum_u 1/(m_u - 1) * #{ordered pairs (i, j), i != j, in u with v_i != v_j}
    D_e = 1/(n (n - 1)) * #{ordered pairs of pairable values anywhere with v_i != v_j}
    """
    units = []
    for u in range(len(data[0])):
        values = [row[u] for row in data if not _missing(row[u])]
        if len(values) >= 2:
            units.append(values)
    pooled = [v for values in units for v in values]
    n = len(pooled)
    if n == 0:
        return math.nan
    d_o = 0.0
    for values in units:
        m = len(values)
        mismatches = 0
        for i in range(m):
            for j in range(m):
                if i != j and values[i] != values[j]:
                    mismatches += 1
        d_o += mismatches / (m - 1)
    d_o /= n
    mismatches = 0
    for i in range(n):
        for j in range(n):
            if i != j and pooled[i] != pooled[j]:
                mismatches += 1
    d_e = mismatches / (n * (n - 1))
    if d_e == 0:
        return math.nan
    return 1 - d_o / d_e


def ref_cohen_confusion(a, b):
    """Cohen's kappa from an explicit confusion matrix built with loops."""
    pairs = [(x, y) for x, y in zip(a, b) if not _missing(x) and not _missing(y)]
    if not pairs:
        return math.nan
    categories = sorted({v for p in pairs for v in p}, key=repr)
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    table = [[0] * k for _ in range(k)]
    for x, y in pairs:
        table[index[x]][index[y]] += 1
    n = len(pairs)
    p_o = sum(table[i][i] for i in range(k)) / n
    rows = [sum(table[i]) / n for i in range(k)]
    cols = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    p_e = sum(rows[i] * cols[i] for i in range(k))
    if p_e == 1:
        return math.nan
    return (p_o - p_e) / (1 - p_e)


def ref_fleiss_loops(data):
    """Fleiss' kappa from raw data on the complete units, loops only."""
    units = [
        [row[u] for row in data]
        for u in range(len(data[0]))
        if all(not _missing(row[u]) for row in data)
    ]
    if not units or len(data) < 2:
        return math.nan
    n = len(data)
    N = len(units)
    categories = sorted({v for unit in units for v in unit}, key=repr)
    p_i = []
    totals = {c: 0 for c in categories}
    for unit in units:
        agreeing_pairs = 0
        for c in categories:
            k = unit.count(c)
            totals[c] += k
            agreeing_pairs += k * (k - 1)
        p_i.append(agreeing_pairs / (n * (n - 1)))
    p_bar = sum(p_i) / N
    p_e = sum((totals[c] / (N * n)) ** 2 for c in categories)
    if p_e == 1:
        return math.nan
    return (p_bar - p_e) / (1 - p_e)


def ref_percent_agreement(data):
    agree = pairable = 0
    for u in range(len(data[0])):
        values = [row[u] for row in data if not _missing(row[u])]
        if len(values) < 2:
            continue
        pairable += 1
        if len(set(values)) == 1:
            agree += 1
    return agree / pairable if pairable else math.nan


def same3(x, y):
    """Equal to three decimals, with NaN equal to NaN."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) < 5e-4


def random_matrix(rng, coders, units, categories, p_missing):
    return [
        [None if rng.random() < p_missing else rng.choice(categories) for _ in range(units)]
        for _ in range(coders)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_seeded_random_against_references(seed):
    rng = random.Random(seed)
    coders = rng.randint(2, 6)
    units = rng.randint(1, 60)
    categories = rng.choice([[0, 1], ["yes", "no"], ["a", "b", "c"], [1, 2, 3, 4, 5]])
    data = random_matrix(rng, coders, units, categories, rng.choice([0.0, 0.1, 0.4]))
    assert same3(krippendorff_alpha_nominal(data), ref_alpha_pairwise(data))
    assert same3(fleiss_kappa_from_data(data), ref_fleiss_loops(data))
    assert same3(percent_agreement(data), ref_percent_agreement(data))
    assert same3(cohen_kappa(data[0], data[1]), ref_cohen_confusion(data[0], data[1]))


@pytest.mark.parametrize("seed", range(25))
def test_cohen_against_sklearn(seed):
    from sklearn.metrics import cohen_kappa_score

    rng = random.Random(1000 + seed)
    n = rng.randint(5, 80)
    labels = rng.choice([[0, 1], ["x", "y", "z"], [1, 2, 3, 4]])
    # correlated coders, so kappa spreads over its range
    a = [rng.choice(labels) for _ in range(n)]
    b = [x if rng.random() < rng.random() else rng.choice(labels) for x in a]
    if len(set(a)) == 1 and set(a) == set(b):
        pytest.skip("degenerate draw")
    ours = cohen_kappa(a, b)
    theirs = cohen_kappa_score(a, b)
    assert round(ours, 3) == round(float(theirs), 3)
    assert same3(ours, ref_cohen_confusion(a, b))


values_st = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))


@st.composite
def reliability_data(draw, min_coders=2, max_coders=5):
    coders = draw(st.integers(min_coders, max_coders))
    units = draw(st.integers(1, 25))
    return [draw(st.lists(values_st, min_size=units, max_size=units)) for _ in range(coders)]


@settings(max_examples=200, deadline=None)
@given(reliability_data())
def test_hypothesis_alpha_matches_pairwise(data):
    assert same3(krippendorff_alpha_nominal(data), ref_alpha_pairwise(data))


@settings(max_examples=200, deadline=None)
@given(reliability_data())
def test_hypothesis_fleiss_and_percent(data):
    assert same3(fleiss_kappa_from_data(data), ref_fleiss_loops(data))
    assert same3(percent_agreement(data), ref_percent_agreement(data))


@settings(max_examples=200, deadline=None)
@given(reliability_data(min_coders=2, max_coders=2))
def test_hypothesis_cohen_matches_confusion_matrix(data):
    assert same3(cohen_kappa(data[0], data[1]), ref_cohen_confusion(data[0], data[1]))


@settings(max_examples=100, deadline=None)
@given(reliability_data())
def test_alpha_equals_corrected_fleiss_on_complete_data(data):
    """With no missing data, alpha = 1 - (nN - 1)/(nN) * (1 - Fleiss' kappa)."""
    complete = [[v if v is not None else "a" for v in row] for row in data]
    kappa = fleiss_kappa_from_data(complete)
    alpha = krippendorff_alpha_nominal(complete)
    total = len(complete) * len(complete[0])
    if math.isnan(kappa):
        assert math.isnan(alpha)
    else:
        assert alpha == pytest.approx(1 - (total - 1) / total * (1 - kappa))


@settings(max_examples=100, deadline=None)
@given(reliability_data())
def test_statistics_ignore_label_names_and_coder_order(data):
    relabel = {"a": 10, "b": 20, "c": 30, None: None}
    renamed = [[relabel[v] for v in row] for row in data][::-1]
    for fn in (krippendorff_alpha_nominal, fleiss_kappa_from_data, percent_agreement):
        assert same3(fn(data), fn(renamed))


# --------------------------------------------------------------------------- worked by hand


def test_cohen_presence_absence_uses_both_marginals():
    # 10 units: A codes 4 present, B codes 5 present, both present on 3, both absent on 4
    a = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    p_o = 7 / 10
    p_e = 0.4 * 0.5 + 0.6 * 0.5  # yes_a*yes_b + no_a*no_b, not yes*no
    assert cohen_kappa(a, b) == pytest.approx((p_o - p_e) / (1 - p_e))
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_two_coders_complete_simple_agreement():
    a = ["x", "y", "x", "x", "z"]
    b = ["x", "y", "y", "x", "z"]
    assert percent_agreement([a, b]) == pytest.approx(4 / 5)


def test_perfect_agreement_is_one():
    data = [["a", "b", "c", "a"], ["a", "b", "c", "a"], ["a", "b", "c", "a"]]
    assert krippendorff_alpha_nominal(data) == pytest.approx(1.0)
    assert fleiss_kappa_from_data(data) == pytest.approx(1.0)
    assert percent_agreement(data) == 1.0
    assert cohen_kappa(data[0], data[1]) == pytest.approx(1.0)


# --------------------------------------------------------------------------- missing data


def test_none_and_nan_are_both_missing():
    with_none = [[1, 2, None, 1], [1, 2, 2, None], [1, 1, 2, 1]]
    with_nan = [[1, 2, float("nan"), 1], [1, 2, 2, np.nan], [1, 1, 2, 1]]
    as_array = np.array(with_nan, dtype=float)
    for fn in (krippendorff_alpha_nominal, percent_agreement, fleiss_kappa_from_data):
        assert same3(fn(with_none), fn(with_nan))
        assert same3(fn(with_none), fn(as_array))


def test_unpairable_units_drop_out():
    base = [["a", "b", "a", "b", "a"], ["a", "b", "b", "b", "a"]]
    extra = [row + [v] for row, v in zip(base, ["c", None])]  # one value only
    extra = [row + [None] for row in extra]  # nobody coded it
    assert krippendorff_alpha_nominal(extra) == pytest.approx(krippendorff_alpha_nominal(base))
    assert percent_agreement(extra) == pytest.approx(percent_agreement(base))
    assert agreement_for(extra).n_units == 5


def test_cohen_uses_only_units_both_coded():
    a = [1, 0, 1, None, 1, 0, 0]
    b = [1, 0, 0, 1, None, 0, 1]
    both = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa(*map(list, zip(*both))))


def test_fleiss_from_data_uses_complete_units_only():
    data = [[1, 1, 0, 0, None], [1, 0, 0, 0, 1], [1, 1, 0, 1, 1]]
    complete = [row[:4] for row in data]
    assert fleiss_kappa_from_data(data) == pytest.approx(fleiss_kappa_from_data(complete))


def test_alpha_with_missing_differs_from_dropping_incomplete_units():
    # alpha uses the pairable values of incomplete units too
    data = [[1, 1, 2, 2, 1, None], [1, 2, 2, 2, 1, 2], [1, 1, 2, None, 1, 2]]
    complete_only = [[row[u] for u in (0, 1, 2, 4)] for row in data]
    assert krippendorff_alpha_nominal(data) != pytest.approx(
        krippendorff_alpha_nominal(complete_only)
    )
    assert same3(krippendorff_alpha_nominal(data), ref_alpha_pairwise(data))


# --------------------------------------------------------------------------- undefined -> NaN


@pytest.mark.parametrize(
    "data",
    [
        [],  # no coders
        [[], []],  # no units
        [[1, 1, 1]],  # one coder: nothing pairable
        [[None, None], [None, None]],  # nobody coded anything
        [[1, None, None], [None, 2, None]],  # no unit coded by two coders
        [["a", "a", "a"], ["a", "a", "a"]],  # no variation
        [["a", "a", None], ["a", None, "b"]],  # variation only in unpairable values
    ],
)
def test_undefined_alpha_and_fleiss_are_nan_not_errors(data):
    assert math.isnan(krippendorff_alpha_nominal(data))
    assert math.isnan(fleiss_kappa_from_data(data))


def test_percent_agreement_nan_without_pairable_units_but_defined_without_variation():
    assert math.isnan(percent_agreement([]))
    assert math.isnan(percent_agreement([[1, None], [None, 2]]))
    assert percent_agreement([["a", "a"], ["a", "a"]]) == 1.0


def test_cohen_nan_cases():
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(cohen_kappa([1, None], [None, 1]))
    assert math.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))  # p_e == 1
    # one coder constant, the other not: p_e < 1, so kappa is defined (0 here)
    assert cohen_kappa([0, 0, 0, 0], [0, 1, 0, 1]) == pytest.approx(0.0)


def test_fleiss_counts_nan_and_errors():
    assert math.isnan(fleiss_kappa([]))
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))  # single category
    assert math.isnan(fleiss_kappa([[1, 0], [0, 1]]))  # one rater per unit
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 1], [1, 1]])  # unequal number of raters
    with pytest.raises(ValueError):
        fleiss_kappa([[3, -1], [1, 1]])


def test_malformed_input_raises():
    with pytest.raises(ValueError):
        krippendorff_alpha_nominal([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError):
        cohen_kappa([1, 2], [1])


def test_agreement_for_undefined_is_nan_not_error():
    result = agreement_for([["a", "a", "a"], ["a", "a", "a"]], bootstrap=20)
    assert result.percent_agreement == 1.0
    assert math.isnan(result.krippendorff_alpha)
    assert math.isnan(result.cohen_kappa)
    assert math.isnan(result.fleiss_kappa)
    low, high = result.ci["krippendorff_alpha"]
    assert math.isnan(low) and math.isnan(high)
    as_json = json.dumps(result.as_dict())  # NaN must not leak into JSON
    assert "NaN" not in as_json


# --------------------------------------------------------------------------- bootstrap


def _moderate_data(seed=7, units=120):
    rng = random.Random(seed)
    a = [rng.choice([0, 1]) for _ in range(units)]
    b = [x if rng.random() < 0.85 else 1 - x for x in a]
    c = [x if rng.random() < 0.8 else 1 - x for x in a]
    return [a, b, c]


@pytest.mark.parametrize(
    "stat",
    [krippendorff_alpha_nominal, percent_agreement, fleiss_kappa_from_data, lambda d: cohen_kappa(d[0], d[1])],
)
def test_bootstrap_interval_contains_point_estimate(stat):
    data = _moderate_data()
    low, high = bootstrap_ci(stat, data, n=500, seed=3)
    point = stat(data)
    assert low <= point <= high
    assert low < high


def test_bootstrap_is_deterministic_and_level_widens():
    data = _moderate_data(seed=11)
    first = bootstrap_ci(krippendorff_alpha_nominal, data, n=300, seed=5)
    again = bootstrap_ci(krippendorff_alpha_nominal, data, n=300, seed=5)
    assert first == again
    narrow = bootstrap_ci(krippendorff_alpha_nominal, data, n=300, seed=5, level=0.5)
    assert first[0] <= narrow[0] <= narrow[1] <= first[1]


def test_bootstrap_skips_degenerate_samples():
    # one disagreeing unit among many agreeing "a" units: many resamples have no variation
    data = [["a"] * 8 + ["b"], ["a"] * 8 + ["a"]]
    calls = []

    def alpha(d):
        value = krippendorff_alpha_nominal(d)
        calls.append(value)
        return value

    low, high = bootstrap_ci(alpha, data, n=200, seed=1)
    assert any(math.isnan(v) for v in calls)  # the situation did occur
    assert not math.isnan(low) and not math.isnan(high)
    assert low <= high


def test_bootstrap_all_degenerate_or_empty_is_nan():
    low, high = bootstrap_ci(krippendorff_alpha_nominal, [["a"] * 5, ["a"] * 5], n=50)
    assert math.isnan(low) and math.isnan(high)
    low, high = bootstrap_ci(percent_agreement, [[], []], n=50)
    assert math.isnan(low) and math.isnan(high)


def test_bootstrap_rejects_bad_parameters():
    with pytest.raises(ValueError):
        bootstrap_ci(percent_agreement, [[1], [1]], n=0)
    with pytest.raises(ValueError):
        bootstrap_ci(percent_agreement, [[1], [1]], level=1.0)


# --------------------------------------------------------------------------- agreement_for


def test_agreement_for_two_coders_includes_cohen():
    data = _moderate_data()[:2]
    result = agreement_for(data, bootstrap=100)
    assert isinstance(result, AgreementResult)
    assert result.cohen_kappa == pytest.approx(cohen_kappa(*data))
    assert result.krippendorff_alpha == pytest.approx(krippendorff_alpha_nominal(data))
    assert result.fleiss_kappa == pytest.approx(fleiss_kappa_from_data(data))
    assert result.percent_agreement == pytest.approx(percent_agreement(data))
    assert result.n_units == 120
    assert set(result.ci) == {"percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"}
    for name, (low, high) in result.ci.items():
        assert low <= getattr(result, name) <= high


def test_agreement_for_three_coders_has_no_cohen():
    result = agreement_for(KRIPPENDORFF_2011)
    assert result.cohen_kappa is None
    assert result.ci == {}
    assert result.n_units == 11
    assert round(result.krippendorff_alpha, 3) == KRIPPENDORFF_2011_ALPHA_NOMINAL
    assert result.as_dict()["cohen_kappa"] is None


# --------------------------------------------------------------------------- import boundary


def test_module_does_not_load_heavy_packages():
    code = (
        "import sys, qualcode.analysis.agreement_stats\n"
        "heavy = [m for m in ('textual', 'spacy', 'sklearn', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    root = Path(__file__).parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
