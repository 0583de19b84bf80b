"""How good are the suggestions? Cross-validation on the project's own codings, documents kept whole.

Coded documents are split into folds; each fold's documents are scored by a model trained on the
other folds only (so no transcript is both studied and tested — within a transcript, neighbouring
sentences share too much). From the pooled held-out scores come precision, recall and F1 per code
and overall (micro: every unit × code decision counts once), how often a right code is among the
top three for coded units, and the score threshold that maximises micro-F1 (suggest uses it).
A learning curve repeats this with part of the training documents, to show whether more coding
would still help. Per-code figures are cached in settings for the app to show beside suggestions.
"""

from __future__ import annotations

from qualcode.errors import QualcodeError
from qualcode.nlp import model as modelmod
from qualcode.nlp import reliability as reliabilitymod
from qualcode.nlp.suggest import RELIABILITY_SETTING, THRESHOLD_SETTING
from qualcode.nlp.units import check_unit, load_units
from qualcode.store.project import Project

THRESHOLDS = [round(0.05 * i, 2) for i in range(2, 15)]   # 0.10 … 0.70
CURVE = (0.25, 0.5, 0.75, 1.0)
SUMMARY_SETTING = "suggest.evaluation"


def folds_of(doc_ids: list[str], sizes: dict[str, int], k: int) -> list[list[str]]:
    """Documents dealt into k folds of similar size, deterministically."""
    folds: list[list[str]] = [[] for _ in range(k)]
    load = [0] * k
    for d in sorted(doc_ids, key=lambda d: (-sizes.get(d, 0), d)):
        i = min(range(k), key=lambda j: (load[j], j))
        folds[i].append(d)
        load[i] += sizes.get(d, 0)
    return folds


def cross_validated_scores(project: Project, unit: str = "sentence", folds: int = 5, fraction: float = 1.0,
                           units=None, progress=None, seed: int = 0, documents: set[str] | None = None):
    """(units, scores units × codes, gold units × codes, code paths, codings used per fold).

    `documents` (ids) limits the evaluation to some coded documents."""
    import numpy as np

    unit = check_unit(unit)
    counts = {r["document_id"]: r["n"] for r in project.query(
        "SELECT document_id, COUNT(*) AS n FROM codings GROUP BY document_id")}
    docs = sorted(d for d in counts if documents is None or d in documents)
    if len(docs) < 2:
        raise QualcodeError("evaluation needs codings in at least two documents (it tests on documents the "
                            "model has not seen)")
    if units is None:
        units = load_units(project, unit, docs)
    units = [u for u in units if u.doc_id in set(docs)]
    paths = [r["path"] for r in project.query("SELECT path FROM codes ORDER BY path")]
    ids = [r["id"] for r in project.query("SELECT id FROM codes ORDER BY path")]
    index = {c: i for i, c in enumerate(ids)}
    Y = np.zeros((len(units), len(ids)), dtype=np.uint8)
    for i, u in enumerate(units):
        for c in u.labels:
            if c in index:
                Y[i, index[c]] = 1
    S = np.zeros(Y.shape)
    k = min(folds, len(docs))
    parts = folds_of(docs, counts, k)
    rng = np.random.default_rng(seed)
    used = []
    for n, test in enumerate(parts):
        train_docs = [d for d in docs if d not in test]
        if fraction < 1.0:
            keep = max(1, round(fraction * len(train_docs)))
            train_docs = sorted(rng.permutation(train_docs)[:keep].tolist())
        used.append(sum(counts[d] for d in train_docs))
        tset, test_set = set(train_docs), set(test)
        model = modelmod.train(project, unit, train_docs=tset, units=[u for u in units if u.doc_id in tset])
        rows = [i for i, u in enumerate(units) if u.doc_id in test_set]
        scored, *_ = modelmod.score(project, model, [units[i] for i in rows])
        S[rows] = scored
        if progress:
            progress(n + 1, k)
    return units, S, Y, paths, used


