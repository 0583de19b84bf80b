"""Speaker turns from the layouts transcribers use.

Recognised at the start of a line, optionally after a timestamp (`[00:12:31]` or `00:12:31`):
`Interviewer:`, `Respondent:`, `Moderator:`, `P3:`, `P3 (female, 52):`, `Speaker 1:`, `Q:`/`A:`,
a name in capitals (`AYTAN:`), and any label the front matter's speaker legend names.
A text without any of these is one turn by one speaker. When the only labels (two or more) are the asker's
(`MODERATOR:`, `Interviewer:`, `Q:` …), as in think-aloud sessions and interviews where only the
questions are marked, a labelled turn ends with its line: the unlabelled lines between are the
respondent's, not more of the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from qualcode.text import trim_span as _trim

_ROLE_WORDS = (r"Interviewer|Interviewee|Respondent|Moderator|Facilitator|Researcher|Participant|Speaker|"
               r"Voice|Unknown|Translator|Note[- ]?taker|Assistant|Observer|Mod|Int|Resp|"
               # Russian and Azerbaijani transcribers' labels
               r"Интервьюер|Респондент|Модератор|Ведущий|Ведущая|Участник|Участница|Спикер|Вопрос|Ответ|"
               r"Müsahibəçi|Müsahib|Aparıcı|Moderator|İştirakçı|Respondent|Sual|Cavab")
_CAPS = "A-ZÀ-ÖØ-ÞĀ-ſƏİĞŞÇÖÜА-ЯЁ"
_GENERIC = (rf"(?:(?:{_ROLE_WORDS})(?:\s*\d{{1,3}}|\s+[A-Z])?|[PRIM]\d{{1,3}}|Q|A|I|R"
            rf"|[{_CAPS}][{_CAPS}'’.\-]+(?: [{_CAPS}][{_CAPS}'’.\-]+){{0,2}})")
_TS = r"(?P<ts>\[?\(?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?\)?\]?)"

_GENDER = {"female": "female", "f": "female", "woman": "female", "w": "female", "qadın": "female",
           "male": "male", "m": "male", "man": "male", "kişi": "male"}


@dataclass
class Turn:
    start: int            # start of the line (timestamp and label included)
    text_start: int       # first character of what was said
    end: int              # after the last non-space character
    label: str | None     # None: text before the first label, or a text without turns
    timestamp: str | None = None
    details: dict[str, str] = field(default_factory=dict)


# labels of the person asking (interviewer, moderator), in the languages _ROLE_WORDS covers
_ASKER = re.compile(r"^(?:interviewer|moderator|mod|int|facilitator|researcher|q|i|интервьюер|модератор|ведущий|"
                    r"ведущая|вопрос|müsahibəçi|aparıcı|sual)(?:\s*\d{1,3})?$", re.I)


def _pattern(known: list[str]) -> re.Pattern:
    known_alt = "|".join(re.escape(k) for k in sorted(known, key=len, reverse=True) if k)
    label = f"(?:{known_alt})|{_GENERIC}" if known_alt else _GENERIC
    return re.compile(rf"^[ \t]*(?:{_TS}[ \t]+)?(?P<label>{label})(?:[ \t]*\((?P<details>[^)\n]{{1,80}})\))?[ \t]*:[ \t]*",
                      re.M)


def find_turns(text: str, known_labels: list[str] | None = None) -> list[Turn]:
    pattern = _pattern(known_labels or [])
    hits = [m for m in pattern.finditer(text) if _plausible(m, text)]
    turns: list[Turn] = []
    if not hits:
        start, end = _trim(text, 0, len(text))
        return [Turn(start, start, end, None)] if end > start else []
    first = hits[0].start()
    pre_start, pre_end = _trim(text, 0, first)
    if pre_end > pre_start:
        turns.append(Turn(pre_start, pre_start, pre_end, None))
    askers_only = len(hits) > 1 and all(_ASKER.match(m.group("label").strip()) for m in hits)
    for i, m in enumerate(hits):
        nxt = hits[i + 1].start() if i + 1 < len(hits) else len(text)
        # the question's line: from the first character said (the label may stand on a line of its own)
        said = m.end() + len(text[m.end():nxt]) - len(text[m.end():nxt].lstrip())
        line_end = text.find("\n", said)
        split = askers_only and 0 <= line_end < nxt and text[line_end:nxt].strip()
        _, end = _trim(text, m.end(), line_end if split else nxt)
        turns.append(Turn(m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), m.end(), max(end, m.end()),
                          m.group("label").strip(), m.group("ts"), _details(m.group("details"))))
        if split:                      # the respondent's lines up to the next question
            rest_start, rest_end = _trim(text, line_end, nxt)
            turns.append(Turn(rest_start, rest_start, rest_end, None))
    return turns


def _plausible(m: re.Match, text: str) -> bool:
    """A label must be followed by speech on the same line (or the next), not be a URL/time."""
    rest = text[m.end():m.end() + 1]
    label = m.group("label")
    if rest.startswith("/"):
        return False
    return not label.isdigit()


def _details(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    out: dict[str, str] = {}
    rest = []
    for part in re.split(r"[,;/]", raw):
        part = part.strip()
        low = part.lower()
        if low in _GENDER:
            out["gender"] = _GENDER[low]
        elif re.fullmatch(r"\d{1,3}", part) and 5 <= int(part) <= 110:
            out["age"] = part
        elif part:
            rest.append(part)
    if rest:
        out["details"] = ", ".join(rest)
    return out


def resolve_label(label: str, legend: dict[str, dict]) -> str:
    """The legend's spelling of a label when it names the same speaker (case-insensitive)."""
    if label in legend:
        return label
    low = label.lower()
    for key in legend:
        if key.lower() == low:
            return key
    return label
