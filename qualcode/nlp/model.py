"""The suggestion model: trained on the project's codings, scored on any unit, cached beside the project.

Training rows are the units of coded documents (uncoded units there are negatives), units where
a suggestion was rejected (a negative for that code), and the codebook itself: each code's
definition, examples and keywords are extra positive rows with half weight. One logistic
regression per code (one-vs-rest) over the blocks of `features`, plus three more signals: how
the nearest coded units from *other* documents were coded (k-nearest neighbours in LSA and in
word space, the LSA search also once favouring units that answer the same prompt), those votes
for the units just before and after (codes of adjacent paragraphs go together), and keyword
matches. Classes are balanced for ranking, then half of the prior odds is given back so scores
track observed rates (measured in bench/RESULTS.md: mean score 0.50 → 49% right, 0.91 → 78%).
Negatives per code and the neighbour bank are capped so training time stays flat as coding grows.
Codes with fewer than MIN_POSITIVES coded units fall back to the codebook-only (cold start) score.

The model is keyed by the project's change history: any coding, codebook edit or decision on a
suggestion makes a new key, and the next request retrains (in the caller's worker thread).
Cached models are pickles in <project>.models/ (folder 0700, files 0600); one that another
user owns or could have changed is never loaded, because unpickling runs code.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from qualcode.nlp import cache, coldstart, features
from qualcode.nlp.codebook_match import code_profiles, document_matches, unit_matches
from qualcode.nlp.neighbours import KNN_SPACES, Bank, adjacent_votes, neighbour_votes
from qualcode.nlp.units import Unit, covers, load_units
from qualcode.store.project import Project

MODEL_FORMAT = 6
MIN_POSITIVES = 2
C = 0.5
TOLERANCE = 1e-2
CODEBOOK_WEIGHT = 0.5
DEFAULT_THRESHOLD = 0.3
COLD_SHARE = 0.5             # once codes are learned, codebook-only scores are scaled down
PRIOR_CORRECTION = 0.5
NEGATIVES = 1500             # negatives per code at most (or NEGATIVE_RATIO × positives)
NEGATIVE_RATIO = 10
BANK_MAX = 5000              # coded units searched for neighbours at most
CORPUS_BLOCKS_MAX = 400_000  # sentences: above this, features are computed per request
# events that do not change what the model learns from
_IGNORED_KINDS = ("suggest", "evaluate")
_memory: dict = {}
_lock = threading.Lock()


def models_dir(project: Project) -> Path:
    return project.path.with_name(project.path.name + ".models")


def training_key(project: Project, unit: str) -> str:
    marks = ",".join("?" * len(_IGNORED_KINDS))
    r = project.one(f"SELECT MAX(seq) AS s, COUNT(*) AS n FROM events WHERE state = 'done' AND kind NOT IN ({marks})",
                    _IGNORED_KINDS)
    return f"{unit}-f{MODEL_FORMAT}-e{r['s'] or 0}.{r['n']}"


@dataclass
class SuggestionModel:
    unit: str
    version: str
    code_ids: list
    paths: list
    rep: object
    classifiers: list
    bank: Bank
    doc_index: dict
    prompt_index: dict
    positives: list            # coded units per code in training
    shifts: list               # per code: log prior odds added back to the balanced model's logit
    profiles_vec: object = None

    @property
    def trained(self) -> list[bool]:
        return [c is not None for c in self.classifiers]


def make_classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="liblinear", dual=True, tol=TOLERANCE, max_iter=200,
                              class_weight="balanced")


# --- training --------------------------------------------------------------------------------

def representation(project: Project, unit: str, units: list[Unit] | None = None):
    """The corpus representation, from memory, the cache file, or fitted now."""
    key = features.corpus_key(project, unit)
    mem_key = (str(project.path), "rep", key)
    if mem_key in _memory:
        return _memory[mem_key]
    path = models_dir(project) / f"representation-{unit}.pickle"
    rep = cache.load(path, key, MODEL_FORMAT)
    if rep is None:
        if units is None:
            units = load_units(project, unit)
        profiles = code_profiles(project)
        rep = features.Representation(key, unit).fit(units, [coldstart.profile_text(p) for p in profiles])
        cache.save(path, key, MODEL_FORMAT, rep)
    _memory[mem_key] = rep
    return rep


def corpus_blocks(project: Project, rep, units: list[Unit]) -> dict:
    """Feature blocks for units, sliced from the whole corpus's blocks kept in memory.

    Features depend only on the text, never on codings, so a process (the app) computes them
    once per corpus and every retraining or scoring afterwards only slices rows. Units not in
    the corpus cache (or a corpus too large to keep) are computed directly.
    """
    import numpy as np

    mem_key = (str(project.path), "blocks", rep.key)
    cached = _memory.get(mem_key)
    if cached is None:
        if project.one("SELECT COUNT(*) AS n FROM sentences")["n"] > CORPUS_BLOCKS_MAX:
            return rep.blocks(units)
        everything = load_units(project, rep.unit)
        cached = ({(u.doc_id, u.start, u.end): i for i, u in enumerate(everything)}, rep.blocks(everything))
        # keyword matches for every document too (cached on disk by text and codebook version)
        profiles = code_profiles(project)
        document_matches(project, profiles, None, models_dir(project))
        codebook_rows(project, rep, profiles)
        for k in [k for k in _memory if k[1] == "blocks" and k[0] == str(project.path)]:
            del _memory[k]
        _memory[mem_key] = cached
    index, blocks = cached
    rows = [index.get((u.doc_id, u.start, u.end)) for u in units]
    if any(r is None for r in rows):
        return rep.blocks(units)
    rows = np.array(rows, dtype=np.int64)
    return {name: b[rows] for name, b in blocks.items()}


def codebook_rows(project: Project, rep, profiles):
    """(units, code index per unit, feature blocks) for the codebook's definitions, examples and
    keywords. They change only with the codebook, so the blocks are kept per process."""
    pseudo, pseudo_y = [], []
    for c, p in enumerate(profiles):
        for t in [p["definition"], *p["examples"], " ".join(p["keywords"])]:
            if t.strip():
                pseudo.append(Unit("codebook", "codebook", "en", 0, len(t), t))
                pseudo_y.append(c)
    if not pseudo:
        return pseudo, pseudo_y, None
    key = (str(project.path), "pseudo", rep.key, hashlib.sha1(repr([u.text for u in pseudo]).encode()).hexdigest())
    blocks = _memory.get(key)
    if blocks is None:
        for k in [k for k in _memory if k[1] == "pseudo" and k[0] == str(project.path)]:
            del _memory[k]
        blocks = _memory[key] = rep.blocks(pseudo)
    return pseudo, pseudo_y, blocks


def build_rows(project: Project, units: list[Unit], rep, profiles, code_index: dict, cache_dir: Path | None):
    """Design-matrix pieces for units: feature blocks, keyword counts and matched terms."""
    import numpy as np

    blocks = corpus_blocks(project, rep, units)
    matches = document_matches(project, profiles, sorted({u.doc_id for u in units}), cache_dir)
    counts, terms = unit_matches(units, matches, len(profiles))
    order = [code_index.get(p["id"]) for p in profiles]
    keep = [i for i, o in enumerate(order) if o is not None]
    kw = np.zeros((len(units), len(code_index)), dtype=np.float32)
    if keep:
        kw[:, [order[i] for i in keep]] = np.minimum(counts[:, keep].toarray(), 3) / 3
    terms = {(i, order[c]): t for (i, c), t in terms.items() if order[c] is not None}
    return blocks, kw, terms


def train(project: Project, unit: str = "sentence", train_docs: set[str] | None = None,
          units: list[Unit] | None = None, progress=None) -> SuggestionModel:
    """Fit a model on the codings of `train_docs` (default: every coded document)."""
    import numpy as np

    profiles = code_profiles(project)
    code_ids = [p["id"] for p in profiles]
    code_index = {c: i for i, c in enumerate(code_ids)}
    rejected = project.query("SELECT document_id, code_id, start, \"end\" FROM suggestions WHERE status = 'rejected'")
    if units is None:
        coded = {r["document_id"] for r in project.query("SELECT DISTINCT document_id FROM codings")}
        wanted = (coded if train_docs is None else set(train_docs) & coded) | {r["document_id"] for r in rejected}
        units = load_units(project, unit, sorted(wanted))
        if train_docs is None:
            train_docs = coded
    elif train_docs is None:
        train_docs = {u.doc_id for u in units if u.labels}
    rep = representation(project, unit)
    cache_dir = models_dir(project)
    neg: dict[int, set] = {}
    rej_by_doc: dict = {}
    for r in rejected:
        rej_by_doc.setdefault(r["document_id"], []).append(r)
    rows = []
    for i, u in enumerate(units):
        hits = {code_index[r["code_id"]] for r in rej_by_doc.get(u.doc_id, ())
                if r["code_id"] in code_index and covers(u.start, u.end, r["start"], r["end"])}
        if u.doc_id in train_docs or hits:
            rows.append(i)
            if hits:
                neg[len(rows) - 1] = hits
    units = [units[i] for i in rows]
    n = len(units)
    Y = np.zeros((n, len(code_ids)), dtype=np.uint8)
    for i, u in enumerate(units):
        for c in u.labels:
            if c in code_index and u.doc_id in train_docs:
                Y[i, code_index[c]] = 1
    in_train = np.array([u.doc_id in train_docs for u in units], dtype=bool)
    if progress:
        progress(1, 4)
    version = hashlib.sha1(f"{training_key(project, unit)}|{sorted(train_docs)}".encode()).hexdigest()[:10]
    if n == 0 or not Y.any():      # nothing coded yet: the codebook alone speaks (cold start)
        empty = Bank({}, np.zeros((0, len(code_ids)), dtype=np.uint8), np.zeros(0, dtype=np.int64),
                     np.zeros(0, dtype=np.int64), [])
        return SuggestionModel(unit, f"{unit}-codebook-{version}", code_ids, [p["path"] for p in profiles], rep,
                               [None] * len(code_ids), empty, {}, {}, [0] * len(code_ids), [0.0] * len(code_ids))
    blocks, kw, _ = build_rows(project, units, rep, profiles, code_index, cache_dir)
    doc_index: dict = {}
    prompt_index: dict = {}
    docs = np.array([doc_index.setdefault(u.doc_id, len(doc_index)) for u in units], dtype=np.int64)
    prompts = np.array([prompt_index.setdefault(u.prompt_key, len(prompt_index)) if u.prompt_key else -1
                        for u in units], dtype=np.int64)
    rng = np.random.default_rng(0)
    bank_rows = _bank_rows(Y, in_train, rng)
    bank = Bank({name: blocks[name][bank_rows] for name in KNN_SPACES}, Y[bank_rows], docs[bank_rows],
                prompts[bank_rows], [(units[i].doc, units[i].start, units[i].end, units[i].text[:200]) for i in bank_rows])
    votes, _ = neighbour_votes(bank, blocks, docs, prompts)
    X = features.stack(blocks, np.hstack([votes, adjacent_votes(units, votes, len(code_ids)), kw]))
    # the codebook as training signal: definitions, examples and keywords, one row each
    pseudo, pseudo_y, pblocks = codebook_rows(project, rep, profiles)
    if pseudo:
        pvotes = np.zeros((len(pseudo), votes.shape[1] + 2 * len(code_ids)), dtype=np.float32)
        pkw = np.zeros((len(pseudo), kw.shape[1]), dtype=np.float32)
        for i, c in enumerate(pseudo_y):
            pkw[i, c] = 1.0
        from scipy import sparse
        X = sparse.vstack([X, features.stack(pblocks, np.hstack([pvotes, pkw]))], format="csr")
    if progress:
        progress(2, 4)
    code_rows = {}
    positives = []
    for c in range(len(code_ids)):
        pos = int(Y[:, c].sum())
        positives.append(pos)
        if pos < MIN_POSITIVES or pos == n:
            continue
        ok = np.ones(n, dtype=bool)
        for r, codes in neg.items():          # rejected for another code: not a row for this one
            if not in_train[r] and c not in codes:
                ok[r] = False
        code_rows[c] = np.where(ok & _negative_sample(Y[:, c], votes[:, c], neg, c, rng))[0]
    n_pseudo = len(pseudo_y)
    pseudo_y = np.array(pseudo_y, dtype=np.int64)

    def fit(c):
        rows = code_rows[c]
        y = np.concatenate([Y[rows, c], (pseudo_y == c).astype(np.uint8)])
        w = np.concatenate([np.ones(len(rows)), np.full(n_pseudo, CODEBOOK_WEIGHT)])
        clf = make_classifier()
        clf.fit(X[np.concatenate([rows, n + np.arange(n_pseudo)])], y, sample_weight=w)
        return clf

    # liblinear releases the GIL: two threads use both cores
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = dict(zip(code_rows, pool.map(fit, list(code_rows))))
    classifiers = [fitted.get(c) for c in range(len(code_ids))]
    # balanced class weights rank better but inflate scores: give back part of the prior odds
    shifts = [PRIOR_CORRECTION * float(np.log(max(p, 1) / max(n - p, 1))) if classifiers[c] is not None else 0.0
              for c, p in enumerate(positives)]
    if progress:
        progress(3, 4)
    model = SuggestionModel(unit, f"{unit}-lr-{version}", code_ids, [p["path"] for p in profiles], rep, classifiers,
                            bank, doc_index, prompt_index, positives, shifts)
    if progress:
        progress(4, 4)
    return model


def _bank_rows(Y, in_train, rng):
    """Coded units kept as neighbours: all of them up to BANK_MAX, positives first."""
    import numpy as np

    rows = np.where(in_train)[0]
    if len(rows) <= BANK_MAX:
        return rows
    pos = rows[Y[rows].any(1)]
    negs = rows[~Y[rows].any(1)]
    if len(pos) >= BANK_MAX:
        return np.sort(rng.choice(pos, BANK_MAX, replace=False))
    return np.sort(np.concatenate([pos, rng.choice(negs, BANK_MAX - len(pos), replace=False)]))


def _negative_sample(y, vote, neg: dict, c: int, rng):
    """Which rows to keep for one code: every positive, and a bounded number of negatives —
    the most confusable ones (highest neighbour vote for the code) plus a random share. With
    balanced class weights this changes the fit little and keeps training time flat as a
    project grows. Rejected suggestions for the code are always kept."""
    import numpy as np

    keep = np.ones(len(y), dtype=bool)
    negatives = np.where(y == 0)[0]
    cap = max(NEGATIVES, NEGATIVE_RATIO * int(y.sum()))
    if len(negatives) <= cap:
        return keep
    keep[negatives] = False
    hard = negatives[np.argsort(-vote[negatives], kind="stable")[:cap // 2]]
    rest = np.setdiff1d(negatives, hard)
    keep[hard] = True
    keep[rng.choice(rest, cap - len(hard), replace=False)] = True
    for r, codes in neg.items():
        if c in codes:
            keep[r] = True
    return keep


# --- scoring ---------------------------------------------------------------------------------

def score(project: Project, model: SuggestionModel, units: list[Unit]):
    """(scores units × codes in [0, 1], nearest bank rows, matched terms, source per code)."""
    import numpy as np

    profiles = code_profiles(project)
    code_index = {c: i for i, c in enumerate(model.code_ids)}
    blocks, kw, terms = build_rows(project, units, model.rep, profiles, code_index, models_dir(project))
    doc_index = dict(model.doc_index)
    docs = np.array([doc_index.setdefault(u.doc_id, len(doc_index)) for u in units], dtype=np.int64)
    prompts = np.array([model.prompt_index.get(u.prompt_key, -1) if u.prompt_key else -1 for u in units],
                       dtype=np.int64)
    votes, nearest = neighbour_votes(model.bank, blocks, docs, prompts)
    extra = np.hstack([votes, adjacent_votes(units, votes, len(model.code_ids)), kw])
    S = np.zeros((len(units), len(model.code_ids)), dtype=np.float64)
    cold = coldstart.scores(model.rep, profiles, blocks, kw)
    trained = [c for c, clf in enumerate(model.classifiers) if clf is not None]
    for c in range(len(model.code_ids)):
        if model.classifiers[c] is not None:
            continue
        prefix = model.paths[c] + "/"
        if any(model.paths[t].startswith(prefix) for t in trained):
            S[:, c] = 0.0      # a theme whose sub-codes are coded: its sub-codes speak for it
        else:                  # a code nobody has used yet: the codebook's word, with less weight
            S[:, c] = cold[:, c] * (COLD_SHARE if trained else 1.0)
    if trained:
        # every code's decision function in one pass over the rows
        W = np.vstack([model.classifiers[c].coef_.ravel() for c in trained]).T.astype(np.float32)
        b = np.array([model.classifiers[c].intercept_[0] + model.shifts[c] for c in trained], dtype=np.float32)
        S[:, trained] = 1.0 / (1.0 + np.exp(-(features.product(blocks, extra, W) + b)))
    return S, nearest, terms, blocks


def ensure_model(project: Project, unit: str = "sentence", progress=None) -> SuggestionModel:
    """The current model: from memory, from <project>.models/, or trained now (and saved)."""
    key = training_key(project, unit)
    mem_key = (str(project.path), "model", unit)
    with _lock:
        cached = _memory.get(mem_key)
        if cached is not None and cached[0] == key:
            return cached[1]
        path = models_dir(project) / f"suggest-{unit}.pickle"
        model = cache.load(path, key, MODEL_FORMAT)
        if model is None:
            model = train(project, unit, progress=progress)
            if training_key(project, unit) != key:
                # the project changed while training read it (another window, the CLI): the model
                # may mix both states, so it is used once and never cached under either key
                return model
            cache.save(path, key, MODEL_FORMAT, model)
        _memory[mem_key] = (key, model)
        return model


def retrain_in_background(project_path: Path, unit: str = "sentence") -> threading.Thread:
    """Bring the cached model up to date in a daemon thread with its own connection."""
    def work():
        p = Project(Path(project_path))
        try:
            ensure_model(p, unit)
        finally:
            p.close()

    t = threading.Thread(target=work, name="qualcode-retrain", daemon=True)
    t.start()
    return t