def measure(S, Y, paths: list[str], threshold: float) -> dict:
    """Precision, recall, F1 per code and overall (micro and macro), and top-3 on coded units."""
    import numpy as np

    pred = S >= threshold
    gold = Y.astype(bool)
    tp = (pred & gold).sum(0)
    fp = (pred & ~gold).sum(0)
    fn = (~pred & gold).sum(0)
    codes = []
    for c, path in enumerate(paths):
        n = int(gold[:, c].sum())
        if n == 0 and not pred[:, c].any():
            continue
        codes.append({"code": path, "n": n, **_prf(int(tp[c]), int(fp[c]), int(fn[c])),
                      "right": int(tp[c]), "suggested": int(tp[c] + fp[c])})
    overall = _prf(int(tp.sum()), int(fp.sum()), int(fn.sum()))
    with_gold = [c for c in codes if c["n"] > 0]
    overall["macro_f1"] = round(float(np.mean([c["f1"] for c in with_gold])), 3) if with_gold else 0.0
    coded = gold.any(1)
    if coded.any():
        top3 = np.argsort(-S[coded], axis=1)[:, :3]
        overall["top3"] = round(float(np.take_along_axis(gold[coded], top3, 1).any(1).mean()), 3)
    else:
        overall["top3"] = 0.0
    overall["n"] = int(gold.sum())
    overall["units"] = int(len(Y))
    return {"threshold": threshold, "overall": overall, "codes": codes}


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}


def best_threshold(S, Y) -> float:
    import numpy as np

    gold = Y.astype(bool)
    best = (-1.0, modelmod.DEFAULT_THRESHOLD)
    for t in THRESHOLDS:
        pred = S >= t
        tp = float((pred & gold).sum())
        f1 = 2 * tp / max(float(pred.sum() + gold.sum()), 1.0)
        if f1 > best[0] + 1e-9:
            best = (f1, t)
    return float(np.round(best[1], 2))


def calibration(S, Y, bins: int = 5) -> list[dict]:
    """Mean score against the observed rate of the code, in score bins: do scores behave like probabilities?"""
    import numpy as np

    s, y = S.ravel(), Y.ravel()
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (s >= lo) & ((s < hi) if hi < 1 else (s <= hi))
        if m.any():
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(m.sum()), "mean_score": round(float(s[m].mean()), 3),
                        "observed": round(float(y[m].mean()), 3)})
    return out


def evaluate(project: Project, unit: str = "sentence", folds: int = 5, curve: bool = True, progress=None,
             store: bool = True) -> dict:
    """Cross-validated quality of the suggestions on this project's codings; caches per-code reliability
    and what it was measured on (see `reliability.needs_measuring`)."""
    unit = check_unit(unit)
    key = modelmod.training_key(project, unit)     # what the figures describe, taken before measuring
    measured = reliabilitymod.measured_now(project, unit, key)
    units, S, Y, paths, used = cross_validated_scores(project, unit, folds, progress=progress)
    threshold = best_threshold(S, Y)
    result = {"unit": unit, "folds": len(used), "documents": len({u.doc_id for u in units}),
              **measure(S, Y, paths, threshold), "calibration": calibration(S, Y)}
    if curve:
        points = []
        for fraction in CURVE:
            if fraction == 1.0:
                f_units, f_S, f_Y, f_used = units, S, Y, used
            else:
                f_units, f_S, f_Y, _, f_used = cross_validated_scores(project, unit, folds, fraction, units=units)
            m = measure(f_S, f_Y, paths, threshold)["overall"]
            points.append({"fraction": fraction, "examples": round(sum(f_used) / len(f_used)),
                           "precision": m["precision"], "recall": m["recall"], "f1": m["f1"], "top3": m["top3"]})
        result["learning_curve"] = points
    if store:
        reliability = {c["code"]: {k: c[k] for k in ("precision", "recall", "f1", "n", "right", "suggested")}
                       for c in result["codes"]}
        with project.change("evaluate", f"Measured suggestion quality ({unit}s, {result['folds']} folds)") as ch:
            ch.set_setting(THRESHOLD_SETTING, threshold)
            ch.set_setting(RELIABILITY_SETTING, reliability)
            ch.set_setting(SUMMARY_SETTING, {"unit": unit, "key": key, "overall": result["overall"],
                                             "threshold": threshold, "calibration": result["calibration"]})
            ch.set_setting(reliabilitymod.MEASURED_SETTING, measured)
    return result


def code_reliability(project: Project, unit: str = "sentence") -> dict:
    """Per code path: precision, recall, F1 and n from the last evaluation (run now if there is none)."""
    cached = project.setting(RELIABILITY_SETTING)
    if cached:
        return cached
    try:
        evaluate(project, unit, curve=False)
    except QualcodeError:      # fewer than two coded documents: nothing to measure yet
        return {}
    return project.setting(RELIABILITY_SETTING, {}) or {}
