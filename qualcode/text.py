"""Offsets and text normalisation, in one place.

Spans in the store are zero-based Unicode code points into the stored text, end exclusive
(the REFI-QDA convention). Conversions to UTF-16 units (NVivo, QualCoder), UTF-8 bytes
(Taguette) and (row, column) for the text widget happen here and nowhere else.
"""

from __future__ import annotations

import bisect
import difflib
import unicodedata
from dataclasses import dataclass

CONTEXT_CHARS = 60


def normalise(text: str) -> str:
    """The form every document is stored in: no BOM, LF line ends, NFC."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A span without surrounding white space (turns, paragraphs and codings never start blank)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- (row, column) for line-based widgets -------------------------------------------------

class LineIndex:
    """Line starts of a text, for O(log n) offset ⇄ (row, col) conversion."""

    def __init__(self, text: str):
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.length = len(text)

    def location(self, offset: int) -> tuple[int, int]:
        offset = min(max(offset, 0), self.length)
        row = bisect.bisect_right(self.starts, offset) - 1
        return row, offset - self.starts[row]

    def offset(self, row: int, col: int) -> int:
        row = min(max(row, 0), len(self.starts) - 1)
        return min(self.starts[row] + col, self.length)


# --- quoting and re-anchoring -------------------------------------------------------------

def context(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> tuple[str, str]:
    return text[max(0, start - width):start], text[end:end + width]


@dataclass
class Anchor:
    start: int
    end: int
    exact: bool


def reanchor(new_text: str, quote: str, before: str, after: str, old_start: int) -> Anchor | None:
    """Find where a quote moved to in a corrected text.

    Exact occurrences are ranked by how well their surroundings match the stored context,
    then by closeness to the old position. Without an exact occurrence a close match
    (ratio >= 0.9) of the same length near the old position is accepted.
    """
    if not quote:
        return None
    hits = []
    pos = new_text.find(quote)
    while pos != -1:
        hits.append(pos)
        pos = new_text.find(quote, pos + 1)
    if hits:
        def score(p: int) -> tuple[float, int]:
            b, a = context(new_text, p, p + len(quote), len(before) or CONTEXT_CHARS)
            sim = difflib.SequenceMatcher(None, b[-len(before):] if before else "", before).ratio() + \
                difflib.SequenceMatcher(None, a[:len(after)], after).ratio()
            return (-sim, abs(p - old_start))
        best = min(hits, key=score)
        return Anchor(best, best + len(quote), True)
    # fuzzy: slide a window of the quote's length around the old position
    n = len(quote)
    if n < 12:
        return None
    best_ratio, best_pos = 0.0, -1
    matcher = difflib.SequenceMatcher(None, "", quote, autojunk=False)
    lo, hi = max(0, old_start - 2000), min(len(new_text) - n, old_start + 2000)
    for p in range(lo, hi + 1, max(1, n // 8)):
        matcher.set_seq1(new_text[p:p + n])
        r = matcher.quick_ratio()
        if r > best_ratio - 0.05 and r >= 0.85:
            r = matcher.ratio()
            if r > best_ratio:
                best_ratio, best_pos = r, p
    if best_pos < 0 or best_ratio < 0.9:
        return None
    # align the quote inside a slightly wider region, so edits at its edges move the ends too
    slack = max(8, n // 4)
    lo = max(0, best_pos - slack)
    region = new_text[lo:best_pos + n + slack]
    sm = difflib.SequenceMatcher(None, quote, region, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return None
    first, last = blocks[0], blocks[-1]
    start = lo + max(0, first.b - first.a)
    end = lo + min(len(region), last.b + last.size + (n - last.a - last.size))
    if end <= start:
        return None
    return Anchor(start, end, False)


# --- foreign positions -> stored offsets ----------------------------------------------------
#
# Other tools count positions in their own units over the text *they* stored (BOM, CRLF and
# all); we store normalise(raw). ForeignText converts in two exact steps: foreign units ->
# code point of the raw text (BOM dropped), then raw code point -> code point of the stored text.

UNITS = ("codepoint", "utf16", "utf8")


class ForeignText:
    """A source text as another tool stored it, and how its positions land in our stored text.

    unit: what one position counts ('codepoint', 'utf16' code units, 'utf8' bytes).
    crlf_as_one: the tool counts a CRLF line break as one position (ATLAS.ti) rather than two.
    """

    def __init__(self, raw: str, unit: str = "codepoint", crlf_as_one: bool = False):
        if unit not in UNITS:
            raise ValueError(f"unknown position unit {unit!r}")
        self.raw = raw[1:] if raw.startswith("\ufeff") else raw
        self.unit = unit
        self.crlf_as_one = crlf_as_one
        self.text, self._to_stored_floor, self._to_stored_ceil = normalise_with_map(self.raw)
        self._prefix = self._unit_prefix()

    def _unit_prefix(self) -> list[int]:
        """prefix[i] = foreign position of raw code point i (len(raw)+1 entries)."""
        raw, out, pos = self.raw, [0], 0
        for i, ch in enumerate(raw):
            if self.crlf_as_one and ch == "\r" and raw[i + 1:i + 2] == "\n":
                w = 0
            elif self.unit == "utf16":
                w = 2 if ord(ch) > 0xFFFF else 1
            elif self.unit == "utf8":
                w = len(ch.encode("utf-8", "surrogatepass"))
            else:
                w = 1
            pos += w
            out.append(pos)
        return out

    @property
    def length(self) -> int:
        """The text's length in the foreign unit."""
        return self._prefix[-1]

    def raw_index(self, position: int, side: str) -> tuple[int, bool]:
        """Raw code point index of a foreign position; exact=False when it fell inside a character."""
        prefix = self._prefix
        if side == "start":
            i = bisect.bisect_right(prefix, position) - 1
        else:
            i = bisect.bisect_left(prefix, position)
        i = min(max(i, 0), len(prefix) - 1)
        return i, prefix[i] == position

    def span(self, start: int, end: int) -> tuple[int, int, bool] | None:
        """(start, end, exact) in the stored text, or None when the span is out of range or empty."""
        if start < 0 or end > self.length or start >= end:
            return None
        s, exact_s = self.raw_index(start, "start")
        e, exact_e = self.raw_index(end, "end")
        s2, e2 = self._to_stored_floor[s], self._to_stored_ceil[e]
        if e2 <= s2:
            return None
        return s2, e2, exact_s and exact_e

    def from_stored(self, index: int) -> int:
        """The foreign position of a stored offset (for exports in foreign units)."""
        raw_i = bisect.bisect_left(self._to_stored_floor, index)
        return self._prefix[min(raw_i, len(self._prefix) - 1)]


