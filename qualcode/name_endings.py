"""The endings Azerbaijani, Turkish and Russian add to a name (`Aytanın`, `Leylaya`, `Айтаной`),
so that a known name is also found inflected, and its pseudonym gets the same ending.

Only an explicit list of endings counts, never "any letters": `Alim`, `Alice` and `Aliyev` are
other words, not forms of `Ali`. Azerbaijani/Turkish endings must also agree with the name's last
vowel (vowel harmony) and with whether it ends in a vowel (`Aytana`, `Leylaya`), which keeps
`Alida` or `Aliya` from counting as forms of `Ali`. Endings typed without Azerbaijani letters
(`Aytanin`, `Elvine`) and Turkish spellings (`Mehmet'ten`) count too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_VOWELS = "aıoueəiöü"
_BACK = "aıou"
_FOUR = {"a": "ı", "ı": "ı", "o": "u", "u": "u", "e": "i", "ə": "i", "i": "i", "ö": "ü", "ü": "ü"}
_VOICELESS = "pçtkfhsş"
# (after a consonant, after a vowel); A is a/ə, I is ı/i/u/ü by the last vowel
_CASES = {"gen": ("In", "nIn"), "acc": ("I", "nI"), "dat": ("A", "yA"), "loc": ("dA", "dA"),
          "abl": ("dAn", "dAn"), "ins": ("lA", "ylA"), "ins_spoken": ("nAn", "ynAn"), "cop": ("dIr", "dIr")}
# plural (`Aytanlar`) and `-gil`, "X's family" (`Aytangilə getdik`), each alone or before a case
_BEFORE = ("", "lAr", "gil")
_STYLES = {"az": str.maketrans("", ""), "tr": str.maketrans("ə", "e"),
           "ascii": str.maketrans("əıöüğşç", "eiougsc")}
APOSTROPHES = "'’"

# Russian: the name's last letter that gives way to the ending, and the endings (cases, and the
# possessive `Лейлин`). Names in о, е, и, у, э, ю do not decline.
_RU = {"а": "ы и е у ой ою ин ина ину иной ины ино иных",
       "я": "и е ю ей ею ин ина ину иной ины",
       "ь": "я ю ем е и ей ью",
       "й": "я ю ем е",
       "": "а у ом ем е ы и ой ою"}
# surnames in -ов/-ев/-ин (Рашидов, Алиева) also take -ым/-ых; only those: `Левым` is not `Лев`
_RU_SURNAME = ("ов", "ев", "ёв", "ин", "ын")


@dataclass(frozen=True)
class Ending:
    text: str                      # as written after the stem, apostrophe included
    lang: str                      # "az" (also Turkish) or "ru"
    form: tuple[str, str, str] = ("", "", "")   # az: (plural/gil, case, spelling style)

    @property
    def apostrophe(self) -> str:
        return self.text[:1] if self.text[:1] in APOSTROPHES else ""

    @property
    def letters(self) -> str:
        return self.text[len(self.apostrophe):]


def is_cyrillic(word: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in word)


def az_lower(word: str) -> str:
    return word.replace("İ", "i").replace("I", "ı").lower()


def az_upper(word: str) -> str:
    return word.replace("i", "İ").replace("ı", "I").upper()


def _last_vowel(word: str) -> str | None:
    for ch in reversed(word):
        ch = ch if ch in _VOWELS else unicodedata.normalize("NFD", ch)[:1]   # é, â → e, a
        if ch in _VOWELS:
            return ch
    return None


def _fill(template: str, vowel: str) -> str:
    return template.replace("A", "a" if vowel in _BACK else "ə").replace("I", _FOUR[vowel])


def az_ending(stem: str, before: str, case: str, style: str = "az") -> str:
    """The ending for a (lower-case) stem: az_ending('leyla', '', 'gen') == 'nın'."""
    vowel = _last_vowel(stem) or "e"
    out, final = "", stem[-1:]
    if before:
        out = _fill(before, vowel)
        vowel, final = _last_vowel(out), out[-1]
    if case:
        after_consonant, after_vowel = _CASES[case]
        out += _fill(after_vowel if final in _VOWELS else after_consonant, vowel)
    return out.translate(_STYLES[style])


def az_endings(word: str, base: str | None = None) -> dict[str, Ending]:
    """Every ending a Latin-script name can take, by how it is written; {} for a word without
    vowels (an acronym). An UPPER-CASE word takes UPPER-CASE endings, in the harmony of `base`,
    its spelling in lower case (`ALI` is `ali`, not `alı`)."""
    upper = word.isupper() and len(word) > 1
    stem = (base or (az_lower(word) if "İ" in word else word.lower())) if upper else word.lower()
    if _last_vowel(stem) is None:
        return {}
    voiceless = stem[-1] in _VOICELESS
    out: dict[str, Ending] = {}
    for style in _STYLES:              # native spelling first: it names the form
        for before in _BEFORE:
            for case in ("", *_CASES):
                if not before and not case:
                    continue
                text = az_ending(stem, before, case, style)
                spellings = [text]
                if voiceless and not before and text[:1] == "d":   # Turkish: Mehmet'te, Mehmet'ten
                    spellings.append("t" + text[1:])
                for s in spellings:
                    s = (az_upper(s) if style == "az" else s.upper()) if upper else s
                    out.setdefault(s, Ending(s, "az", (before, case, style)))
    return out


def ru_endings(word: str) -> tuple[str, dict[str, Ending]]:
    """(the stem endings attach to, {ending: Ending}) for a Cyrillic name; ('', {}) when it does
    not decline."""
    last = word[-1:].lower()
    if last in "оеиуэюыё" or not word[-1:].isalpha():
        return "", {}
    key = last if last in _RU else ""
    stem = word[:-1] if key else word
    endings = _RU[key].split()
    if key in ("", "а") and len(stem) >= 5 and stem.lower().endswith(_RU_SURNAME):
        endings += ["ым", "ых"]
    upper = word.isupper() and len(word) > 1
    return stem, {(e.upper() if upper else e): Ending(e.upper() if upper else e, "ru") for e in endings}


def with_apostrophe(ending: Ending, apostrophe: str) -> Ending:
    return Ending(apostrophe + ending.text, ending.lang, ending.form)


def inflect(pseudonym: str, ending: Ending, upper: bool = False) -> str:
    """The pseudonym with the ending the name had (all in upper case when the name was).
    Azerbaijani/Turkish endings are made again for a pseudonym that ends in a word (`Aytanın` →
    `Leylanın`, `Aytana` → `Leylaya`); after a number or a single letter the ending is kept as
    written, after an apostrophe (`Participant 1'ın`). Russian endings are kept as written; a
    Cyrillic pseudonym's last а/я/ь/й gives way to them (`Лейлой` → `Сабиной`); after anything
    else a hyphen joins them (`Participant 1-ой`)."""
    shown = pseudonym.upper() if upper else pseudonym
    if ending.lang == "ru":
        if pseudonym[-1:].isalpha() and is_cyrillic(pseudonym[-1]):
            return (shown[:-1] if pseudonym[-1].lower() in "аяьй" else shown) + ending.letters
        return shown + (ending.apostrophe or "-") + ending.letters
    words = pseudonym.split()
    last = words[-1] if words else ""
    if len(last) >= 2 and last.isalpha() and not is_cyrillic(last) and _last_vowel(last.lower()):
        before, case, style = ending.form
        text = az_ending(last.lower() if not last.isupper() else az_lower(last), before, case, style)
        return shown + ending.apostrophe + ((az_upper(text) if style == "az" else text.upper()) if upper else text)
    return shown + (ending.apostrophe or "'") + ending.letters
