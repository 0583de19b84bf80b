"""The units the suggester reads and scores (sentence, paragraph or turn), with what surrounds them.

A unit carries its own text plus the context a coder sees: the neighbouring units, its turn,
who speaks (and whether the speaker label opens the unit), where in the document it lies, and
the prompt it answers — the latest interviewer question or, in a structured protocol, the
latest line that recurs across transcripts (a task or guide question read out in every session).
Labels come from codings: a unit carries a code when a coding of it covers at least half of the
unit or at least half of the coding lies inside the unit.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field

from qualcode.errors import QualcodeError
from qualcode.store.project import Project

UNITS = ("sentence", "paragraph", "turn")
_ASKER_ROLES = {"moderator", "interviewer", "facilitator", "researcher", "co-moderator", "assistant moderator"}
_ASKER_LABEL = re.compile(r"^(interviewer|moderator|facilitator|researcher|int|mod|i|q)\b", re.I)
_NORM = re.compile(r"\W+")
CONTEXT_CHARS = 400
PROTOCOL_LINES = 3           # a document with this many recurring lines follows a protocol          # how much of a neighbour or a turn counts as context


@dataclass(slots=True)
class Unit:
    doc_id: str
    doc: str
    lang: str
    start: int
    end: int
    text: str
    pos: float = 0.0           # relative position in the document, 0..1
    role: str = "none"         # asker (interviewer/moderator), respondent role, or none
    first: bool = False        # the unit starts right after a speaker label
    prev: str = ""
    next: str = ""
    turn: str = ""
    prompt: str = ""
    prompt_key: str = ""       # identity of the latest prompt, for "answers the same question"
    labels: set = field(default_factory=set)
    idx: int = 0               # position among the document's units
    turn_id: str | None = None


def check_unit(unit: str) -> str:
    unit = (unit or "sentence").strip().lower().rstrip("s")
    if unit not in UNITS:
        raise QualcodeError(f"unknown unit {unit!r}; suggestions work on {', '.join(UNITS)}")
    return unit


def _norm(text: str) -> str:
    return _NORM.sub(" ", text.lower()).strip()


def _role(label: str | None, role: str | None) -> str:
    r = (role or "").strip().lower()
    if r in _ASKER_ROLES or (not r and label and _ASKER_LABEL.match(label)):
        return "asker"
    if r:
        return r
    return "speaker" if label else "none"


def _clip(text: str, tail: bool = False) -> str:
    if len(text) <= CONTEXT_CHARS:
        return text
    return text[-CONTEXT_CHARS:] if tail else text[:CONTEXT_CHARS]


def load_units(project: Project, unit: str = "sentence", documents: list[str] | None = None) -> list[Unit]:
    """Units of the project's documents (all of them, or those ids) in reading order, labelled."""
    unit = check_unit(unit)
    docs = project.query("SELECT id, name, language, text FROM documents ORDER BY position, name")
    if documents is not None:
        wanted = set(documents)
        docs = [d for d in docs if d["id"] in wanted]
    if not docs:
        return []
    ids = [d["id"] for d in docs]
    marks = ",".join("?" * len(ids))
    turns = defaultdict(list)
    for r in project.query(f"SELECT t.id, t.document_id, t.start, t.text_start, t.\"end\", s.label, s.role "
                           f"FROM turns t LEFT JOIN speakers s ON s.id = t.speaker_id "
                           f"WHERE t.document_id IN ({marks}) ORDER BY t.document_id, t.idx", ids):
        turns[r["document_id"]].append(r)
    paragraphs = defaultdict(list)
    for r in project.query(f"SELECT document_id, start, \"end\", turn_id FROM paragraphs "
                           f"WHERE document_id IN ({marks}) ORDER BY document_id, start", ids):
        paragraphs[r["document_id"]].append(r)
    spans = defaultdict(list)
    if unit == "turn":
        for doc_id, ts in turns.items():
            spans[doc_id] = [(t["text_start"], t["end"], t["id"]) for t in ts if t["end"] > t["text_start"]]
    else:
        table = "sentences" if unit == "sentence" else "paragraphs"
        for r in project.query(f"SELECT document_id, start, \"end\", turn_id FROM {table} "
                               f"WHERE document_id IN ({marks}) ORDER BY document_id, start", ids):
            spans[r["document_id"]].append((r["start"], r["end"], r["turn_id"]))
    recurring = _recurring_lines(project)
    codings = defaultdict(list)
    for r in project.query(f"SELECT document_id, code_id, start, \"end\" FROM codings WHERE document_id IN ({marks})",
                           ids):
        codings[r["document_id"]].append((r["start"], r["end"], r["code_id"]))
    out: list[Unit] = []
    for d in docs:
        out.extend(_document_units(d, spans[d["id"]], turns[d["id"]], paragraphs[d["id"]], recurring,
                                   codings[d["id"]]))
    return out