def normalise_with_map(raw: str) -> tuple[str, list[int], list[int]]:
    """normalise(raw) with, for every raw index 0..len(raw), where it lands in the result.

    Two maps because NFC can fuse characters: an index inside a fused group maps down to the
    group's start (`floor`, for span starts) or up to its end (`ceil`, for span ends). A BOM
    maps to 0; the CR of a CRLF maps to where the LF lands, so both ends of a break agree.
    """
    bom = 1 if raw.startswith("\ufeff") else 0
    body = raw[bom:]
    # step 1: line breaks (CRLF -> LF, lone CR -> LF)
    lf_chars: list[str] = []
    lf_map: list[int] = []
    i = 0
    while i < len(body):
        ch = body[i]
        lf_map.append(len(lf_chars))
        if ch == "\r":
            if body[i + 1:i + 2] == "\n":
                lf_map.append(len(lf_chars))   # the LF of the pair
                i += 1
            lf_chars.append("\n")
        else:
            lf_chars.append(ch)
        i += 1
    lf_map.append(len(lf_chars))
    lf_text = "".join(lf_chars)
    # step 2: NFC, chunk by chunk; a chunk starts at each character that cannot compose backwards
    floor = [0] * (len(lf_text) + 1)
    ceil = [0] * (len(lf_text) + 1)
    pieces: list[str] = []
    # almost every text is NFC already: then the map is the identity
    chunks = [(0, len(lf_text))] if unicodedata.is_normalized("NFC", lf_text) else list(_nfc_chunks(lf_text))
    for attempt in (chunks, [(0, len(lf_text))] if lf_text else []):
        pieces, size = [], 0
        for a, b in attempt:
            piece = lf_text[a:b]
            norm = unicodedata.normalize("NFC", piece)
            if norm == piece:
                for k in range(a, b):
                    floor[k] = ceil[k] = size + (k - a)
            else:   # inside a changed group: starts snap back, ends snap forward
                floor[a] = ceil[a] = size
                for k in range(a + 1, b):
                    floor[k], ceil[k] = size, size + len(norm)
            pieces.append(norm)
            size += len(norm)
        floor[len(lf_text)] = ceil[len(lf_text)] = size
        text = "".join(pieces)
        if text == unicodedata.normalize("NFC", lf_text):
            break
    raw_floor = [0] * bom + [floor[j] for j in lf_map]
    raw_ceil = [0] * bom + [ceil[j] for j in lf_map]
    return text, raw_floor, raw_ceil


def _nfc_chunks(text: str):
    """(start, end) runs that NFC can normalise independently.

    A character with combining class 0 composes only with the character right before it, so
    a new run may begin there unless that pair composes (Hangul jamo, some Indic vowel signs).
    Nothing below U+0300 composes backwards.
    """
    start = 0
    nfc = unicodedata.normalize
    for i in range(1, len(text)):
        ch = text[i]
        if ord(ch) < 0x300 or (unicodedata.combining(ch) == 0
                               and nfc("NFC", text[i - 1:i + 1]) == nfc("NFC", text[i - 1]) + nfc("NFC", ch)):
            yield start, i
            start = i
    if text:
        yield start, len(text)
