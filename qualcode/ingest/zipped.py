"""Safe reading of zip containers (.docx, .odt, .qdpx) and the XML inside them."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from qualcode.errors import QualcodeError
from qualcode.ingest import limits


def open_zip(path: Path, kind: str) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(path):
        raise QualcodeError(f"{path.name} is not a valid {kind} file (it is not a zip archive; is it truncated?)")
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise QualcodeError(f"{path.name} is not a valid {kind} file ({exc})") from None
    total = 0
    for info in infos:
        p = PurePosixPath(info.filename)
        if p.is_absolute() or ".." in p.parts or "\\" in info.filename or ":" in p.parts[0] if p.parts else False:
            zf.close()
            raise QualcodeError(f"{path.name} contains an unsafe path {info.filename!r}; refused")
        total += info.file_size
        if info.compress_size and info.file_size / max(info.compress_size, 1) > limits.MAX_COMPRESSION_RATIO \
                and info.file_size > 10 * 1024 * 1024:
            zf.close()
            raise QualcodeError(f"{path.name} looks like a zip bomb ({info.filename} expands "
                                f"{info.file_size // max(info.compress_size, 1)}×); refused")
    if total > limits.MAX_UNZIPPED_BYTES:
        zf.close()
        raise QualcodeError(f"{path.name} expands to {total // 2**20} MB, more than qualcode reads; refused")
    return zf


def read_member(zf: zipfile.ZipFile, name: str, source: str) -> bytes:
    """Read one member, stopping at the size limit whatever its header claims."""
    try:
        with zf.open(name) as fh:
            data = fh.read(limits.MAX_UNZIPPED_BYTES + 1)
    except KeyError:
        raise QualcodeError(f"{source} has no {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise QualcodeError(f"{source} is damaged: cannot read {name} ({exc})") from None
    except Exception as exc:  # zlib.error and friends on truncated archives
        raise QualcodeError(f"{source} is damaged: cannot read {name} ({exc.__class__.__name__})") from None
    if len(data) > limits.MAX_UNZIPPED_BYTES:
        raise QualcodeError(f"{source}: {name} is larger than qualcode reads; refused")
    return data


def parse_xml(data: bytes, source: str):
    """Parse XML with entity expansion and external references refused (defusedxml)."""
    import defusedxml.ElementTree as ET
    from defusedxml import DefusedXmlException

    try:
        root = ET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise QualcodeError(f"{source} contains forbidden XML ({exc.__class__.__name__}: entities or a DTD); refused") from None
    except ET.ParseError as exc:
        raise QualcodeError(f"{source} is not well-formed XML ({exc})") from None
    _check_depth(root, source)
    return root


def _check_depth(root, source: str) -> None:
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > limits.MAX_XML_DEPTH:
            raise QualcodeError(f"{source} nests XML more than {limits.MAX_XML_DEPTH} levels deep; refused")
        stack.extend((child, depth + 1) for child in el)


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
