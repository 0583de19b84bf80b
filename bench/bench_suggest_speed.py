"""Suggestion speed: training the model and scoring every sentence, on the demo and on ten times the demo.

Corpus: the demo project (`qualcode demo --no-tui`), and the same transcripts and demo codings
imported ten times under new names (each copy made distinct by an appended line). Baseline,
measured in the same run on the same coded sentences: plain TF-IDF word 1-2 grams + one-vs-rest
logistic regression (train on the coded documents' sentences; score every sentence).

Timings for qualcode, each from a fresh process state except where noted:
- representation: fitting the vocabularies and LSA over every sentence and computing every
  sentence's features (once per corpus and process: the fitted part is cached beside the project,
  the features in memory, until a document is added or replaced);
- training: what a change of coding costs once the representation is there (the app's steady state);
- scoring every sentence: features, neighbour votes and all codes' scores for all documents
  (keyword matches cached after the first run; the first run is shown too);
- suggest end to end: `generate_suggestions` for all documents with a warm model, storage included.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import record  # noqa: E402


def build_copies(target: Path, copies: int) -> None:
    from qualcode import demo
    from qualcode.codebook import import_specs
    from qualcode.codebook_files import load
    from qualcode.coding import SpanRequest, import_codings
    from qualcode.documents import store_documents
    from qualcode.ingest.importer import parse_file
    from qualcode.store.project import Project

    parsed = [parse_file(p) for p in demo.transcript_files()]
    project = Project(target, create=True)
    docs = []
    for k in range(copies):
        docs += [dataclasses.replace(d, name=f"{d.name}_c{k}", text=d.text + f"\n(copy {k})") for d in parsed]
    store_documents(project, docs, coder="bench")
    _, specs = load(demo.CODEBOOK)
    import_specs(project, specs, "bench", "codebook")
    requests = [SpanRequest(f"{r.document}_c{k}", r.start, r.end, r.code, r.coder, None)
                for k in range(copies) for r in demo.demo_codings()]
    import_codings(project, requests, "bench", "codings")
    project.close()


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def baseline(project):
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from qualcode.nlp.units import load_units

    units = load_units(project, "sentence")
    coded = {r["document_id"] for r in project.query("SELECT DISTINCT document_id FROM codings")}
    train = [u for u in units if u.doc_id in coded]
    codes = sorted({c for u in train for c in u.labels})

    def fit():
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([u.text for u in train])
        X = vec.transform([u.text for u in train])
        models = []
        for c in codes:
            y = np.array([c in u.labels for u in train])
            if 2 <= y.sum() < len(y):
                models.append(LogisticRegression(solver="liblinear", class_weight="balanced").fit(X, y))
        return vec, models

    t_train, (vec, models) = timed(fit)

    def score():
        X = vec.transform([u.text for u in units])
        return [m.predict_proba(X)[:, 1] for m in models]

    t_score, _ = timed(score)
    return t_train, t_score, len(units), len(train)


def measure(path: Path) -> dict:
    from qualcode.nlp import model
    from qualcode.nlp.suggest import generate_suggestions
    from qualcode.nlp.units import load_units
    from qualcode.store.project import Project

    project = Project(path)
    out = {}
    out["base_train"], out["base_score"], out["sentences"], out["train_sentences"] = baseline(project)
    model._memory.clear()

    def corpus():
        rep = model.representation(project, "sentence")
        model.corpus_blocks(project, rep, [])
    out["representation"], _ = timed(corpus)
    out["train"], m = timed(lambda: model.train(project, "sentence"))

    def score_all():
        units = load_units(project, "sentence")
        return model.score(project, m, units)[0]

    out["score_first"], _ = timed(score_all)       # keyword matches computed and cached
    out["score"], _ = timed(score_all)
    model.ensure_model(project, "sentence")
    out["suggest"], s = timed(lambda: generate_suggestions(project, None, "sentence", 3))
    out["suggestions"] = len(s)
    out["documents"] = project.one("SELECT COUNT(*) AS n FROM documents")["n"]
    out["codes"] = project.one("SELECT COUNT(*) AS n FROM codes")["n"]
    project.close()
    return out


def main() -> None:
    from qualcode.demo import build_demo

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        demo_path = Path(tmp) / "demo.db"
        build_demo(demo_path)
        rows.append(("demo", measure(demo_path)))
        big = Path(tmp) / "big.db"
        build_copies(big, 10)
        rows.append(("demo × 10", measure(big)))
    lines = ["| corpus | documents | sentences | coded-document sentences | codes | baseline train s | "
             "baseline score s | representation s (once per corpus) | train s | score all s (first) | "
             "score all s | suggest all s | target s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        target = 2 if name == "demo" else 20
        lines.append(f"| {name} | {r['documents']} | {r['sentences']:,} | {r['train_sentences']:,} | {r['codes']} | "
                     f"{r['base_train']:.2f} | {r['base_score']:.2f} | {r['representation']:.2f} | {r['train']:.2f} | "
                     f"{r['score_first']:.2f} | {r['score']:.2f} | {r['suggest']:.2f} | {target} |")
    for name, r in rows:
        lines.append("")
        lines.append(f"{name}: training takes {r['train'] / r['base_train']:.1f}× the baseline's time, scoring "
                     f"every sentence {r['score'] / r['base_score']:.1f}×; {r['suggestions']:,} suggestions stored.")
    load = os.getloadavg()[0]
    lines += ["", f"Load average at the end of the run: {load:.1f} (2 cores; other work may share them)."]
    record("Suggestions: speed", lines)


if __name__ == "__main__":
    main()
