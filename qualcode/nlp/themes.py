"""Emerging themes: topics in text nobody has coded yet, offered as candidate new codes.

Units that no coding touches (in every document) are factorised with NMF over TF-IDF; each topic
comes with its top terms, the uncoded units that carry it most, and the existing code it is
closest to — a topic close to no code is a candidate for a new one.
"""

from __future__ import annotations

from qualcode.nlp.codebook_match import code_profiles
from qualcode.nlp.coldstart import profile_text
from qualcode.nlp.units import check_unit, load_units
from qualcode.store.project import Project

MIN_UNITS = 20
EXAMPLES = 3
# spoken filler and the stems contractions leave (don't → don): they make topics of how people talk
FILLERS = ("like maybe yes yeah okay ok well just really say says said think know mean right sure thing things "
           "got get let tell come comes did does don doesn didn isn wasn aren won can couldn wouldn shouldn "
           "ll ve re").split()
_NOTES = r"\[[^\]\n]{0,40}\]|\([^)\n]{0,40}\)"     # transcriber's notes: [laughs], (pause)


def emerging_themes(project: Project, topics: int = 8, unit: str = "sentence") -> list[dict]:
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    unit = check_unit(unit)
    units = [u for u in load_units(project, unit) if not u.labels and len(u.text.split()) >= 4]
    codings = {}
    for r in project.query("SELECT document_id, start, \"end\" FROM codings"):
        codings.setdefault(r["document_id"], []).append((r["start"], r["end"]))
    units = [u for u in units if not any(s < u.end and e > u.start for s, e in codings.get(u.doc_id, ()))]
    if len(units) < MIN_UNITS:
        return []
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    texts = [re.sub(_NOTES, " ", u.text) for u in units]
    english = all(u.lang == "en" for u in units)
    vec = TfidfVectorizer(stop_words=sorted(ENGLISH_STOP_WORDS | set(FILLERS)) if english else None,
                          max_df=0.5, min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    try:
        X = vec.fit_transform(texts)
    except ValueError:        # nothing left after pruning rare and common words
        return []
    k = max(1, min(topics, X.shape[0] // 5, X.shape[1] - 1))
    nmf = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=400)
    W = nmf.fit_transform(X)
    terms = np.array(vec.get_feature_names_out())
    profiles = code_profiles(project)
    P = vec.transform([profile_text(p) for p in profiles]) if profiles else None
    out = []
    for t in range(k):
        top_terms = terms[np.argsort(-nmf.components_[t])[:10]].tolist()
        members = np.where(W.argmax(1) == t)[0]
        best = members[np.argsort(-W[members, t])][:EXAMPLES]
        topic = {"terms": top_terms, "units": int(len(members)), "weight": round(float(W[:, t].sum()), 3),
                 "examples": [{"document": units[i].doc, "start": units[i].start, "end": units[i].end,
                               "text": units[i].text} for i in best]}
        if P is not None and P.shape[0]:
            comp = nmf.components_[t] / (np.linalg.norm(nmf.components_[t]) or 1.0)
            sims = np.asarray(P @ comp).ravel() / np.maximum(np.sqrt(np.asarray(P.multiply(P).sum(1)).ravel()), 1e-9)
            j = int(np.argmax(sims))
            topic["nearest_code"] = profiles[j]["path"]
            topic["nearest_similarity"] = round(float(sims[j]), 3)
        out.append(topic)
    out.sort(key=lambda t: -t["weight"])
    return [t for t in out if t["units"] > 0]
