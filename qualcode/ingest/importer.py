"""From a transcript file to a stored document with speakers, turns, paragraphs and sentences.

Parsing (`parse_file`) touches no project; storing (`store_documents`) writes every parsed
document in one change. So a bad file among many leaves the project exactly as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from qualcode import text as textmod
from qualcode.errors import QualcodeError
from qualcode.ingest import frontmatter, limits, turns as turnmod

TRANSCRIPT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".docx", ".odt"}


@dataclass
class ParsedDocument:
    name: str
    text: str
    source_name: str
    source_format: str
    type: str | None
    language: str
    attributes: dict[str, str]
    speakers: dict[str, dict[str, str]]          # label -> attributes (role included)
    turns: list[turnmod.Turn]
    paragraphs: list[tuple[int, int, int]] = field(default_factory=list)   # (start, end, turn index)
    sentences: list[tuple[int, int, int]] = field(default_factory=list)    # (start, end, turn index)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def read_any(path: Path, encoding: str | None = None) -> tuple[str, str]:
    """(raw text, format) of a transcript file, or a one-line error."""
    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.is_dir():
        raise QualcodeError(f"{path} is a folder; name the files inside it (e.g. {path}/*.txt)")
    suffix = path.suffix.lower()
    if suffix not in TRANSCRIPT_SUFFIXES:
        raise QualcodeError(f"{path.name}: qualcode imports .txt, .md, .docx and .odt transcripts, not '{suffix or 'no suffix'}'")
    size = path.stat().st_size
    if size == 0:
        raise QualcodeError(f"{path.name} is empty")
    if size > limits.MAX_FILE_BYTES:
        raise QualcodeError(f"{path.name} is {size // 2**20} MB, too large for a transcript")
    if suffix == ".docx":
        from qualcode.ingest.officedocs import read_docx
        raw = read_docx(path)
        fmt = "docx"
    elif suffix == ".odt":
        from qualcode.ingest.officedocs import read_odt
        raw = read_odt(path)
        fmt = "odt"
    else:
        from qualcode.ingest.plaintext import read_text_file
        raw, _ = read_text_file(path, encoding)
        fmt = "md" if suffix in (".md", ".markdown") else "txt"
    check_text(raw, path.name)
    return raw, fmt


def check_text(raw: str, name: str) -> None:
    """What every source text must pass, whichever file or tool it came from."""
    if not raw.strip():
        raise QualcodeError(f"{name} contains no text")
    if "\x00" in raw:
        raise QualcodeError(f"{name} contains NUL characters; it is not a plain transcript")
    from qualcode.ingest.plaintext import refuse_escapes
    refuse_escapes(raw, name)
    longest = max((len(line) for line in raw.split("\n")), default=0)
    if longest > limits.MAX_LINE_CHARS:
        raise QualcodeError(f"{name} has a single line of {longest:,} characters; that is not a transcript")


def parse_text(raw: str, name: str, source_name: str, source_format: str, doc_type: str | None = None,
               attrs: dict[str, str] | None = None, lang: str | None = None, segment: bool = True) -> ParsedDocument:
    raw = textmod.normalise(raw)
    fm, body = frontmatter.split(raw, source_name)
    body = body.strip("\n")
    if not body.strip():
        raise QualcodeError(f"{source_name} has front matter but no transcript text")
    name = fm.name or name
    _check_name(name, source_name)
    _check_labels(fm, attrs or {}, source_name)
    legend = fm.speakers
    turns = turnmod.find_turns(body, list(legend))
    speakers: dict[str, dict[str, str]] = {}
    for t in turns:
        if t.label is None:
            continue
        t.label = turnmod.resolve_label(t.label, legend)
        merged = {**t.details, **speakers.get(t.label, {}), **legend.get(t.label, {})}
        speakers[t.label] = merged
    for label, a in legend.items():   # speakers in the legend who never speak still exist
        speakers.setdefault(label, dict(a))
    attributes = {**fm.attributes, **(attrs or {})}
    doc = ParsedDocument(name=name, text=body, source_name=source_name, source_format=source_format,
                         type=doc_type or fm.type, language=(lang or fm.language or "en"),
                         attributes=attributes, speakers=speakers, turns=turns)
    if segment:
        segment_document(doc)
    return doc


def _control(text: str, allowed: str = "") -> bool:
    """Control characters (C0, DEL, C1) other than `allowed`: never part of a name or label."""
    return any((ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) and c not in allowed for c in text)


def _check_name(name: str, source: str) -> None:
    if not name or not name.strip() or _control(name):
        raise QualcodeError(f"{source}: the document name is empty or contains control characters; rename the file")


def _check_labels(fm: frontmatter.FrontMatter, attrs: dict[str, str], source: str) -> None:
    """Speaker labels, attribute names and values are shown in lists and tables: no control
    characters in names and labels; values may span lines (tabs and newlines) but no more."""
    for label, details in fm.speakers.items():
        if not label.strip() or _control(label):
            raise QualcodeError(f"{source}: speaker label {label!r} is empty or contains control characters")
        _check_attributes(details, f"speaker {label!r}", source)
    _check_attributes({**fm.attributes, **attrs}, "the document", source)
    for key in ("type", "language"):
        value = getattr(fm, key)
        if value is not None and _control(value):
            raise QualcodeError(f"{source}: the {key} {value!r} contains control characters")


def _check_attributes(attrs: dict[str, str], owner: str, source: str) -> None:
    for k, v in attrs.items():
        if not str(k).strip() or _control(str(k)):
            raise QualcodeError(f"{source}: an attribute name of {owner}, {k!r}, is empty or contains control characters")
        if _control(str(v), allowed="\t\n"):
            raise QualcodeError(f"{source}: attribute {k!r} of {owner} has a value with control characters")


def paragraph_spans(text: str, turns: list[turnmod.Turn]) -> list[tuple[int, int, int]]:
    out = []
    for ti, t in enumerate(turns):
        pos = t.text_start
        for line in text[t.text_start:t.end].split("\n"):
            s, e = pos, pos + len(line)
            pos = e + 1
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                out.append((s, e, ti))
    return out


def segment_document(doc: ParsedDocument) -> None:
    from qualcode.nlp.pipeline import split_sentences

    doc.paragraphs = paragraph_spans(doc.text, doc.turns)
    # spaCy sees a same-length copy with long whitespace-free runs cut (its tokenizer is
    # quadratic on them); offsets are unchanged, so its sentence spans index doc.text
    masked = limits.mask_long_runs(doc.text)
    spans = split_sentences(doc.language, [(s, masked[s:e]) for s, e, _ in doc.paragraphs])
    # sentences never cross paragraphs, so each belongs to its paragraph's turn
    sentences = []
    pi = 0
    for s, e in spans:
        while pi < len(doc.paragraphs) - 1 and doc.paragraphs[pi][1] <= s:
            pi += 1
        sentences.append((s, e, doc.paragraphs[pi][2]))
    doc.sentences = sentences


def parse_file(path: Path, doc_type: str | None = None, attrs: dict[str, str] | None = None,
               lang: str | None = None, encoding: str | None = None, name: str | None = None,
               segment: bool = True) -> ParsedDocument:
    raw, fmt = read_any(path, encoding)
    return parse_text(raw, name or path.stem, path.name, fmt, doc_type, attrs, lang, segment)
