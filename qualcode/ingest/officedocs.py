"""Text from .docx (transitional and ISO Strict) and .odt, including text inside tables.

Read straight from the XML rather than through python-docx, because python-docx refuses
ISO Strict files and renamed main parts, and we need body order of paragraphs and tables.
A two-column table whose left cells are short is a speaker | utterance transcript: each row
becomes `Speaker: utterance`, so turn detection treats it like any other transcript.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from qualcode.errors import QualcodeError
from qualcode.ingest.zipped import local, open_zip, parse_xml, read_member

_MAIN_TYPES = ("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml",
               "ms-word.document.macroEnabled.main+xml")


def read_docx(path: Path) -> str:
    with open_zip(path, ".docx") as zf:
        names = set(zf.namelist())
        part = _main_part(zf, names, path.name)
        root = parse_xml(read_member(zf, part, path.name), f"{path.name}:{part}")
    body = next((el for el in root if local(el.tag) == "body"), None)
    if body is None:
        raise QualcodeError(f"{path.name} has no document body in {part}")
    blocks = _docx_blocks(body)
    return "\n".join(blocks)


def _main_part(zf, names: set[str], source: str) -> str:
    if "_rels/.rels" in names:
        rels = parse_xml(read_member(zf, "_rels/.rels", source), f"{source}:_rels/.rels")
        for rel in rels:
            if rel.get("Type", "").endswith("/officeDocument"):
                target = rel.get("Target", "").lstrip("/")
                target = str(PurePosixPath(target))
                if target in names:
                    return target
    if "[Content_Types].xml" in names:
        types = parse_xml(read_member(zf, "[Content_Types].xml", source), f"{source}:[Content_Types].xml")
        for override in types:
            if any(override.get("ContentType", "").endswith(t) for t in _MAIN_TYPES):
                target = override.get("PartName", "").lstrip("/")
                if target in names:
                    return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise QualcodeError(f"{source} has no main document part (not a Word document, or damaged)")


def _docx_blocks(container) -> list[str]:
    out: list[str] = []
    for el in container:
        tag = local(el.tag)
        if tag == "p":
            out.append(_docx_paragraph(el))
        elif tag == "tbl":
            out.extend(_table_lines([[_docx_cell(tc) for tc in _cells(tr, "tc")] for tr in el if local(tr.tag) == "tr"]))
        elif tag in ("sdt", "sdtContent", "customXml", "ins", "smartTag"):
            out.extend(_docx_blocks(el))
    return out


def _cells(row, name: str):
    for el in row:
        t = local(el.tag)
        if t == name:
            yield el
        elif t in ("sdt", "sdtContent", "customXml"):
            yield from _cells(el, name)


def _docx_cell(tc) -> str:
    return "\n".join(b for b in _docx_blocks(tc)).strip()


def _docx_paragraph(p) -> str:
    parts: list[str] = []

    def walk(el):
        for child in el:
            t = local(child.tag)
            if t == "t":
                parts.append(child.text or "")
            elif t == "tab":
                parts.append("\t")
            elif t in ("br", "cr"):
                parts.append("\n")
            elif t == "noBreakHyphen":
                parts.append("-")
            elif t in ("del", "pPr", "rPr", "commentReference", "footnoteReference", "endnoteReference",
                       "delText", "instrText", "fldChar"):
                continue
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _table_lines(rows: list[list[str]]) -> list[str]:
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    two_col = all(len(r) == 2 for r in rows)
    if two_col and sum(1 for r in rows if 0 < len(r[0]) <= 40 and "\n" not in r[0]) >= 0.8 * len(rows):
        lines = []
        for speaker, said in rows:
            speaker = speaker.strip().rstrip(":")
            lines.append(f"{speaker}: {said}" if speaker else said)
            lines.append("")
        return lines[:-1]
    return ["\t".join(cell.replace("\n", " ") for cell in r) for r in rows]


# --- OpenDocument text ---------------------------------------------------------------------

def read_odt(path: Path) -> str:
    with open_zip(path, ".odt") as zf:
        if "content.xml" not in zf.namelist():
            raise QualcodeError(f"{path.name} has no content.xml (not an OpenDocument text, or damaged)")
        root = parse_xml(read_member(zf, "content.xml", path.name), f"{path.name}:content.xml")
    office_body = next((el for el in root if local(el.tag) == "body"), None)
    body = next((el for el in office_body if local(el.tag) == "text"), None) if office_body is not None else None
    if body is None:
        raise QualcodeError(f"{path.name} has no text body (is it an OpenDocument text?)")
    return "\n".join(_odt_blocks(body))


def _odt_blocks(container) -> list[str]:
    out: list[str] = []
    for el in container:
        tag = local(el.tag)
        if tag in ("p", "h"):
            out.append(_odt_inline(el))
        elif tag in ("list", "list-item", "section", "list-header", "index-body", "table-of-content"):
            out.extend(_odt_blocks(el))
        elif tag == "table":
            rows = [[("\n".join(_odt_blocks(cell))).strip() for cell in row if local(cell.tag) == "table-cell"]
                    for row in el.iter() if local(row.tag) == "table-row"]
            out.extend(_table_lines(rows))
    return out


def _odt_inline(el) -> str:
    parts = [el.text or ""]
    for child in el:
        t = local(child.tag)
        if t == "s":
            parts.append(" " * int(child.get("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}c", "1") or 1))
        elif t == "tab":
            parts.append("\t")
        elif t == "line-break":
            parts.append("\n")
        elif t in ("note", "annotation", "annotation-end", "bookmark", "bookmark-start", "bookmark-end"):
            pass
        else:
            parts.append(_odt_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)
