"""`qualcode evaluate`: cross-validation by whole documents, per-code and overall figures, reliability."""

from __future__ import annotations

import json

import numpy as np

from support import file_digest, qc
from test_suggest import TOPICS, build_project


def test_evaluate_json_follows_the_contract(tmp_path):
    path = build_project(tmp_path, docs=6, coded=5)
    r = qc("--project", path, "evaluate", "--json", "--folds", "5")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["folds"] == 5 and out["documents"] == 5 and out["unit"] == "sentence"
    for key in ("precision", "recall", "f1", "macro_f1", "top3", "n"):
        assert key in out["overall"]
    codes = {c["code"]: c for c in out["codes"]}
    assert set(TOPICS) <= set(codes)
    for c in codes.values():
        assert {"precision", "recall", "f1", "n"} <= set(c) and 0 <= c["f1"] <= 1
    assert out["overall"]["f1"] > 0.6          # the made-up topics are easy to tell apart
    curve = out["learning_curve"]
    assert [p["fraction"] for p in curve] == [0.25, 0.5, 0.75, 1.0]
    assert curve[0]["examples"] < curve[-1]["examples"]
    assert out["calibration"] and all(0 <= b["observed"] <= 1 for b in out["calibration"])


def test_reliability_is_cached_for_the_app(tmp_path):
    from qualcode.nlp.evaluate import code_reliability
    from qualcode.nlp.suggest import RELIABILITY_SETTING, THRESHOLD_SETTING
    from qualcode.store.project import Project

    path = build_project(tmp_path, docs=5, coded=4)
    p = Project(path)
    rel = code_reliability(p)               # nothing cached yet: measured now, then cached
    assert set(TOPICS) <= set(rel)
    assert all({"precision", "recall", "f1", "n"} <= set(v) for v in rel.values())
    assert p.setting(RELIABILITY_SETTING) == rel
    assert 0.1 <= p.setting(THRESHOLD_SETTING) <= 0.7
    p.close()
    # suggestions then carry the code's measured reliability
    out = json.loads(qc("--project", path, "suggest", "I05", "--json").out)
    assert out and all(s["evidence"]["reliability"] == rel[s["code"]] for s in out if s["code"] in rel)


def test_text_output_and_too_little_coding(tmp_path):
    path = build_project(tmp_path, docs=3, coded=1)
    before = file_digest(path)
    r = qc("--project", path, "evaluate")
    assert r.code == 1 and r.err.startswith("error:") and "two documents" in r.err
    assert file_digest(path) == before
    r = qc("--project", path, "evaluate", "--folds", "1")
    assert r.code == 1 and r.err.startswith("error:")
    path2 = build_project(tmp_path / "b", docs=4, coded=3) if (tmp_path / "b").mkdir() is None else None
    r = qc("--project", path2, "evaluate", "--no-curve")
    assert r.code == 0, r.err
    assert "overall (micro)" in r.out and "Barriers/Fees" in r.out


def test_folds_keep_documents_whole():
    from qualcode.nlp.evaluate import folds_of

    docs = [f"d{i}" for i in range(11)]
    sizes = {d: (i * 7) % 5 + 1 for i, d in enumerate(docs)}
    folds = folds_of(docs, sizes, 5)
    flat = [d for f in folds for d in f]
    assert sorted(flat) == sorted(docs) and len(flat) == len(set(flat))
    loads = [sum(sizes[d] for d in f) for f in folds]
    assert max(loads) - min(loads) <= max(sizes.values())


def test_measure_counts_micro_and_per_code():
    from qualcode.nlp.evaluate import best_threshold, measure

    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    S = np.array([[0.9, 0.1], [0.6, 0.8], [0.2, 0.7], [0.1, 0.2]])
    m = measure(S, Y, ["A", "B"], 0.5)
    # A: tp 1 (row 0), fp 1 (row 1), fn 1 (row 2); B: tp 2, fp 0, fn 0
    a, b = m["codes"]
    assert (a["precision"], a["recall"]) == (0.5, 0.5) and (b["precision"], b["recall"]) == (1.0, 1.0)
    assert m["overall"]["precision"] == 0.75 and m["overall"]["recall"] == 0.75
    assert m["overall"]["top3"] == 1.0
    assert best_threshold(S, Y) == 0.65       # A at 0.9 and B at 0.8, 0.7: micro-F1 6/7
