"""REFI-QDA project export: a .qdpx (project.qde + sources/) that NVivo, ATLAS.ti, MAXQDA and
QualCoder can open, valid against the REFI Project schema (mrt2019).

What goes where:
  coders → Users; codes → CodeBook (colour; definition, rules, examples and keywords in the
  Description); documents → TextSource with sources/<guid>.txt (UTF-8, no BOM); codings →
  one PlainTextSelection each, positions in Unicode code points; memos → Notes (on a document,
  code, coding or the project, by NoteRef); document attributes, type and language →
  Variables and one Case per document; speakers with their attributes → one Case each
  ("Speaker in <document>"); sets → Sets. What REFI-QDA has no place for (favourite keys, each
  coding's origin, original file names, creation times, definitions the Description text cannot
  give back exactly) goes in one Note of our own: refi_roundtrip.

GUIDs: ours are uuid4 hex, so an object's GUID is its id (codebook_files.guid) and a round trip
keeps every id. Objects without an id of their own (a coding's selection, a document's case,
a variable) get a uuid5 derived from the id they belong to, so exporting twice gives the same file.
"""

from __future__ import annotations

import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from qualcode import __version__
from qualcode.codebook_files import append_codes, guid
from qualcode.export import refi_roundtrip
from qualcode.store.project import Project

NS = "urn:QDA-XML:project:1.0"
SPEAKER_CASE = "Speaker in "       # a Case whose Description is this + a document name is a speaker
TYPE_VARIABLE, LANGUAGE_VARIABLE = "type", "language"
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)   # zip member times: the same project gives the same bytes


def derived_guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qualcode:{kind}:{key}")).upper()


def _el(parent, tag: str, attrs: dict | None = None, text: str | None = None):
    el = ET.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in (attrs or {}).items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _stamp(ts: str | None) -> str | None:
    """Our timestamps are ISO 8601 with offset, which xsd:dateTime accepts as they are."""
    return ts if ts and "T" in ts else None


