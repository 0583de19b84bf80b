"""Words of coded text: tokens, TF-IDF vectors for picking representative quotes, and class-based
TF-IDF (c-TF-IDF, as in BERTopic) for the terms that set one theme apart from the others.

c-TF-IDF treats all text of a class (theme) as one document: W(t, c) = tf(t, c) / |c| ·
log(1 + A / f(t)), where f(t) is the term's frequency over all classes and A the average
number of words per class. A term frequent in one theme and rare in the rest scores high.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))+", re.UNICODE)
BRACKETED = re.compile(r"\[[^\]\n]{0,40}\]")  # [laughs], [pause], [inaudible]
# talk fillers and transcript words that say nothing about a theme
EXTRA_STOP = {"yes", "yeah", "okay", "ok", "well", "like", "know", "think", "mean", "just", "really", "thing",
              "things", "say", "said", "says", "tell", "told", "maybe", "also", "lot", "lots", "right", "good",
              "sure", "want", "come", "go", "goes", "went", "get", "got", "let", "see", "one", "two", "people",
              "moderator", "interviewer", "respondent", "participant", "laughs", "pause", "inaudible", "uh", "um",
              "hmm", "mm", "xala", "bala", "don't", "doesn't", "it's", "that's", "i'm", "there's", "can't", "didn't",
              "he's", "she's", "they're", "we're", "you're", "isn't", "won't", "i've", "we've", "they've"}


@lru_cache(maxsize=8)
def stop_words(languages: tuple[str, ...] = ("en",)) -> frozenset[str]:
    words = set(EXTRA_STOP)
    for lang in languages:
        words |= _spacy_stop_words(lang)
    return frozenset(words)


def _spacy_stop_words(lang: str) -> set[str]:
    """spaCy's stop-word list for a language, read from its data file without importing spaCy
    (importing spaCy costs a second or more; the lists are plain Python sets)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        return set()
    path = Path(list(spec.submodule_search_locations)[0]) / "lang" / lang.split("-")[0].lower() / "stop_words.py"
    if not path.is_file():
        return set()
    namespace: dict = {}
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    except Exception:  # a list that needs spaCy itself: go without
        return set()
    return set(namespace.get("STOP_WORDS", set()))


def tokens(text: str, stop: frozenset[str]) -> list[str]:
    text = BRACKETED.sub(" ", text)
    return [w for w in (m.group(0).lower().replace("’", "'") for m in WORD.finditer(text))
            if len(w) > 2 and w not in stop]


def span_tokens(text: str, start: int, end: int, stop: frozenset[str]) -> list[str]:
    """Tokens of text[start:end], leaving out words the span cuts in half at either edge."""
    if start > 0 and text[start - 1].isalpha() and text[start:start + 1].isalpha():
        while start < end and text[start].isalpha():
            start += 1
    if end < len(text) and text[end:end + 1].isalpha() and text[end - 1].isalpha():
        while end > start and text[end - 1].isalpha():
            end -= 1
    return tokens(text[start:end], stop)


def class_tfidf(classes: dict[str, Counter], min_count: int = 2,
                min_lift: float = 1.2) -> dict[str, list[tuple[str, float, int]]]:
    """For each class, its terms by c-TF-IDF weight: [(term, weight, count in class)], best first.

    Only terms relatively more frequent in the class than in all other classes together (lift
    ≥ min_lift) are kept: in a small corpus c-TF-IDF alone still ranks everyday words high.
    """
    total = Counter()
    for counts in classes.values():
        total.update(counts)
    if not classes:
        return {}
    all_words = sum(total.values())
    avg_words = all_words / len(classes)
    out = {}
    for name, counts in classes.items():
        size = sum(counts.values()) or 1
        rest = max(all_words - size, 0)
        scored = []
        for t, n in counts.items():
            if n < min_count:
                continue
            lift = (n / size) / ((total[t] - n + 1) / (rest + 1))
            if lift >= min_lift:
                scored.append((t, (n / size) * math.log(1 + avg_words / total[t]), n))
        out[name] = sorted(scored, key=lambda x: (-x[1], x[0]))
    return out


class Vectors:
    """Sparse TF-IDF vectors (dicts), L2-normalised, over a fixed collection of texts."""

    def __init__(self, token_lists: list[list[str]]):
        df = Counter()
        for toks in token_lists:
            df.update(set(toks))
        n = len(token_lists) or 1
        self.idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}

    def vector(self, toks: list[str]) -> dict[str, float]:
        tf = Counter(toks)
        vec = {t: (1 + math.log(c)) * self.idf.get(t, 1.0) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    @staticmethod
    def centroid(vectors: list[dict[str, float]]) -> dict[str, float]:
        acc: Counter = Counter()
        for v in vectors:
            acc.update(v)
        norm = math.sqrt(sum(x * x for x in acc.values())) or 1.0
        return {t: x / norm for t, x in acc.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def find_term(text: str, term: str) -> list[tuple[int, int]]:
    """Where a (lower-cased) term occurs as a whole word in text."""
    pattern = re.compile(r"(?<![^\W\d_])" + re.escape(term).replace("'", "['’]") + r"(?![^\W\d_])", re.IGNORECASE)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]
