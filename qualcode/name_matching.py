"""Finding known names in a text: every spelling as a whole word, and inflected
(`Aytanın`, `Aytan'ın`, `Айтаной`, with the endings of qualcode.name_endings).

A hit covers the whole word, ending included, and replacement() gives the pseudonym with the
same ending, so the edit map in anonymize.py shifts everything after it by the true difference.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from qualcode.name_endings import (APOSTROPHES, Ending, az_endings, az_lower, az_upper, inflect, is_cyrillic,
                                   ru_endings, with_apostrophe)

# word characters are letters and digits, not "_": file names like Interview_Aytan name people too
WORDCHAR = re.compile(r"[^\W_]")
TOKEN = re.compile(r"[^\W_]+")
_MIN_INFLECTED = 3    # letters in a name before endings count: `Ay` + `da` is a word of its own


class Hit(NamedTuple):
    start: int
    end: int                     # the end of the whole word, ending included
    entity: object
    stem_end: int                # where the name (as written, or its Russian stem) stops
    ending: Ending | None = None


class Matcher:
    """Whole-word occurrences of many names in one pass (a dict by first word, not a huge regex).
    `excluded` (casefolded words) are never taken for an inflected name (`!Nura` keeps `Nura`
    when `Nur` is a name)."""

    def __init__(self, entities: list, excluded=(), plain_endings: bool = True):
        self.excluded = {w.casefold() for w in excluded}
        # Azerbaijani/Turkish endings spelled in plain Latin letters (-a, -in, -da) make other words
        # of names in other languages (Ann → Anna, Ben → Benin): only where the project has such text
        self.plain_endings = plain_endings
        # first word -> [(form, entity, the stem endings attach to, {ending: Ending})], longest first
        self.by_first: dict[str, list[tuple[str, object, str, dict]]] = {}
        # one-word names: stem -> [(form, entity, endings)], for words like `Aytanın`
        self.stems: dict[str, list[tuple[str, object, dict]]] = {}
        for ent in entities:
            for form in sorted(ent.forms):    # sorted: the same hits on every run
                m = TOKEN.match(form)
                if not m:
                    continue
                stem, endings = _endings(form, ent.forms)
                self.by_first.setdefault(m.group(), []).append((form, ent, stem, endings))
                if endings and m.end() == len(form):
                    self.stems.setdefault(stem, []).append((form, ent, endings))
        for forms in self.by_first.values():
            forms.sort(key=lambda fe: -len(fe[0]))
        self.heads = {s[:2] for s in self.stems}
        self.longest = max((len(e) for forms in self.stems.values() for _, _, ends in forms for e in ends), default=0)

    def finditer(self, text: str):
        pos, by_first, heads = 0, self.by_first, self.heads
        for m in TOKEN.finditer(text):
            word = m.group()
            if m.start() < pos or (word not in by_first and word[:2] not in heads):   # most words: one look
                continue
            hit = self._at(text, m)
            if hit:
                yield hit
                pos = hit.end

    def _at(self, text: str, m) -> Hit | None:
        s, word = m.start(), m.group()
        for form, ent, stem, endings in self.by_first.get(word, ()):
            end = s + len(form)
            if text.startswith(form, s) and not WORDCHAR.match(text, end):
                if end < len(text) and text[end] in APOSTROPHES:    # Aytan'ın, Ali'nin
                    after = TOKEN.match(text, end + 1)
                    if after and after.group() in endings:
                        return Hit(s, after.end(), ent, end, with_apostrophe(endings[after.group()], text[end]))
                return Hit(s, end, ent, end)
            if endings and len(form) > len(word) and text.startswith(stem, s):   # Aytan Mammadovanın
                rest = TOKEN.match(text, s + len(stem))
                if rest and rest.group() in endings and self._allowed(text, s, rest.end(), endings[rest.group()]):
                    return Hit(s, rest.end(), ent, s + len(stem), endings[rest.group()])
        if word[:2] in self.heads:
            for k in range(1, min(self.longest, len(word) - 1) + 1):
                for form, ent, endings in self.stems.get(word[:-k], ()):
                    ending = endings.get(word[-k:])
                    if ending and self._allowed(text, s, m.end(), ending):
                        return Hit(s, m.end(), ent, m.end() - k, ending)
        return None

    def _allowed(self, text: str, start: int, end: int, ending) -> bool:
        if not self.plain_endings and ending.lang == "az" and ending.text.isascii():
            return False
        word = text[start:end]
        return word.split()[-1].casefold() not in self.excluded

    def replacement(self, text: str, hit: Hit) -> str:
        """What the hit's words become: the pseudonym, with the name's ending if it had one."""
        name = text[hit.start:hit.stem_end]
        if hit.ending is None:
            return cased(hit.entity.pseudonym, name)
        return inflect(hit.entity.pseudonym, hit.ending, _upper(name))

    def sub(self, text: str | None) -> str | None:
        if not text:
            return text
        out, last = [], 0
        for hit in self.finditer(text):
            out += [text[last:hit.start], self.replacement(text, hit)]
            last = hit.end
        return "".join(out) + text[last:] if out else text


def _endings(form: str, forms) -> tuple[str, dict[str, Ending]]:
    """(what endings attach to, {ending: Ending}) for a form's last word; ('', {}) if none."""
    last = list(TOKEN.finditer(form))[-1]
    word = last.group()
    if last.end() != len(form) or not word.isalpha() or len(word) < _MIN_INFLECTED:
        return "", {}
    if is_cyrillic(word):
        stem, endings = ru_endings(word)
        return (form[:last.start()] + stem, endings) if stem else ("", {})
    base = None
    if _upper(word):   # harmony from the same name in lower case: ALI is Ali, AYDIN is Aydın
        lower = (f.split()[-1] for f in forms if not _upper(f))
        base = next((az_lower(w) if "İ" in w else w.lower() for w in lower if word in (w.upper(), az_upper(w))), None)
    return form, az_endings(word, base)


def _upper(word: str) -> bool:
    return word.isupper() and len(word) > 1


def cased(pseudonym: str, original: str) -> str:
    return pseudonym.upper() if _upper(original) else pseudonym


def variants(name: str) -> set[str]:
    """The spellings matched for a name: as written, capitalised, upper case (also the
    Azerbaijani/Turkish upper case, where i → İ)."""
    name = " ".join(name.split()).strip(" '\"’.,;:!?()[]{}")
    if not name or not WORDCHAR.match(name):
        return set()
    capital = " ".join(w[:1].upper() + w[1:] for w in name.split())
    title = name.title() if name.isupper() else capital
    return {name, capital, title, name.upper(), name.replace("i", "İ").replace("ı", "I").upper()}