def build(project: Project, name: str | None = None) -> tuple[bytes, dict[str, bytes], dict]:
    """(project.qde bytes, {member path: bytes} for sources/, counts)."""
    from qualcode.codebook import all_codes

    ET.register_namespace("", NS)
    coder_rows = [dict(r) for r in project.query("SELECT id, name, created_at FROM coders ORDER BY created_at, name")]
    coders = {r["id"]: r["name"] for r in coder_rows}
    current = project.setting("coder")
    first = project.one("SELECT ts FROM events ORDER BY seq LIMIT 1")
    last = project.one("SELECT ts FROM events ORDER BY seq DESC LIMIT 1")
    root = ET.Element(f"{{{NS}}}Project", {"name": name or project.path.stem, "origin": f"qualcode {__version__}"})
    owner = next((i for i, n in coders.items() if n == current), next(iter(coders), None))
    if owner:
        root.set("creatingUserGUID", guid(owner))
        root.set("modifyingUserGUID", guid(owner))
    if first:
        root.set("creationDateTime", first["ts"])
        root.set("modifiedDateTime", last["ts"])

    memos = [dict(r) for r in project.query("SELECT * FROM memos ORDER BY created_at, id")]
    memos_by_target: dict[tuple, list[dict]] = {}
    for m in memos:
        memos_by_target.setdefault((m["target_type"], m["target_id"]), []).append(m)
    notes: list[ET.Element] = []

    def note(guid_: str, text: str, title: str | None, coder_id: str | None, created: str | None,
             modified: str | None) -> str:
        n = ET.Element(f"{{{NS}}}Note", {"guid": guid_, **({"name": title} if title else {})})
        if coder_id in coders:
            n.set("creatingUser", guid(coder_id))
            n.set("modifyingUser", guid(coder_id))
        if _stamp(created):
            n.set("creationDateTime", created)
        if _stamp(modified):
            n.set("modifiedDateTime", modified)
        _el(n, "PlainTextContent", text=text)
        notes.append(n)
        return guid_

    def note_refs(parent, target_type: str, target_id: str | None) -> None:
        for m in memos_by_target.get((target_type, target_id), []):
            _el(parent, "NoteRef", {"targetGUID": note(guid(m["id"]), m["text"], m["title"], m["coder_id"],
                                                        m["created_at"], m["updated_at"])})

    if coders:
        users = _el(root, "Users")
        for cid, cname in coders.items():
            _el(users, "User", {"guid": guid(cid), "name": cname})

    codes = all_codes(project)
    if codes:
        book = _el(root, "CodeBook")
        container = _el(book, "Codes")
        append_codes(container, codes, NS)
        elements = {el.get("guid"): el for el in container.iter(f"{{{NS}}}Code")}
        for c in codes:
            el = elements[guid(c["id"])]
            at = 1 if len(el) and el[0].tag == f"{{{NS}}}Description" else 0
            holder = ET.Element("holder")
            note_refs(holder, "code", c["id"])
            for i, ref in enumerate(list(holder)):
                el.insert(at + i, ref)

    docs = [dict(r) for r in project.query("SELECT * FROM documents ORDER BY position, name")]
    attrs: dict[str, dict[str, str]] = {}
    for r in project.query("SELECT document_id, key, value FROM document_attributes ORDER BY rowid"):
        attrs.setdefault(r["document_id"], {})[r["key"]] = r["value"]
    speakers: dict[str, list[tuple[str, dict]]] = {}
    sp_attrs: dict[str, dict] = {}
    for r in project.query("SELECT a.speaker_id, a.key, a.value FROM speaker_attributes a ORDER BY a.rowid"):
        sp_attrs.setdefault(r["speaker_id"], {})[r["key"]] = r["value"]
    for r in project.query("SELECT id, document_id, label FROM speakers ORDER BY rowid"):
        speakers.setdefault(r["document_id"], []).append((r["label"], sp_attrs.get(r["id"], {})))

    # Variables: the document columns first, then every attribute key (documents' and speakers')
    def doc_values(d) -> dict[str, str]:
        out = {}
        if d["type"]:
            out[TYPE_VARIABLE] = d["type"]
        out[LANGUAGE_VARIABLE] = d["language"]
        for k, v in attrs.get(d["id"], {}).items():
            out[k if k not in (TYPE_VARIABLE, LANGUAGE_VARIABLE) else f"{k} (attribute)"] = v
        return out

    values = {d["id"]: doc_values(d) for d in docs}
    keys: list[str] = []
    for v in values.values():
        keys.extend(k for k in v if k not in keys)
    for lst in speakers.values():
        for _, a in lst:
            keys.extend(k for k in a if k not in keys)
    if keys:
        variables = _el(root, "Variables")
        for k in keys:
            _el(variables, "Variable", {"guid": derived_guid("variable", k), "name": k, "typeOfVariable": "Text"})

    def case(parent, case_guid: str, case_name: str, description: str | None, vals: dict, source_guid: str):
        c = _el(parent, "Case", {"guid": case_guid, "name": case_name})
        if description:
            _el(c, "Description", text=description)
        for k, v in vals.items():
            vv = _el(c, "VariableValue")
            _el(vv, "VariableRef", {"targetGUID": derived_guid("variable", k)})
            _el(vv, "TextValue", text="" if v is None else str(v))
        _el(c, "SourceRef", {"targetGUID": source_guid})

    if docs:
        cases = _el(root, "Cases")
        for d in docs:
            case(cases, derived_guid("case", d["id"]), d["name"], None, values[d["id"]], guid(d["id"]))
            for label, a in speakers.get(d["id"], []):
                case(cases, derived_guid("speaker", f"{d['id']}:{label}"), label, SPEAKER_CASE + d["name"], a,
                     guid(d["id"]))

    files: dict[str, bytes] = {}
    codings = [dict(r) for r in project.query("SELECT * FROM codings ORDER BY document_id, start, \"end\", id")]
    by_doc: dict[str, list[dict]] = {}
    for c in codings:
        by_doc.setdefault(c["document_id"], []).append(c)
    if docs:
        sources = _el(root, "Sources")
        for d in docs:
            g = guid(d["id"])
            src = _el(sources, "TextSource", {"guid": g, "name": d["name"], "plainTextPath": f"internal://{g}.txt",
                                              "creationDateTime": _stamp(d["imported_at"])})
            files[f"sources/{g}.txt"] = d["text"].encode("utf-8")
            for c in by_doc.get(d["id"], []):
                user = guid(c["coder_id"]) if c["coder_id"] in coders else None
                sel = _el(src, "PlainTextSelection", {
                    "guid": derived_guid("selection", c["id"]), "name": d["text"][c["start"]:c["end"]][:60],
                    "startPosition": c["start"], "endPosition": c["end"], "creatingUser": user,
                    "creationDateTime": _stamp(c["created_at"]), "modifyingUser": user,
                    "modifiedDateTime": _stamp(c["updated_at"])})
                coding = _el(sel, "Coding", {"guid": guid(c["id"]), "creatingUser": user,
                                             "creationDateTime": _stamp(c["created_at"])})
                _el(coding, "CodeRef", {"targetGUID": guid(c["code_id"])})
                if c["memo"]:
                    _el(coding, "NoteRef", {"targetGUID": note(derived_guid("memo", c["id"]), c["memo"], "Coding memo",
                                                                c["coder_id"], c["created_at"], c["updated_at"])})
            note_refs(src, "document", d["id"])

    project_refs = ET.Element("holder")
    note_refs(project_refs, "project", None)
    carried = refi_roundtrip.payload(coder_rows, codes, docs, codings)
    if carried:
        note(derived_guid("roundtrip", "project"), refi_roundtrip.note_text(carried), refi_roundtrip.NOTE_NAME,
             None, None, None)
    if notes:
        holder = _el(root, "Notes")
        holder.extend(notes)

    sets = [dict(r) for r in project.query("SELECT * FROM sets ORDER BY name")]
    if sets:
        members: dict[str, list] = {}
        for m in project.query("SELECT * FROM set_members ORDER BY rowid"):
            members.setdefault(m["set_id"], []).append(m)
        sets_el = _el(root, "Sets")
        for s in sets:
            el = _el(sets_el, "Set", {"guid": guid(s["id"]), "name": s["name"]})
            if s["description"]:
                _el(el, "Description", text=s["description"])
            for m in members.get(s["id"], []):
                if m["code_id"]:
                    _el(el, "MemberCode", {"targetGUID": guid(m["code_id"])})
            for m in members.get(s["id"], []):
                if m["document_id"]:
                    _el(el, "MemberSource", {"targetGUID": guid(m["document_id"])})

    root.extend(list(project_refs))   # the schema puts the project's own NoteRefs last

    counts = {"documents": len(docs), "codes": len(codes), "codings": len(codings), "coders": len(coders),
              "memos": len(memos) + sum(1 for c in codings if c["memo"]), "sets": len(sets)}
    xml = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return xml, files, counts


def export_qdpx(project: Project, target: Path) -> dict:
    """Write the project as a .qdpx; returns counts of what it holds."""
    xml, files, counts = build(project)
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in [("project.qde", xml), *sorted(files.items())]:
            info = zipfile.ZipInfo(member, _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp.replace(target)
    return counts
