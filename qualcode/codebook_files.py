"""Codebook files: YAML (our schema, below), REFI-QDA .qdc, and CSV/DOCX for reading.

YAML schema::

    name: Title of the codebook
    version: "1.0"
    description: purpose and coding rules
    codes:
      - name: Barriers                  # required; no '/'
        color: "#E15759"
        description: the definition
        when_to_use: ...
        when_not_to_use: ...
        examples: ["a typical quote", ...]
        keywords: [fee, commission, ...]
        shortcut: 3                     # favourite number 1-9 in the app
        children: [ ...same fields... ]

A flat list is read too: each entry with `path: Barriers/Fees` (or `name` plus `parent`).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from qualcode.codebook import SEP, CodeSpec, check_name, usable_code_name
from qualcode.errors import QualcodeError

QDC_NS = "urn:QDA-XML:codebook:1.0"
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def load(path: Path) -> tuple[dict, list[CodeSpec]]:
    """(codebook metadata, codes in reading order) from .yaml/.yml or .qdc."""
    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.is_dir():
        raise QualcodeError(f"{path} is a folder, not a codebook file")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return load_yaml(path)
    if suffix == ".qdc":
        return load_qdc(path.read_bytes(), path.name)
    raise QualcodeError(f"{path.name}: codebooks are read from .yaml/.yml or REFI-QDA .qdc files")


def load_yaml(path: Path) -> tuple[dict, list[CodeSpec]]:
    import yaml

    from qualcode.ingest.plaintext import decode

    from qualcode.ingest import safe_yaml

    text, _ = decode(path.read_bytes(), path.name)
    try:
        data = safe_yaml.load(text, path.name)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise QualcodeError(f"{path.name} is not valid YAML" + (f" (line {mark.line + 1})" if mark else "")) from None
    if isinstance(data, list):
        data = {"codes": data}
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        raise QualcodeError(f"{path.name}: a codebook needs a `codes:` list")
    specs: list[CodeSpec] = []
    flat = all(isinstance(c, dict) and ("path" in c or "parent" in c) for c in data["codes"]) and data["codes"]
    if flat:
        specs = _flat_specs(data["codes"], path.name)
    else:
        _walk(data["codes"], "", specs, path.name, depth=0)
    _check_unique(specs, path.name)
    meta = {k: data.get(k) for k in ("name", "version", "description") if data.get(k) is not None}
    return meta, specs


def _spec(entry: dict, path: str, source: str) -> CodeSpec:
    color = entry.get("color") or entry.get("colour")
    if color is not None and not _COLOR.match(str(color)):
        raise QualcodeError(f"{source}: code {path!r} has colour {color!r}; use #RRGGBB")
    shortcut = entry.get("shortcut")
    if shortcut is not None and (not isinstance(shortcut, int) or not 1 <= shortcut <= 9):
        raise QualcodeError(f"{source}: code {path!r} has shortcut {shortcut!r}; use a number 1-9")
    def lst(key):
        v = entry.get(key) or []
        return [str(x) for x in (v if isinstance(v, list) else [v])]
    def txt(key, *alts):
        for k in (key, *alts):
            if entry.get(k) is not None:
                return str(entry[k]).strip()
        return None
    return CodeSpec(path=path, description=txt("description", "definition"), when_to_use=txt("when_to_use"),
                    when_not_to_use=txt("when_not_to_use"), examples=lst("examples"), keywords=lst("keywords"),
                    color=str(color) if color else None, shortcut=shortcut, guid=entry.get("guid"))


def _walk(entries, prefix: str, out: list[CodeSpec], source: str, depth: int) -> None:
    if depth > 20:
        raise QualcodeError(f"{source}: codes nest more than 20 levels deep")
    for entry in entries:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or "name" not in entry:
            raise QualcodeError(f"{source}: every code needs a `name` (under {prefix.rstrip(SEP) or 'the top level'})")
        try:
            name = check_name(str(entry["name"]))
        except QualcodeError as exc:
            raise QualcodeError(f"{source}: {exc}") from None
        path = prefix + name
        out.append(_spec(entry, path, source))
        children = entry.get("children") or entry.get("codes") or []
        if not isinstance(children, list):
            raise QualcodeError(f"{source}: `children` of {path!r} must be a list")
        _walk(children, path + SEP, out, source, depth + 1)


def _flat_specs(entries: list[dict], source: str) -> list[CodeSpec]:
    """Flat lists name parents; resolve them, refusing cycles and unknown parents."""
    def named(value) -> str:
        try:
            return check_name(str(value))
        except QualcodeError as exc:
            raise QualcodeError(f"{source}: {exc}") from None

    by_name: dict[str, dict] = {}
    for e in entries:
        if "path" in e:
            parts = [named(p) for p in str(e["path"]).strip(SEP).split(SEP)]
            e = {**e, "name": parts[-1], "parent": SEP.join(parts[:-1]) or None}
        elif e.get("name") is None:
            raise QualcodeError(f"{source}: every code needs a `name` (or a `path`)")
        key = named(e["name"])
        if key in by_name:
            raise QualcodeError(f"{source}: code {key!r} appears twice (duplicate path)")
        by_name[key] = e
    specs = []
    for key, e in by_name.items():
        chain, seen, cur = [key], {key}, e
        while cur.get("parent"):
            parent = str(cur["parent"]).strip(SEP)
            top = parent.split(SEP)[-1]
            if top in seen:
                raise QualcodeError(f"{source}: the codebook has a cycle ({' → '.join(chain + [top])})")
            if SEP in parent:   # a path parent: take it literally
                chain.extend(reversed([named(p) for p in parent.split(SEP)]))
                break
            if parent not in by_name:
                raise QualcodeError(f"{source}: code {key!r} names an unknown parent {parent!r}")
            seen.add(parent)
            chain.append(parent)
            cur = by_name[parent]
        specs.append(_spec(e, SEP.join(reversed(chain)), source))
    specs.sort(key=lambda s: s.path.count(SEP))
    return specs


def _check_unique(specs: list[CodeSpec], source: str) -> None:
    seen = set()
    for s in specs:
        if s.path in seen:
            raise QualcodeError(f"{source}: the path {s.path!r} appears twice")
        seen.add(s.path)


# --- writing -------------------------------------------------------------------------------

def to_yaml(meta: dict, codes: list[dict]) -> str:
    import yaml

    def node(c):
        d = {"name": c["name"]}
        for k in ("color", "description", "when_to_use", "when_not_to_use", "examples", "keywords", "shortcut"):
            if c.get(k) not in (None, "", []):
                d[k] = c[k]
        kids = [node(k) for k in codes if k["parent_id"] == c["id"]]
        if kids:
            d["children"] = kids
        return d

    data = {**meta, "codes": [node(c) for c in codes if c["parent_id"] is None]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def guid(value: str) -> str:
    """A REFI GUID for one of our ids: our ids are uuid4 hex, so this is reversible."""
    try:
        return str(uuid.UUID(hex=value)).upper()
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "qualcode:" + value)).upper()


def to_qdc(codes: list[dict], origin: str = "qualcode") -> bytes:
    from xml.etree import ElementTree as ET

    ET.register_namespace("", QDC_NS)
    root = ET.Element(f"{{{QDC_NS}}}CodeBook", {"origin": origin})
    container = ET.SubElement(root, f"{{{QDC_NS}}}Codes")
    append_codes(container, codes, QDC_NS)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def append_codes(container, codes: list[dict], ns: str) -> None:
    """<Code> elements for a tree (shared by .qdc and .qdpx exports)."""
    from xml.etree import ElementTree as ET

    elements = {}
    for c in codes:   # tree order: parents first
        parent = elements.get(c["parent_id"], container)
        attrs = {"guid": guid(c["id"]), "name": c["name"], "isCodable": "true"}
        if c.get("color") and _COLOR.match(c["color"]):
            attrs["color"] = c["color"]
        el = ET.SubElement(parent, f"{{{ns}}}Code", attrs)
        desc = describe(c)
        if desc:
            # Description must come before child codes in the schema's sequence
            d = ET.Element(f"{{{ns}}}Description")
            d.text = desc
            el.insert(0, d)
        elements[c["id"]] = el


def describe(c: dict) -> str:
    """A code's definition and rules as one Description text (what other tools show)."""
    parts = [c.get("description") or ""]
    if c.get("when_to_use"):
        parts.append("When to use: " + c["when_to_use"])
    if c.get("when_not_to_use"):
        parts.append("When not to use: " + c["when_not_to_use"])
    if c.get("examples"):
        parts.append("Examples: " + " | ".join(c["examples"]))
    if c.get("keywords"):
        parts.append("Keywords: " + ", ".join(c["keywords"]))
    return "\n\n".join(p for p in parts if p).strip()


