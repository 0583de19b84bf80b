"""How other QDA tools count positions and write colours, measured on their REFI-QDA exports.

The standard says positions are Unicode code points. NVivo counts UTF-16 code units over a
text it writes with a BOM and CRLF line ends (a CRLF is two); QualCoder counts UTF-16 units;
ATLAS.ti writes CRLF but counts a line break as one; MAXQDA writes LF and counts code points.
When a file's spans do not fit its tool's convention, the one they do fit is used.
"""

from __future__ import annotations

import re

from qualcode.text import ForeignText

# (unit, CRLF counted as one) by a word in the file's `origin`
BY_ORIGIN = {"nvivo": ("utf16", False), "qualcoder": ("utf16", False), "atlas": ("codepoint", True),
             "maxqda": ("codepoint", False)}
STANDARD = ("codepoint", False)
UNIT_WORDS = {"codepoint": "code points", "utf16": "UTF-16 units", "utf8": "UTF-8 bytes"}
_HEX6 = re.compile(r"^#[0-9a-fA-F]{6}$")


def for_origin(origin: str | None) -> tuple[str, bool]:
    origin = (origin or "").lower()
    return next((v for k, v in BY_ORIGIN.items() if k in origin), STANDARD)


def describe(unit: str, crlf_as_one: bool) -> str:
    return UNIT_WORDS[unit] + (" with CRLF as one" if crlf_as_one else "")


def choose(raw: str, spans: list[tuple[int, int]], preferred: tuple[str, bool]) -> ForeignText:
    """The counting under which the spans fit: the preferred one unless another fits better.

    A span fits when it lies inside the text and both ends fall on character boundaries.
    Text without characters beyond U+FFFF and without CRLF is counted alike by every tool.
    """
    body = raw[1:] if raw.startswith("\ufeff") else raw
    astral = any(ord(ch) > 0xFFFF for ch in body)
    crlf = "\r\n" in body
    if not astral and not crlf:
        return ForeignText(raw)
    candidates = [preferred] + [c for c in (("codepoint", False), ("utf16", False), ("codepoint", True),
                                            ("utf16", True)) if c != preferred]
    best, best_misfits = None, None
    for unit, crlf_one in candidates:
        if (crlf_one and not crlf) or (unit == "utf16" and not astral and preferred[0] != "utf16"):
            continue          # counts exactly like a candidate already tried
        ft = ForeignText(raw, unit, crlf_one)
        misfits = 0
        for s, e in spans:
            lo, hi = min(s, e), max(s, e)
            if lo < 0 or hi > ft.length:
                misfits += 1
            else:
                misfits += (not ft.raw_index(lo, "start")[1]) + (not ft.raw_index(hi, "end")[1])
        if best is None or misfits < best_misfits:
            best, best_misfits = ft, misfits
        if misfits == 0:
            break
    return best


def parse_color(value: str | None) -> str | None:
    """#RRGGBB from the notations seen in exports; None when absent or not understood."""
    if not value:
        return None
    v = value.strip()
    if _HEX6.match(v):
        return v.upper()
    if re.match(r"^#[0-9a-fA-F]{3}$", v):
        return "#" + "".join(ch * 2 for ch in v[1:]).upper()
    if re.match(r"^#[0-9a-fA-F]{8}$", v):                 # #AARRGGBB
        return "#" + v[3:].upper()
    m = re.match(r"^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)", v, re.I)
    if m:
        return "#" + "".join(f"{min(int(x), 255):02X}" for x in m.groups())
    if v.isdigit():                                       # an integer colour (0xRRGGBB)
        return f"#{int(v) & 0xFFFFFF:06X}"
    return None
