"""Decoding .txt/.md files: UTF-8 (with or without BOM), UTF-16, cp1251, cp1252 and kin."""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import QualcodeError

_ESCAPES = re.compile("[\x1b\x80-\x9f]")

_BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). `encoding` is what the user claims; it is then enforced."""
    if not data.strip():
        raise QualcodeError(f"{name} is empty")
    if encoding:
        try:
            return _checked(data.decode(encoding), name), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise QualcodeError(f"{name} is not valid {encoding} ({exc.__class__.__name__} at byte "
                                f"{getattr(exc, 'start', '?')}); check the file's encoding") from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(enc.replace("-sig", ""))
            except UnicodeDecodeError as exc:
                raise QualcodeError(f"{name} starts with a {enc.upper()} byte order mark but is not valid "
                                    f"{enc.upper()} (byte {exc.start})") from None
            return _checked(text, name), enc
    utf16 = _looks_utf16(data)
    if utf16:
        try:
            return _checked(data.decode(utf16), name), utf16
        except UnicodeDecodeError as exc:
            raise QualcodeError(f"{name} looks like {utf16.upper()} text but is damaged at byte {exc.start} "
                                "(truncated, or a broken character); save it again as UTF-8") from None
    if b"\x00" in data:
        raise QualcodeError(f"{name} contains binary data (NUL bytes), not text; is it the right file?")
    try:
        return _checked(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError as exc:
        _refuse_damaged_utf8(data, name, exc.start)
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1251", "cp1252", "cp1254", "iso8859_9", "koi8_r", "utf_16", "mac_cyrillic"]).best()
    if best is None:
        raise QualcodeError(f"{name} is neither UTF-8 nor a text encoding qualcode recognises; "
                            "save it as UTF-8 or pass --encoding")
    text = str(best)
    if _ESCAPES.search(text) and best.encoding.startswith("iso8859"):
        # ISO-8859 puts C1 controls where Windows code pages put curly quotes and dashes
        windows = "cp1254" if best.encoding == "iso8859_9" else "cp1252"
        try:
            return _checked(data.decode(windows), name), windows
        except UnicodeDecodeError:
            pass
    return _checked(text, name), best.encoding


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _refuse_damaged_utf8(data: bytes, name: str, first_bad: int) -> None:
    """Mostly valid UTF-8 with a few broken bytes is a damaged UTF-8 file, not cp1251 or cp1252:
    guessing another encoding would store mojibake, so say where the damage is instead."""
    sample = data[:2_000_000].decode("utf-8", errors="replace")
    broken = sample.count("\ufffd")
    good = sum(1 for ch in sample if ord(ch) > 0x7F) - broken
    if good >= 4 and broken * 4 <= good:
        line = data[:first_bad].count(b"\n") + 1
        raise QualcodeError(f"{name} is UTF-8 with {broken} broken byte sequence(s), the first at byte {first_bad} "
                            f"(line {line}); repair the file, or pass --encoding if it is not UTF-8")


def _checked(text: str, name: str) -> str:
    """Refuse what decodes but is not text: control characters other than tab/newline/CR/FF,
    and any terminal escape (ESC, C1 controls), which `qualcode text` would replay on a screen."""
    bad = sum(1 for ch in text[:200_000] if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\x7f")
    if "\x00" in text or bad > max(3, len(text[:200_000]) // 1000):
        raise QualcodeError(f"{name} looks like binary data, not text")
    refuse_escapes(text, name)
    return text


def refuse_escapes(text: str, name: str) -> None:
    """One error naming the line of the first ESC or C1 control character, if there is one."""
    m = _ESCAPES.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise QualcodeError(f"{name} contains a terminal control character (U+{ord(m.group()):04X}) on line {line}; "
                            "remove it (escape sequences could rewrite the screen of whoever reads the text)")


def read_text_file(path: Path, encoding: str | None = None) -> tuple[str, str]:
    return decode(path.read_bytes(), path.name, encoding)
