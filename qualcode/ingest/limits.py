"""Limits that keep hostile files (zip bombs, enormous lines, entity and alias bombs) from
exhausting memory or time. Each is far above what a real transcript, codebook or project needs."""

from __future__ import annotations

import re

MAX_FILE_BYTES = 200 * 1024 * 1024         # a transcript bigger than this is not a transcript
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024     # total of all members of a .docx/.odt/.qdpx
MAX_MEMBER_BYTES = 128 * 1024 * 1024       # one member qualcode reads (document.xml, project.qde, a source)
MAX_ZIP_MEMBERS = 50_000                   # a central directory this long is an attack, not a document
MAX_COMPRESSION_RATIO = 200                # zip bombs compress thousands to one; text XML about 10 to one
MAX_LINE_CHARS = 1_000_000                 # one line longer than this is not a transcript
MAX_XML_DEPTH = 200
MAX_XML_ELEMENTS = 2_000_000               # a 500-page Word file has ~200,000
MAX_YAML_DEPTH = 50                        # front matter and codebooks nest a few levels
MAX_YAML_NODES = 200_000                   # counting what aliases expand to (the "billion laughs")

# spaCy's tokenizer strips affixes one character at a time with a regex over the rest of the
# token, so a long run of punctuation costs O(n²): 4,000 '=' take 8 s, a 1 MB line hours.
MAX_RUN_CHARS = 100
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN_CHARS + 1))


def mask_long_runs(text: str) -> str:
    """The same text, same length, with a space every MAX_RUN_CHARS characters inside runs
    without whitespace: what to hand spaCy so offsets still match and time stays linear."""
    if not _LONG_RUN.search(text):
        return text

    def cut(m: re.Match) -> str:
        chars = list(m.group(0))
        for k in range(MAX_RUN_CHARS, len(chars), MAX_RUN_CHARS + 1):
            chars[k] = " "
        return "".join(chars)

    return _LONG_RUN.sub(cut, text)
