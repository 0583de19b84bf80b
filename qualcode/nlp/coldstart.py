"""Cold start: suggestions from the codebook alone, before anything is coded.

A unit is compared with each code's profile (name, definition, when to use, examples, keywords)
twice — in TF-IDF word space and in LSA space (unit plus a little context) — and keyword/lemma
matches add their own weight. Similarities are standardised per code over the units being
scored, so a code with a long, generic definition does not win everywhere, then mapped to [0, 1].
These scores rank well enough to start with but are not calibrated: no coding has been seen.
"""

from __future__ import annotations

# weights of the standardised LSA and word similarities and of keyword hits, and the offset
W_LSA, W_WORDS, W_KEYWORDS, OFFSET = 1.3, 0.7, 2.0, -3.0


def profile_text(p: dict) -> str:
    return " ".join([p["definition"], *p["examples"], " ".join(p["keywords"])])


def scores(rep, profiles: list[dict], blocks: dict, keyword_hits):
    """Units × codes (profile order) scores in [0, 1]."""
    import numpy as np

    n, m = blocks["words"].shape[0], len(profiles)
    if n == 0 or m == 0:
        return np.zeros((n, m))
    texts = [profile_text(p) for p in profiles]
    cached = getattr(rep, "_profiles", None)
    if cached is None or cached[0] != texts:
        pw = rep.words.transform(texts)
        cached = (texts, pw, rep.lsa(pw))
        rep._profiles = cached
    _, pw, pl = cached
    sim_w = (blocks["words"] @ pw.T).toarray()
    sim_l = np.asarray(blocks["dense"] @ pl.T)

    def standardise(s):
        mu = s.mean(0, keepdims=True)
        sd = np.maximum(s.std(0, keepdims=True), 0.05)
        return (s - mu) / sd

    z = W_LSA * standardise(sim_l) + W_WORDS * standardise(sim_w) + W_KEYWORDS * np.asarray(keyword_hits) + OFFSET
    return 1.0 / (1.0 + np.exp(-z))
