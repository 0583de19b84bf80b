"""Suggestion quality on real coding: the SERDIF usability study (17 transcripts, 22 codes).

The Taguette project is imported with `qualcode import`, so spans, paragraphs and turns are
exactly what a user would get. Evaluated like the reference figures in SOURCES.md: paragraphs
that are not task prompts, codes used at least 5 times, a paragraph's gold codes are those of
every highlight touching it. Two splits: train on P1–P12 and test on P13–P17, and grouped
5-fold (no transcript on both sides). The reference model — TF-IDF word 1-2 grams + logistic
regression — is rerun on the same paragraphs as the baseline. qualcode's decision threshold is
chosen by an inner cross-validation on the training transcripts only. Cold start: the
codebook's definitions alone, no codings.

Data: ../shared/benchmarks/serdif (GPL-3.0; read in place, never copied). Skips when absent.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERDIF = REPO.parent / "shared" / "benchmarks" / "serdif"
MIN_USES = 5


def _norm(t: str) -> str:
    return re.sub(r"\W+", " ", t.lower()).strip()


def build(tmp: Path):
    from qualcode.cli import main
    from qualcode.store.project import Project

    path = tmp / "serdif.db"
    try:
        main(["--project", str(path), "--coder", "bench", "import", str(SERDIF / "SERDIF_P2_ThematicAnalysis.sqlite3")])
    except SystemExit as exc:
        if exc.code:
            raise
    return Project(path)


def gold_table(project, units):
    """Gold codes per unit (any overlapping coding), the evaluated rows and the evaluated code columns."""
    import numpy as np

    prompts = {_norm(json.loads(line)["text"]) for line in open(SERDIF / "derived" / "paragraphs.jsonl", encoding="utf-8")
               if json.loads(line)["looks_like_task_prompt"]}
    ids = [r["id"] for r in project.query("SELECT id FROM codes ORDER BY path")]
    index = {c: i for i, c in enumerate(ids)}
    codings: dict = {}
    for r in project.query("SELECT document_id, code_id, start, \"end\" FROM codings"):
        codings.setdefault(r["document_id"], []).append((r["start"], r["end"], r["code_id"]))
    G = np.zeros((len(units), len(ids)), dtype=np.uint8)
    for i, u in enumerate(units):
        for s, e, c in codings.get(u.doc_id, ()):
            if s < u.end and e > u.start:
                G[i, index[c]] = 1
    rows = np.array([_norm(u.text) not in prompts for u in units])
    cols = np.where(G[rows].sum(0) >= MIN_USES)[0]
    return G, rows, cols


def doc_number(name: str) -> int:
    return int(re.match(r"P(\d+)", name).group(1))


def baseline_scores(units, G, train_idx, test_idx):
    """The reference: TF-IDF word 1-2 grams + one-vs-rest logistic regression, untuned (threshold 0.5)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    X = vec.fit_transform([units[i].text for i in train_idx])
    Xt = vec.transform([units[i].text for i in test_idx])
    S = np.zeros((len(test_idx), G.shape[1]))
    for c in range(G.shape[1]):
        y = G[train_idx, c]
        if 0 < y.sum() < len(y):
            S[:, c] = LogisticRegression(solver="liblinear", class_weight="balanced").fit(X, y).predict_proba(Xt)[:, 1]
    return S


def ours(project, units, train_docs: set, test_rows):
    """qualcode's model trained on train_docs; threshold from inner CV on those documents only."""
    from qualcode.nlp import evaluate, model

    train_units = [u for u in units if u.doc_id in train_docs]
    t = time.perf_counter()
    m = model.train(project, "paragraph", train_docs=train_docs, units=train_units)
    train_s = time.perf_counter() - t
    S, *_ = model.score(project, m, [units[i] for i in test_rows])
    _, Si, Yi, _, _ = evaluate.cross_validated_scores(project, "paragraph", folds=3, units=train_units,
                                                      documents=train_docs)
    return S, evaluate.best_threshold(Si, Yi), train_s


def measure(S, G, cols, threshold):
    from qualcode.nlp.evaluate import measure as m

    return m(S[:, cols], G[:, cols], [str(c) for c in cols], threshold)["overall"]


