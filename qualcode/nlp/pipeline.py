"""spaCy pipelines per language, built from what is installed, never downloaded.

A trained pipeline is used when one is installed (and QUALCODE_TRAINED_PIPELINES is not 0);
otherwise a blank pipeline for the language with a rule-based sentencizer, plus the lookup
lemmatizer where spacy-lookups-data has tables for the language.
"""

from __future__ import annotations

import os
from functools import lru_cache

# languages spaCy has a blank Language class for that we route to; anything else → multilingual
_FALLBACK = "xx"
_TRAINED = {"en": ["en_core_web_sm", "en_core_web_md"], "ru": ["ru_core_news_sm"]}


def language_code(lang: str | None) -> str:
    lang = (lang or "en").strip().lower().replace("_", "-").split("-")[0]
    return lang or "en"


@lru_cache(maxsize=16)
def sentencizer(lang: str):
    """The lightest pipeline that splits sentences: blank language + sentencizer."""
    import spacy

    try:
        nlp = spacy.blank(language_code(lang))
    except (ImportError, KeyError, ValueError):  # spaCy has no such language
        nlp = spacy.blank(_FALLBACK)
    nlp.add_pipe("sentencizer")
    return nlp


@lru_cache(maxsize=16)
def analyser(lang: str):
    """Tokens with lemmas where possible: trained pipeline if installed, else blank + lookups."""
    import spacy

    code = language_code(lang)
    if os.environ.get("QUALCODE_TRAINED_PIPELINES", "1") != "0":
        for name in _TRAINED.get(code, []):
            try:
                return spacy.load(name, exclude=["parser", "ner"])
            except (OSError, ImportError):
                continue
    try:
        nlp = spacy.blank(code)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank(_FALLBACK)
    nlp.add_pipe("sentencizer")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception:  # no lookup tables for this language: lowercase forms stand in for lemmas
        if "lemmatizer" in nlp.pipe_names:
            nlp.remove_pipe("lemmatizer")
    return nlp


_OPENERS = "([{«“‘„"


def split_sentences(lang: str, pieces: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """Sentence spans (absolute offsets) for text pieces given as (offset, text).

    spaCy's sentencizer glues punctuation after a full stop to the sentence before, so an
    opening bracket or quote ("… quiet. [laughs] Yes") is handed on to the next sentence.
    """
    nlp = sentencizer(lang)
    spans: list[tuple[int, int]] = []
    for (offset, text), doc in zip(pieces, nlp.pipe((t for _, t in pieces), batch_size=512)):
        carry = None
        for sent in doc.sents:
            s, e = sent.start_char, sent.end_char
            if carry is not None:
                s, carry = carry, None
            while s < e and text[s].isspace():
                s += 1
            while e > s and (text[e - 1].isspace() or text[e - 1] in _OPENERS):
                if text[e - 1] in _OPENERS:
                    carry = e - 1
                e -= 1
            if carry is not None and carry < s:
                carry = None
            if e > s:
                spans.append((offset + s, offset + e))
        if carry is not None:  # an opener at the very end stays with the last sentence
            if spans and spans[-1][0] >= offset:
                spans[-1] = (spans[-1][0], offset + len(text.rstrip()))
    return spans
