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


# --- code points <-> UTF-16 units / UTF-8 bytes -------------------------------------------

def utf16_to_codepoint_map(text: str) -> list[int]:
    """For each UTF-16 unit index (0..len16), the code point index it falls on."""
    out: list[int] = []
    for i, ch in enumerate(text):
        out.append(i)
        if ord(ch) > 0xFFFF:
            out.append(i)  # the low surrogate maps to the same character
    out.append(len(text))
    return out


def codepoint_to_utf16(text: str, index: int) -> int:
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def utf16_to_codepoint(text: str, index16: int) -> int:
    table = utf16_to_codepoint_map(text)
    return table[min(max(index16, 0), len(table) - 1)]


def utf8_to_codepoint(text: str, byte_index: int) -> int:
    """Code point index of a UTF-8 byte offset (a byte inside a character maps to it)."""
    return len(text.encode("utf-8")[:byte_index].decode("utf-8", errors="ignore"))


def codepoint_to_utf8(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


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