def parse_description(text: str | None) -> dict:
    """The inverse of describe(): split a Description back into our fields."""
    out = {"description": None, "when_to_use": None, "when_not_to_use": None, "examples": [], "keywords": []}
    if not text:
        return out
    rest = []
    for block in re.split(r"\n\s*\n", text.strip()):
        if block.startswith("When to use: "):
            out["when_to_use"] = block[len("When to use: "):]
        elif block.startswith("When not to use: "):
            out["when_not_to_use"] = block[len("When not to use: "):]
        elif block.startswith("Examples: "):
            out["examples"] = block[len("Examples: "):].split(" | ")
        elif block.startswith("Keywords: "):
            out["keywords"] = block[len("Keywords: "):].split(", ")
        else:
            rest.append(block)
    out["description"] = "\n\n".join(rest) or None
    return out


def load_qdc(data: bytes, source: str) -> tuple[dict, list[CodeSpec]]:
    from qualcode.ingest.zipped import local, parse_xml

    root = parse_xml(data, source)
    if local(root.tag) != "CodeBook":
        raise QualcodeError(f"{source} is not a REFI-QDA codebook (root element {local(root.tag)!r})")
    codes_el = next((el for el in root if local(el.tag) == "Codes"), None)
    specs: list[CodeSpec] = []
    if codes_el is not None:
        read_code_elements(codes_el, "", specs, source)
    _check_unique(specs, source)
    return {"name": root.get("origin")} if root.get("origin") else {}, specs


