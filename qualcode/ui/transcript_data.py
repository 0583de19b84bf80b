"""What the transcript screen knows about one open document, read in a handful of queries.

Offsets are code points into the stored text (end exclusive); `LineIndex` turns them into the
(row, column) the text widget works in. No Textual here, so the logic is cheap to test.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from qualcode.documents import document_attributes
from qualcode.errors import QualcodeError
from qualcode.store.project import Project
from qualcode.text import LineIndex
from qualcode.text import trim_span as _trim

# str.splitlines() — which the text widget uses — also breaks on these. Showing each as one
# visible mark keeps every offset in place (the stored text itself is never changed).
_LINE_BREAKERS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_SHOWN_AS = str.maketrans({c: "\u21b5" for c in _LINE_BREAKERS})
_WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass
class Coding:
    id: str
    start: int
    end: int
    code_id: str
    path: str
    color: str | None
    coder: str
    memo: str | None
    lane: int = 0


@dataclass
class Turn:
    start: int
    end: int
    text_start: int
    speaker: str | None
    role: str | None


@dataclass
class Suggestion:
    id: str
    start: int
    end: int
    code_id: str
    path: str
    color: str | None
    score: float
    evidence: dict


class TranscriptData:
    """One document: text, turns, sentences and codings, with navigation helpers."""

    def __init__(self, project: Project, doc_id: str):
        row = project.one("SELECT id, name, type, text FROM documents WHERE id = ?", (doc_id,))
        if row is None:
            raise QualcodeError("that document is no longer in the project")
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.type: str | None = row["type"]
        self.text: str = row["text"]
        self.display_text = self.text.translate(_SHOWN_AS)
        self.lines = LineIndex(self.text)
        self.attributes = document_attributes(project, doc_id)
        self.turns = [Turn(r["start"], r["end"], r["text_start"], r["label"], r["role"]) for r in project.query(
            "SELECT t.start, t.\"end\", t.text_start, s.label, s.role FROM turns t "
            "LEFT JOIN speakers s ON s.id = t.speaker_id WHERE t.document_id = ? ORDER BY t.start", (doc_id,))]
        self.sentences = [(r["start"], r["end"]) for r in project.query(
            "SELECT start, \"end\" FROM sentences WHERE document_id = ? ORDER BY start", (doc_id,))]
        if not self.sentences:   # an unsegmented document still has turns, or at least lines
            self.sentences = [(t.text_start, t.end) for t in self.turns] or _line_spans(self.text)
        self._sentence_starts = [s for s, _ in self.sentences]
        self._turn_starts = [t.text_start for t in self.turns]
        self._turn_line_starts = [t.start for t in self.turns]     # label included
        self.codings: list[Coding] = []
        self.suggestions: list[Suggestion] = []
        self.reload(project)

    # --- codings and suggestions ---------------------------------------------------------

    def reload(self, project: Project) -> None:
        self.codings = [Coding(r["id"], r["start"], r["end"], r["code_id"], r["path"], r["color"], r["coder"],
                               r["memo"]) for r in project.query(
            "SELECT c.id, c.start, c.\"end\", c.code_id, k.path, k.color, u.name AS coder, c.memo "
            "FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders u ON u.id = c.coder_id "
            "WHERE c.document_id = ? ORDER BY c.start, c.\"end\" DESC", (self.id,))]
        _assign_lanes(self.codings)
        self.suggestions = [Suggestion(r["id"], r["start"], r["end"], r["code_id"], r["path"], r["color"],
                                       r["score"], json.loads(r["evidence"] or "{}")) for r in project.query(
            "SELECT s.id, s.start, s.\"end\", s.code_id, s.score, s.evidence, k.path, k.color FROM suggestions s "
            "JOIN codes k ON k.id = s.code_id WHERE s.document_id = ? AND s.status = 'open' "
            "ORDER BY s.start, s.score DESC", (self.id,))]

    def visible_codings(self, coder: str, show_others: bool) -> list[Coding]:
        return self.codings if show_others else [c for c in self.codings if c.coder == coder]

    @staticmethod
    def overlapping(codings: list[Coding], start: int, end: int | None = None) -> list[Coding]:
        """Codings touching [start, end), or containing the point `start` when end is None."""
        if end is None or end <= start:
            return [c for c in codings if c.start <= start < c.end]
        return [c for c in codings if c.start < end and c.end > start]

    def coded_share(self, codings: list[Coding]) -> float:
        """Share of sentences touched by at least one coding."""
        if not self.sentences:
            return 0.0
        merged: list[list[int]] = []
        for s, e in sorted((c.start, c.end) for c in codings):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        hit, j = 0, 0
        for s, e in self.sentences:
            while j < len(merged) and merged[j][1] <= s:
                j += 1
            if j < len(merged) and merged[j][0] < e:
                hit += 1
        return hit / len(self.sentences)

    # --- units under the cursor ----------------------------------------------------------

    def sentence_at(self, offset: int) -> tuple[int, int] | None:
        """The sentence containing offset; between sentences, the next one (else the last)."""
        if not self.sentences:
            return None
        i = bisect.bisect_right(self._sentence_starts, offset) - 1
        if i >= 0 and offset < self.sentences[i][1]:
            return self.sentences[i]
        return self.sentences[i + 1] if i + 1 < len(self.sentences) else self.sentences[-1]

    def turn_index_at(self, offset: int) -> int | None:
        if not self.turns:
            return None
        i = bisect.bisect_right(self._turn_line_starts, offset) - 1
        return max(i, 0)

    def turn_span_at(self, offset: int) -> tuple[int, int] | None:
        """The speech of the turn at offset (without the speaker label)."""
        i = self.turn_index_at(offset)
        if i is None:
            return None
        t = self.turns[i]
        return _trim(self.text, t.text_start, t.end)

    def speaker_at(self, offset: int) -> str | None:
        i = self.turn_index_at(offset)
        return self.turns[i].speaker if i is not None else None

    def word_at(self, offset: int) -> tuple[int, int] | None:
        for m in _WORD.finditer(self.text, max(0, offset - 80), min(len(self.text), offset + 80)):
            if m.start() <= offset < m.end():
                return m.span()
        return self.next_word_end(offset)

    def next_word_end(self, offset: int) -> tuple[int, int] | None:
        m = _WORD.search(self.text, offset)
        return m.span() if m else None

    def next_sentence(self, offset: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self._sentence_starts, offset)
        return self.sentences[i] if i < len(self.sentences) else None

    def previous_sentence(self, offset: int) -> tuple[int, int] | None:
        i = bisect.bisect_left(self._sentence_starts, offset) - 1
        return self.sentences[i] if i >= 0 else None

    def next_turn(self, offset: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self._turn_starts, offset)
        return self._turn_speech(i)

    def previous_turn(self, offset: int) -> tuple[int, int] | None:
        i = bisect.bisect_left(self._turn_starts, offset) - 1
        return self._turn_speech(i)

    def _turn_speech(self, i: int) -> tuple[int, int] | None:
        if 0 <= i < len(self.turns):
            return _trim(self.text, self.turns[i].text_start, self.turns[i].end)
        return None

    def extend(self, start: int, end: int, unit: str) -> tuple[int, int]:
        """Grow a selection [start, end) by one word, sentence or turn."""
        if unit == "word":
            nxt = self.next_word_end(end)
        elif unit == "sentence":
            nxt = self.next_sentence(end - 1) if end > start else self.sentence_at(end)
        else:
            nxt = self.next_turn(end - 1) if end > start else self.turn_span_at(end)
        return (start, max(end, nxt[1])) if nxt else (start, end)

    def trim(self, start: int, end: int) -> tuple[int, int]:
        return _trim(self.text, start, end)


def _line_spans(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        s, e = _trim(text, pos, pos + len(line))
        if e > s:
            out.append((s, e))
        pos += len(line) + 1
    return out


def _assign_lanes(codings: list[Coding]) -> None:
    """Give each coding a margin column so its stripe runs straight down (interval colouring)."""
    lane_ends: list[int] = []
    for c in sorted(codings, key=lambda c: (c.start, -c.end)):
        for lane, busy_until in enumerate(lane_ends):
            if busy_until <= c.start:
                lane_ends[lane] = c.end
                c.lane = lane
                break
        else:
            c.lane = len(lane_ends)
            lane_ends.append(c.end)