def _recurring_lines(project: Project) -> set[str]:
    """Paragraph texts found in three or more documents: a protocol's prompts read in every session."""
    seen = defaultdict(set)
    for r in project.query("SELECT p.document_id, substr(d.text, p.start + 1, p.\"end\" - p.start) AS t "
                           "FROM paragraphs p JOIN documents d ON d.id = p.document_id "
                           "WHERE p.\"end\" - p.start BETWEEN 4 AND 400"):
        key = _norm(r["t"])
        if key.count(" ") >= 1:
            seen[key].add(r["document_id"])
    return {k for k, v in seen.items() if len(v) >= 3}


def _document_units(d, spans, turns, paragraphs, recurring, codings) -> list[Unit]:
    text = d["text"]
    n = max(len(text), 1)
    turn_by_id = {t["id"]: t for t in turns}
    # prompts: recurring protocol lines and questions put by an interviewer or moderator
    # (a protocol's recurring lines when the document follows one, else the interviewer's questions)
    lines = [(p, text[p["start"]:p["end"]]) for p in paragraphs]
    keys = [_norm(t) for _, t in lines]
    protocol = sum(k in recurring for k in keys) >= PROTOCOL_LINES
    prompts: list[tuple[int, str, str]] = []
    for (p, ptext), key in zip(lines, keys):
        t = turn_by_id.get(p["turn_id"])
        asker = t is not None and _role(t["label"], t["role"]) == "asker"
        if (key in recurring) if protocol else (asker and "?" in ptext):
            prompts.append((p["start"], _clip(ptext, tail=True), key))
    prompt_starts = [s for s, _, _ in prompts]
    units = []
    for i, (s, e, turn_id) in enumerate(spans):
        t = turn_by_id.get(turn_id)
        k = bisect.bisect_left(prompt_starts, s)   # prompts that start before the unit
        recent = prompts[max(0, k - 2):k]
        u = Unit(d["id"], d["name"], d["language"] or "en", s, e, text[s:e], pos=s / n,
                 role=_role(t["label"], t["role"]) if t is not None else "none",
                 first=t is not None and t["label"] is not None and s == t["text_start"],
                 prompt=" ".join(p[1] for p in recent), prompt_key=recent[-1][2] if recent else "",
                 idx=i, turn_id=turn_id)
        if t is not None and (t["text_start"], t["end"]) != (s, e):
            u.turn = _clip(text[t["text_start"]:t["end"]])
        if i > 0:
            u.prev = _clip(text[spans[i - 1][0]:spans[i - 1][1]], tail=True)
        if i + 1 < len(spans):
            u.next = _clip(text[spans[i + 1][0]:spans[i + 1][1]])
        units.append(u)
    _label(units, codings)
    return units


def covers(us: int, ue: int, cs: int, ce: int) -> bool:
    """Does a coding [cs, ce) count for the unit [us, ue)? Half the unit, or half the coding."""
    ov = min(ue, ce) - max(us, cs)
    return ov > 0 and (2 * ov >= ue - us or 2 * ov >= ce - cs)


def _label(units: list[Unit], codings: list[tuple[int, int, str]]) -> None:
    if not codings:
        return
    codings = sorted(codings)
    starts = [c[0] for c in codings]
    longest = max(c[1] - c[0] for c in codings)
    for u in units:
        lo = bisect.bisect_left(starts, u.start - longest)
        hi = bisect.bisect_left(starts, u.end)
        for cs, ce, code in codings[lo:hi]:
            if covers(u.start, u.end, cs, ce):
                u.labels.add(code)


def coded_documents(project: Project) -> set[str]:
    return {r["document_id"] for r in project.query("SELECT DISTINCT document_id FROM codings")}