def read_code_elements(parent, prefix: str, out: list[CodeSpec], source: str) -> None:
    """<Code> elements (any namespace variant) into specs; shared with the .qdpx importer."""
    from qualcode.ingest.zipped import local

    for el in parent:
        if local(el.tag) != "Code":
            continue
        name = usable_code_name(el.get("name"))
        path = prefix + name
        desc_el = next((d for d in el if local(d.tag) == "Description"), None)
        fields = parse_description(desc_el.text if desc_el is not None else None)
        color = el.get("color")
        if color and not _COLOR.match(color):
            color = None
        raw = el.get("guid", "")
        try:
            gid = uuid.UUID(raw.strip("{}")).hex if raw else None
        except ValueError:
            gid = None
        out.append(CodeSpec(path=path, color=color, guid=gid, **fields))
        read_code_elements(el, path + SEP, out, source)


def to_csv(codes: list[dict]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["path", "name", "parent", "description", "when_to_use", "when_not_to_use", "examples",
                "keywords", "color", "shortcut", "codings"])
    for c in codes:
        w.writerow([c["path"], c["name"], c["parent"] or "", c["description"] or "", c["when_to_use"] or "",
                    c["when_not_to_use"] or "", " | ".join(c["examples"]), ", ".join(c["keywords"]),
                    c["color"] or "", c["shortcut"] or "", c.get("codings", 0)])
    return buf.getvalue()


def to_docx(meta: dict, codes: list[dict], target: Path) -> None:
    """The codebook as a Word document a team can print and discuss."""
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.add_heading(meta.get("name") or "Codebook", 0)
    if meta.get("description"):
        doc.add_paragraph(str(meta["description"]))
    for c in codes:
        doc.add_heading(c["path"].replace(SEP, " › "), min(1 + c.get("depth", 0), 4))
        for label, key in (("Definition", "description"), ("When to use", "when_to_use"),
                           ("When not to use", "when_not_to_use")):
            if c.get(key):
                p = doc.add_paragraph()
                p.add_run(label + ": ").bold = True
                p.add_run(c[key])
        for ex in c.get("examples", []):
            p = doc.add_paragraph(ex, style="Quote")
            for r in p.runs:
                r.font.size = Pt(10)
        if c.get("keywords"):
            p = doc.add_paragraph()
            p.add_run("Keywords: ").bold = True
            p.add_run(", ".join(c["keywords"]))
    doc.save(target)
