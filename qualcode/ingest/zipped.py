"""Safe reading of zip containers (.docx, .odt, .qdpx) and the XML inside them.

Everything a hostile archive can do is checked before anything is decompressed: the number
of members (read from the end record, before Python builds the directory), unsafe paths
(zip-slip), links, duplicate names, declared sizes and compression ratios (zip bombs).
Reads stop at the declared size (zipfile never returns more; a lying header fails its CRC).
XML is parsed with defusedxml (no DTD, no entities, no external references) by a tree
builder that refuses deep nesting and runaway element counts while parsing, not after.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from qualcode.errors import QualcodeError
from qualcode.ingest import limits

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # encrypted Office files and old binary .doc


def open_zip(path: Path, kind: str) -> zipfile.ZipFile:
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise QualcodeError(f"cannot read {path.name} ({exc.strerror or exc.__class__.__name__})") from None
    if size > limits.MAX_FILE_BYTES:
        raise QualcodeError(f"{path.name} is {size // 2**20} MB, more than qualcode reads; refused")
    if head == _OLE_MAGIC:
        raise QualcodeError(f"{path.name} is password-protected or an old binary Office file, not a {kind} "
                            "archive; save an unprotected copy in the current format")
    if not zipfile.is_zipfile(path):
        raise QualcodeError(f"{path.name} is not a valid {kind} file (it is not a zip archive; is it truncated?)")
    _check_member_count(path, kind)
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise QualcodeError(f"{path.name} is not a valid {kind} file ({exc})") from None
    try:
        _check_members(path.name, infos)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_member_count(path: Path, kind: str) -> None:
    """Refuse a huge central directory before zipfile turns every entry into an object."""
    end_record = getattr(zipfile, "_EndRecData", None)    # private but stable since Python 2
    if end_record is None:
        return
    try:
        with open(path, "rb") as fh:
            record = end_record(fh)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return   # ZipFile itself will say what is wrong
    if record and record[zipfile._ECD_ENTRIES_TOTAL] > limits.MAX_ZIP_MEMBERS:
        raise QualcodeError(f"{path.name} lists {record[zipfile._ECD_ENTRIES_TOTAL]:,} files inside; "
                            f"no {kind} file has that many; refused")


def _check_members(source: str, infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > limits.MAX_ZIP_MEMBERS:
        raise QualcodeError(f"{source} holds {len(infos):,} files; refused")
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        p = PurePosixPath(name)
        drive = bool(p.parts) and ":" in p.parts[0]
        if p.is_absolute() or ".." in p.parts or "\\" in name or drive:
            raise QualcodeError(f"{source} contains an unsafe path {name!r} (it points outside the archive); refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise QualcodeError(f"{source} contains a link {name!r}; refused")
        if name in seen:
            raise QualcodeError(f"{source} contains two files named {name!r}; refused")
        seen.add(name)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.MAX_COMPRESSION_RATIO and info.file_size > 10 * 1024 * 1024:
            raise QualcodeError(f"{source} looks like a zip bomb ({name} expands {int(ratio):,}×); refused")
    if total > limits.MAX_UNZIPPED_BYTES:
        raise QualcodeError(f"{source} expands to {total // 2**20:,} MB, more than qualcode reads; refused")


def read_member(zf: zipfile.ZipFile, name: str, source: str) -> bytes:
    """Read one member, stopping at the size limit whatever its header claims."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise QualcodeError(f"{source} has no {name}") from None
    if info.file_size > limits.MAX_MEMBER_BYTES:
        raise QualcodeError(f"{source}: {name} is {info.file_size // 2**20:,} MB, larger than qualcode reads; refused")
    if info.flag_bits & 0x1:
        raise QualcodeError(f"{source} is password-protected ({name} is encrypted); save an unprotected copy")
    try:
        with zf.open(info) as fh:
            data = fh.read(limits.MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise QualcodeError(f"{source} is damaged: cannot read {name} ({exc})") from None
    except Exception as exc:  # zlib.error, NotImplementedError (unknown compression), RuntimeError
        raise QualcodeError(f"{source} is damaged: cannot read {name} ({exc.__class__.__name__})") from None
    if len(data) > limits.MAX_MEMBER_BYTES:
        raise QualcodeError(f"{source}: {name} is larger than qualcode reads; refused")
    return data


class _TooBig(Exception):
    pass


def _limited_builder():
    from xml.etree.ElementTree import TreeBuilder

    class LimitedTreeBuilder(TreeBuilder):
        """A TreeBuilder that stops the parser as soon as nesting or size goes past the limits."""

        def __init__(self):
            super().__init__()
            self.depth = 0
            self.count = 0

        def start(self, tag, attrs):
            self.depth += 1
            self.count += 1
            if self.depth > limits.MAX_XML_DEPTH:
                raise _TooBig(f"nests XML more than {limits.MAX_XML_DEPTH} levels deep")
            if self.count > limits.MAX_XML_ELEMENTS:
                raise _TooBig(f"has more than {limits.MAX_XML_ELEMENTS:,} XML elements")
            return super().start(tag, attrs)

        def end(self, tag):
            self.depth -= 1
            return super().end(tag)

    return LimitedTreeBuilder()


def parse_xml(data: bytes, source: str):
    """Parse XML with entity expansion and external references refused (defusedxml)."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    parser = DefusedXMLParser(target=_limited_builder(), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        parser.feed(data)
        return parser.close()
    except _TooBig as exc:
        raise QualcodeError(f"{source} {exc}; refused") from None
    except DefusedXmlException as exc:
        raise QualcodeError(f"{source} contains forbidden XML ({exc.__class__.__name__}: entities or a DTD); refused") from None
    except ParseError as exc:
        raise QualcodeError(f"{source} is not well-formed XML ({exc})") from None
    except (ValueError, LookupError, TypeError, RecursionError, MemoryError) as exc:   # odd encodings
        raise QualcodeError(f"{source} is not readable XML ({exc.__class__.__name__})") from None


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