def main() -> None:
    if not SERDIF.exists():
        print(f"skipped: {SERDIF} is absent")
        return
    import numpy as np

    from qualcode.nlp import evaluate, model
    from qualcode.nlp.evaluate import folds_of
    from qualcode.nlp.units import load_units

    with tempfile.TemporaryDirectory() as tmp:
        project = build(Path(tmp))
        units = load_units(project, "paragraph")
        model.representation(project, "paragraph", units)      # corpus representation, fitted once
        G, rows, cols = gold_table(project, units)
        names = {r["id"]: r["name"] for r in project.query("SELECT id, name FROM documents")}
        lines = [f"Data: {len(names)} transcripts, {int(rows.sum())} paragraphs that are not task prompts, "
                 f"{len(cols)} codes used at least {MIN_USES} times, {int(G[rows][:, cols].sum())} gold (paragraph, code) pairs.",
                 "", "| split | model | micro P | micro R | micro F1 | macro F1 | top-3 (coded paragraphs) | threshold | train s |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|"]

        def row(split, name, o, thr, secs=""):
            lines.append(f"| {split} | {name} | {o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} | "
                         f"{o['macro_f1']:.3f} | {o['top3']:.3f} | {thr:.2f} | {secs} |")

        # split 1: P1–P12 → P13–P17
        train_docs = {d for d, n in names.items() if doc_number(n) <= 12}
        test_rows = np.array([i for i, u in enumerate(units) if u.doc_id not in train_docs and rows[i]])
        train_rows = np.array([i for i, u in enumerate(units) if u.doc_id in train_docs and rows[i]])
        Gt = G[test_rows]
        row("P1–P12 → P13–P17", "baseline: TF-IDF 1-2 + LR", measure(baseline_scores(units, G, train_rows, test_rows), Gt,
                                                                      cols, 0.5), 0.5)
        S, thr, secs = ours(project, units, train_docs, test_rows)
        row("P1–P12 → P13–P17", "qualcode", measure(S, Gt, cols, thr), thr, f"{secs:.1f}")
        fixed_S, fixed_thr = S, thr

        # split 2: grouped 5-fold
        counts = {d: sum(1 for u in units if u.doc_id == d) for d in names}
        S_all = np.zeros(G.shape)
        B_all = np.zeros(G.shape)
        T_all = np.zeros(G.shape)   # our predictions at each fold's own threshold
        times = []
        for test in folds_of(sorted(names), counts, 5):
            tr = set(names) - set(test)
            te = np.array([i for i, u in enumerate(units) if u.doc_id in test and rows[i]])
            trr = np.array([i for i, u in enumerate(units) if u.doc_id in tr and rows[i]])
            B_all[te] = baseline_scores(units, G, trr, te)
            S, thr, secs = ours(project, units, tr, te)
            S_all[te] = S
            T_all[te] = S >= thr
            times.append(secs)
        ev = np.where(rows)[0]
        row("grouped 5-fold", "baseline: TF-IDF 1-2 + LR", measure(B_all[ev], G[ev], cols, 0.5), 0.5)
        o = measure(T_all[ev], G[ev], cols, 0.5)      # decisions at each fold's inner-CV threshold
        o["top3"] = measure(S_all[ev], G[ev], cols, 0.5)["top3"]
        row("grouped 5-fold", "qualcode", o, float("nan"), f"{np.mean(times):.1f}")
        lines[-1] = lines[-1].replace("| nan |", "| per fold |")

        # cold start: the codebook's definitions alone
        cold = model.train(project, "paragraph", train_docs=set(), units=[])
        Sc, *_ = model.score(project, cold, [units[i] for i in ev])
        row("all 17, no codings", "cold start (definitions only)", measure(Sc, G[ev], cols, model.DEFAULT_THRESHOLD),
            model.DEFAULT_THRESHOLD)

        cal = evaluate.calibration(fixed_S[:, cols], Gt[:, cols])
        lines += ["", "Targets: micro-F1 ≥ 0.60 and top-3 ≥ 0.90. Do scores behave like probabilities? "
                  "P1–P12 → P13–P17, every (paragraph, code) score by bin:", "",
                  "| score bin | pairs | mean score | observed rate |", "|---|---:|---:|---:|"]
        lines += [f"| {b['bin']} | {b['n']} | {b['mean_score']:.3f} | {b['observed']:.3f} |" for b in cal]
        per_code = evaluate.measure(fixed_S[:, cols], Gt[:, cols], [names_of(project, c) for c in cols], fixed_thr)
        lines += ["", "Per code, P1–P12 → P13–P17:", "", "| code | n | P | R | F1 |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {c['code']} | {c['n']} | {c['precision']:.2f} | {c['recall']:.2f} | {c['f1']:.2f} |"
                  for c in sorted(per_code["codes"], key=lambda c: -c["n"])]
        project.close()
    record("Suggestions: quality on SERDIF", lines)


def names_of(project, col: int) -> str:
    return project.query("SELECT path FROM codes ORDER BY path")[col]["path"]


if __name__ == "__main__":
    main()
