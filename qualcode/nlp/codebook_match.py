"""What the codebook alone says about a passage: keyword and lemma matches, and code profiles.

Keywords (and each code's name) are matched with spaCy's PhraseMatcher on the lower-case form
and on the lemma, using each document's own language pipeline. Codebooks often list Russian
terms transliterated into Latin script, so Cyrillic tokens are matched through a
transliteration as well. Matches are cached per document text and codebook version, because
documents never change after import and tokenising a whole corpus is the slow part.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from collections import defaultdict
from pathlib import Path

from qualcode.store.project import Project

_CYR = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                 "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))
_loaded: dict = {}   # the keyword cache file last read, by (path, mtime)
_PREFIX = re.compile(r"^\[[A-Z]{2,4}\]\s*")   # "[KII] ..." marks the source type of an example


_TRANSLIT = str.maketrans(_CYR)


def translit(word: str) -> str:
    """Lower case, Cyrillic spelled in Latin letters (the codebook's transliteration of Russian)."""
    return word.lower().translate(_TRANSLIT)


def code_profiles(project: Project) -> list[dict]:
    """Every code with the text that defines it: name, description, when to use, examples, keywords."""
    out = []
    for r in project.query("SELECT id, path, name, description, when_to_use, examples, keywords FROM codes "
                           "ORDER BY path"):
        examples = [_PREFIX.sub("", e) for e in json.loads(r["examples"] or "[]") if isinstance(e, str)]
        keywords = [k for k in json.loads(r["keywords"] or "[]") if isinstance(k, str) and k.strip()]
        out.append({"id": r["id"], "path": r["path"], "name": r["name"],
                    "definition": " ".join(x for x in (r["name"], r["description"], r["when_to_use"]) if x),
                    "examples": examples, "keywords": keywords})
    return out


def codebook_version(profiles: list[dict]) -> str:
    raw = json.dumps([(p["id"], p["name"], p["keywords"]) for p in profiles], ensure_ascii=False)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def _normalise(doc) -> None:
    """Lower-case, transliterated forms in NORM and LEMMA, so both matchers compare like with like."""
    for tok in doc:
        low = tok.text.lower()
        tok.norm_ = translit(low)
        lemma = tok.lemma_.lower() if tok.lemma_ else low
        tok.lemma_ = translit(lemma)


class KeywordMatcher:
    """Phrase matchers per language for the codebook's keywords and code names."""

    def __init__(self, profiles: list[dict]):
        self.profiles = profiles
        self._by_lang: dict[str, tuple] = {}

    def _matchers(self, lang: str):
        if lang not in self._by_lang:
            from spacy.matcher import PhraseMatcher

            from qualcode.nlp.pipeline import analyser

            nlp = analyser(lang)
            by_norm = PhraseMatcher(nlp.vocab, attr="NORM")
            by_lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
            for i, p in enumerate(self.profiles):
                terms = sorted({t.strip() for t in [p["name"], *p["keywords"]] if t.strip()})
                docs = list(nlp.pipe(terms))
                for d in docs:
                    _normalise(d)
                if docs:
                    by_norm.add(str(i), docs)
                    by_lemma.add(str(i), docs)
            self._by_lang[lang] = (nlp, by_norm, by_lemma)
        return self._by_lang[lang]

    def match(self, text: str, lang: str) -> list[tuple[int, int, int, str]]:
        """(start char, end char, profile index, matched text) for every keyword found."""
        nlp, by_norm, by_lemma = self._matchers(lang)
        found = {}
        for doc in nlp.pipe([text]):
            _normalise(doc)
            for matcher in (by_norm, by_lemma):
                for key, s, e in matcher(doc):
                    span = doc[s:e]
                    idx = int(nlp.vocab.strings[key])
                    found[(span.start_char, span.end_char, idx)] = span.text
        return sorted((s, e, i, t) for (s, e, i), t in found.items())


def document_matches(project: Project, profiles: list[dict], doc_ids: list[str] | None = None,
                     cache_dir: Path | None = None) -> dict[str, list[tuple[int, int, int, str]]]:
    """Keyword matches per document id, from the cache where the text and codebook are unchanged."""
    version = codebook_version(profiles)
    cache_file = cache_dir / f"keywords-{version}.pickle" if cache_dir else None
    cache: dict = {}
    from qualcode.nlp.cache import private_dir, trusted_file

    if cache_file and cache_file.exists() and trusted_file(cache_file):
        stamp = (str(cache_file), cache_file.stat().st_mtime_ns)
        cache = _loaded.get(stamp)
        if cache is None:
            try:
                cache = pickle.loads(cache_file.read_bytes())
            except Exception:   # a damaged cache is rebuilt, never trusted
                cache = {}
            _loaded.clear()
            _loaded[stamp] = cache
    sql = "SELECT id, sha256, language, text FROM documents"
    rows = project.query(sql)
    if doc_ids is not None:
        wanted = set(doc_ids)
        rows = [r for r in rows if r["id"] in wanted]
    matcher = None
    out: dict[str, list] = {}
    dirty = False
    for r in rows:
        key = (r["sha256"], r["language"])
        if key not in cache:
            matcher = matcher or KeywordMatcher(profiles)
            cache[key] = matcher.match(r["text"], r["language"] or "en")
            dirty = True
        out[r["id"]] = cache[key]
    if dirty and cache_file:
        import os

        try:
            private_dir(cache_file.parent)
            tmp = cache_file.with_suffix(".tmp")
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
                fh.write(pickle.dumps(cache))
            tmp.replace(cache_file)
        except OSError:   # a read-only folder only costs matching again next time
            pass
    return out


def unit_matches(units, matches: dict[str, list], n_codes: int):
    """Per unit: a sparse count matrix (units × codes) and the matched terms per (unit, code)."""
    import bisect

    from scipy import sparse

    rows, cols, terms = [], [], defaultdict(list)
    by_doc = defaultdict(list)
    for i, u in enumerate(units):
        by_doc[u.doc_id].append(i)
    for doc_id, idxs in by_doc.items():
        found = matches.get(doc_id) or []
        starts = [f[0] for f in found]
        for i in idxs:
            u = units[i]
            lo = bisect.bisect_left(starts, u.start)
            for s, e, code, term in found[lo:]:
                if s >= u.end:
                    break
                if e <= u.end:
                    rows.append(i)
                    cols.append(code)
                    if term.lower() not in (t.lower() for t in terms[(i, code)]):
                        terms[(i, code)].append(term)
    data = [1.0] * len(rows)
    m = sparse.csr_matrix((data, (rows, cols)), shape=(len(units), n_codes))
    return m, terms
