"""Foreign positions → stored offsets (qualcode.text.ForeignText, normalise_with_map)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.text import ForeignText, normalise, normalise_with_map


def utf16_index(text: str, cp_index: int) -> int:
    """Independent: UTF-16 units before a code point index, by encoding."""
    return len(text[:cp_index].encode("utf-16-le")) // 2


def test_normalise_with_map_bom_crlf_nfc():
    raw = "\ufeffA\r\nCafe\u0301\rB"
    text, floor, ceil = normalise_with_map(raw)
    assert text == normalise(raw) == "A\nCafé\nB"
    assert len(floor) == len(ceil) == len(raw) + 1
    assert floor[0] == 0 and floor[1] == 0            # the BOM takes no room
    assert floor[2] == floor[3] == 1                  # CR and LF of a pair land on the one LF
    assert floor[4] == 2                              # 'C'
    # 'e' + combining acute fuse: a start inside snaps back, an end inside snaps forward
    assert floor[7] == ceil[7] == 5                   # 'e', where the group starts
    assert floor[8] == 5 and ceil[8] == 6             # the combining accent inside it
    assert floor[9] == ceil[9] == 6
    assert floor[-1] == ceil[-1] == len(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab \r\n\ufeffé\u0301\u0323😀\u1100\u1161\u11a8한\u0b47\u0b3e")), max_size=40)
       .map("".join))
def test_normalise_with_map_agrees_with_normalise(raw):
    text, floor, ceil = normalise_with_map(raw)
    assert text == normalise(raw)
    assert floor == sorted(floor) and ceil == sorted(ceil)
    assert all(f <= c for f, c in zip(floor, ceil))
    assert floor[-1] == len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc \n,.") + ["😀", "𝔘", "ж"]), min_size=1, max_size=30),
       st.data())
def test_utf16_positions_round_trip(text, data):
    """A span given in UTF-16 units comes back as the same characters (text already normal)."""
    s = data.draw(st.integers(0, len(text) - 1))
    e = data.draw(st.integers(s + 1, len(text)))
    ft = ForeignText(text, "utf16")
    assert ft.span(utf16_index(text, s), utf16_index(text, e)) == (s, e, True)
    assert ft.from_stored(s) == utf16_index(text, s)
    ft8 = ForeignText(text, "utf8")
    assert ft8.span(len(text[:s].encode()), len(text[:e].encode())) == (s, e, True)


def test_nvivo_counting_bom_crlf_emoji():
    raw = "\ufeffLine one 😀 fees\r\nLine two: remittances\r\n"
    stored = normalise(raw)
    body = raw[1:]
    word = "remittances"
    cp = body.index(word)
    ft = ForeignText(raw, "utf16")
    start, end, exact = ft.span(utf16_index(body, cp), utf16_index(body, cp + len(word)))
    assert stored[start:end] == word and exact
    fees = body.index("fees")
    start, end, _ = ft.span(utf16_index(body, fees), utf16_index(body, fees + 4))
    assert stored[start:end] == "fees"


def test_atlas_counting_crlf_as_one():
    raw = "First line\r\nSecond line\r\nThird"
    ft = ForeignText(raw, "codepoint", crlf_as_one=True)
    lf = raw.replace("\r\n", "\n")
    pos = lf.index("Third")
    start, end, _ = ft.span(pos, pos + 5)
    assert normalise(raw)[start:end] == "Third"
    assert ft.length == len(lf)


def test_out_of_range_and_inside_a_character():
    ft = ForeignText("a😀b", "utf16")
    assert ft.span(0, 5) is None
    assert ft.span(-1, 2) is None
    assert ft.span(2, 2) is None
    start, end, exact = ft.span(2, 4)          # starts inside the surrogate pair
    assert (start, end, exact) == (1, 3, False)


def test_nfc_already_normal_is_identity():
    text = "Bakı, Gəncə — 😀 é"
    assert unicodedata.is_normalized("NFC", text)
    out, floor, ceil = normalise_with_map(text)
    assert out == text and floor == ceil == list(range(len(text) + 1))
