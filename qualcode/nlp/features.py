"""How a unit is represented for the model: learned from all of the project's text, coded or not.

Blocks, each a sparse matrix over the same rows:
- the unit's words (1-2 grams) and characters (2-5 grams inside words), TF-IDF;
- context: the neighbouring units, the unit's turn and the prompt it answers, in the same word space;
- latent semantics: LSA (TruncatedSVD over TF-IDF of every unit in the project) of the unit, so
  words never seen in a coded passage still land near related ones (LSA of the context and of the
  prompt added nothing measurable and cost training time);
- conversation facts: the speaker's role, whether a speaker label opens the unit, its language,
  where in the document it lies.
Bag-of-words alone plateaus; the context, prompt and LSA blocks and the neighbour votes lift it.
"""

from __future__ import annotations

import hashlib

WEIGHTS = {"words": 1.0, "chars": 1.0, "context": 1.0, "turn": 0.3, "prompt": 1.0, "lsa": 1.0, "meta": 1.0}
LSA_DIMS = 150
MAX_FIT_ROWS = 30000     # vocabulary and LSA are learned on at most this many units (a sample beyond)


def corpus_key(project, unit: str) -> str:
    h = hashlib.sha1(unit.encode())
    for r in project.query("SELECT id, sha256 FROM documents ORDER BY id"):
        h.update(f"{r['id']}:{r['sha256']};".encode())
    return h.hexdigest()[:16]


def _meta(u) -> dict:
    bucket = min(int(u.pos * 10), 9)
    return {f"role={u.role}": 1.0, f"first&role={u.role}": 1.0 if u.first else 0.0,
            f"lang={u.lang}": 1.0, f"pos={bucket}": 1.0, "has_prompt": 1.0 if u.prompt else 0.0}


class Representation:
    """Vectorisers and LSA fitted once per corpus (documents never change after import)."""

    def __init__(self, key: str = "", unit: str = "sentence"):
        self.key = key
        self.unit = unit
        self.words = self.chars = self.svd = self.meta = None

    def fit(self, units, extra_texts: list[str] = ()) -> "Representation":
        import numpy as np
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = [u.text for u in units]
        if len(texts) > MAX_FIT_ROWS:
            rng = np.random.default_rng(0)
            texts = [texts[i] for i in sorted(rng.choice(len(texts), MAX_FIT_ROWS, replace=False))]
        texts = texts + list(extra_texts)
        min_df = 2 if len(texts) >= 50 else 1
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=min_df, max_features=150000,
                                     dtype=np.float32).fit(texts)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df,
                                     max_features=60000, dtype=np.float32).fit(texts)
        wm = self.words.transform(texts)
        dims = min(LSA_DIMS, wm.shape[1] - 1, wm.shape[0] - 1)
        self.svd = TruncatedSVD(dims, algorithm="randomized", n_iter=4, random_state=0).fit(wm) if dims >= 2 else None
        self.meta = DictVectorizer(dtype=np.float32).fit([_meta(u) for u in units] or [{}])
        return self

    def lsa(self, word_matrix):
        import numpy as np
        from sklearn.preprocessing import normalize

        if self.svd is None:
            return np.zeros((word_matrix.shape[0], 1), dtype=np.float32)
        return normalize(self.svd.transform(word_matrix)).astype(np.float32)

    def blocks(self, units) -> dict:
        """Every block for these units (rows in the same order).

        Context and turn rows are built from the units' own word rows where the neighbours are
        in the list (they usually are: units come a whole document at a time), so each text is
        vectorised once.
        """
        import numpy as np
        from scipy import sparse
        from sklearn.preprocessing import normalize

        n = len(units)
        w = self.words.transform([u.text for u in units])
        pos = {(u.doc_id, u.idx): i for i, u in enumerate(units)}
        rows, cols, missing = [], [], []
        for i, u in enumerate(units):
            for j in (pos.get((u.doc_id, u.idx - 1)) if u.prev else None,
                      pos.get((u.doc_id, u.idx + 1)) if u.next else None):
                if j is not None:
                    rows.append(i)
                    cols.append(j)
            if (u.prev and (u.doc_id, u.idx - 1) not in pos) or (u.next and (u.doc_id, u.idx + 1) not in pos):
                missing.append(i)
        pick = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
        ctx = (pick @ w).tolil() if missing else pick @ w
        if missing:
            ctx[missing] = self.words.transform([f"{units[i].prev} {units[i].next}" for i in missing])
            ctx = ctx.tocsr()
        ctx = normalize(ctx)
        # a unit's turn: the mean of the turn's units (other than itself) in the list
        members: dict = {}
        for i, u in enumerate(units):
            if u.turn and u.turn_id is not None:
                members.setdefault((u.doc_id, u.turn_id), []).append(i)
        rows, cols = [], []
        for idxs in members.values():
            for i in idxs:
                rows.extend([i] * len(idxs))
                cols.extend(idxs)
        turn = normalize(sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n)) @ w)
        prompts = sorted({u.prompt for u in units})
        where = {p: k for k, p in enumerate(prompts)}
        pm = self.words.transform(prompts) if prompts else sparse.csr_matrix((0, w.shape[1]))
        prompt = pm[[where[u.prompt] for u in units]] if n else sparse.csr_matrix((0, w.shape[1]))
        out = {"words": w, "chars": self.chars.transform([u.text for u in units]), "context": ctx, "turn": turn,
               "prompt": prompt, "meta": self.meta.transform([_meta(u) for u in units])}
        lsa_text, lsa_ctx = self.lsa(w), self.lsa(ctx)
        out["lsa"] = sparse.csr_matrix(lsa_text)
        # dense vectors for nearest-neighbour search: the unit, with a little of its context
        out["dense"] = _normalise_rows(lsa_text + 0.5 * lsa_ctx)
        return out


def _normalise_rows(m):
    from sklearn.preprocessing import normalize

    return normalize(m)


def _parts(blocks: dict, extra=None):
    """(matrix, weight) in design-matrix column order: the weighted blocks, then extra columns."""
    parts = [(blocks[name], weight) for name, weight in WEIGHTS.items() if name in blocks]
    if extra is not None:
        parts.append((extra, 1.0))
    return parts


def stack(blocks: dict, extra=None):
    """One sparse design matrix from the weighted blocks (plus extra columns)."""
    from scipy import sparse

    return sparse.hstack([sparse.csr_matrix(m) * w for m, w in _parts(blocks, extra)], format="csr")


def product(blocks: dict, extra, W):
    """stack(blocks, extra) @ W without building the stacked matrix: at scoring time, on every
    sentence of a large corpus, the copy costs more than the products."""
    import numpy as np

    out = np.zeros((extra.shape[0], W.shape[1]), dtype=np.float32)
    col = 0
    for m, w in _parts(blocks, extra):
        out += w * np.asarray(m @ W[col:col + m.shape[1]])
        col += m.shape[1]
    return out
