"""REFI-QDA import (.qdpx, .qde, .qdc), tolerant of what real tools write.

Reads into a merge.Incoming bundle; merge.apply_incoming writes it as one change. How each
tool counts positions is in refi_conventions. Besides that, seen in real files: sources in
`sources/` or `Sources/` or named bare, the XML named `<anything>.qde`, a source only as .docx,
and what the schema admits but means nothing (start > end, negative positions, references to
GUIDs that do not exist). Every position is converted exactly through qualcode.text.ForeignText;
what cannot be placed is dropped, and the report says so.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from qualcode import text as textmod
from qualcode.codebook import usable_code_name
from qualcode.codebook_files import parse_description
from qualcode.errors import QualcodeError
from qualcode.export import refi_conventions as conventions
from qualcode.export.refi import LANGUAGE_VARIABLE, SPEAKER_CASE, TYPE_VARIABLE
from qualcode.ingest.importer import ParsedDocument, check_text, segment_document
from qualcode.ingest.zipped import local, open_zip, parse_xml, read_member
from qualcode.merge import Incoming, IncomingDocument, hex_id

_LANG = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")


def read_refi(path: Path, default_coder: str = "imported") -> Incoming:
    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.is_dir():
        raise QualcodeError(f"{path} is a folder; name the .qdpx, .qde or .qdc file")
    suffix = path.suffix.lower()
    if suffix == ".qdpx":
        zf = open_zip(path, ".qdpx")
        with zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            qde = [n for n in names if n.lower().endswith(".qde")]
            qde.sort(key=lambda n: (n.count("/"), n.lower() != "project.qde", n))
            if not qde:
                raise QualcodeError(f"{path.name} holds no project.qde; it is not a REFI-QDA project")
            root = parse_xml(read_member(zf, qde[0], path.name), f"{path.name}:{qde[0]}")
            by_lower = {n.lower(): n for n in names}

            def fetch(member: str) -> bytes | None:
                for cand in (f"sources/{member}", member):
                    if cand.lower() in by_lower:
                        return read_member(zf, by_lower[cand.lower()], path.name)
                base = PurePosixPath(member).name.lower()
                hit = next((n for n in names if PurePosixPath(n).name.lower() == base), None)
                return read_member(zf, hit, path.name) if hit else None

            return _Reader(path.name, root, fetch, default_coder).read()
    if suffix in (".qde", ".qdc", ".xml"):
        data = path.read_bytes()
        root = parse_xml(data, path.name)
        folder = path.parent

        def fetch_file(member: str) -> bytes | None:
            base = PurePosixPath(member).name
            for sub in ("sources", "Sources", "."):
                cand = folder / sub / base
                if cand.is_file():
                    return cand.read_bytes()
            return None

        return _Reader(path.name, root, fetch_file, default_coder).read()
    raise QualcodeError(f"{path.name}: REFI-QDA files end in .qdpx, .qde or .qdc")


class _Reader:
    def __init__(self, source: str, root, fetch, default_coder: str):
        self.source, self.root, self.fetch = source, root, fetch
        self.inc = Incoming(source)
        self.default_coder = default_coder
        self.users: dict[str, str] = {}          # our coder id by GUID (hex)
        self.codes: dict[str, str] = {}          # our code id by GUID (hex)
        self.variables: dict[str, str] = {}      # name by GUID (hex)
        self.notes: dict[str, dict] = {}         # note by GUID (hex)
        self.used_notes: set[str] = set()
        self.sources: dict[str, IncomingDocument] = {}
        self.source_names: dict[str, str] = {}   # REFI source GUID -> name (also for skipped ones)
        self.selection_owner: dict[str, list[dict]] = {}
        self.ids: set[str] = set()
        self.convention = conventions.for_origin(root.get("origin"))
        self.origin = root.get("origin") or "an unnamed tool"
        self.counters: dict[str, int] = {}

    def note(self, message: str) -> None:
        self.inc.notes.append(message)

    def bump(self, key: str, n: int = 1) -> None:
        self.counters[key] = self.counters.get(key, 0) + n

    def fresh(self, guid_text: str | None) -> str:
        """Our id for a GUID: the GUID itself when usable and unused, else a new one."""
        h = hex_id(guid_text)
        if h is None or h in self.ids:
            h = uuid.uuid4().hex
        self.ids.add(h)
        return h

    def kids(self, el, name: str):
        return [c for c in el if local(c.tag) == name]

    def kid(self, el, name: str):
        return next((c for c in el if local(c.tag) == name), None)

    # ---------------------------------------------------------------------------------------
    def read(self) -> Incoming:
        kind = local(self.root.tag)
        if kind not in ("Project", "CodeBook"):
            raise QualcodeError(f"{self.source} is not a REFI-QDA file (root element {kind!r})")
        users = self.kid(self.root, "Users")
        for u in self.kids(users, "User") if users is not None else []:
            self._user(u.get("guid"), u.get("name") or u.get("id"))
        if kind == "Project":      # notes first: codes, sources and codings refer to them
            self._variables()
            self._notes()
        book = self.root if kind == "CodeBook" else self.kid(self.root, "CodeBook")
        codes = self.kid(book, "Codes") if book is not None else None
        if codes is not None:
            self._codes(codes, None, set())
        if self.counters.get("folders"):
            self.note(f"{self.counters['folders']} code(s) were folders (isCodable=false) in {self.source}; "
                      "in qualcode every code can be applied")
        if kind == "Project":
            self._sources()
            self._cases()
            self._project_notes()
        sets = self.kid(self.root, "Sets") if kind == "Project" else self.kid(book, "Sets")
        if sets is not None:
            self._sets(sets)
        self._finish()
        return self.inc

    def _user(self, guid_text: str | None, name: str | None) -> str:
        h = hex_id(guid_text)
        if h and h in self.users:
            return self.users[h]
        cid = self.fresh(guid_text)
        name = (name or "").strip() or f"user-{cid[:8]}"
        taken = {c["name"] for c in self.inc.coders}
        if name in taken:
            name = f"{name}-{cid[:4]}"
        self.inc.coders.append({"id": cid, "name": name})
        if h:
            self.users[h] = cid
        return cid

    def _coder_for(self, *guids: str | None) -> str:
        for g in guids:
            h = hex_id(g)
            if h:
                if h not in self.users:
                    self.bump("unknown users")
                    return self._user(g, None)
                return self.users[h]
        self.bump("no user")
        for c in self.inc.coders:
            if c["name"] == self.default_coder:
                return c["id"]
        return self._user(None, self.default_coder)

    # codes ---------------------------------------------------------------------------------
    def _unique(self, name: str, names: set[str], what: str, where: str = "") -> str:
        """`name`, or `name (2)`, `name (3)`… when taken; the rename is noted in the report."""
        if name in names:
            n = 2
            while f"{name} ({n})" in names:
                n += 1
            self.note(f"two {what} named {name!r}{where}; the second is {name} ({n})")
            name = f"{name} ({n})"
        names.add(name)
        return name

    def _codes(self, parent_el, parent_id: str | None, names: set[str]) -> None:
        position = 0
        for el in self.kids(parent_el, "Code"):
            name = self._unique(usable_code_name(el.get("name")), names, "codes", " under the same parent")
            if hex_id(el.get("guid")) is None:
                self.bump("code without guid")
            cid = self.fresh(el.get("guid"))
            h = hex_id(el.get("guid"))
            if h:
                self.codes.setdefault(h, cid)
            if (el.get("isCodable") or "true").lower() == "false":
                self.bump("folders")
            desc = self.kid(el, "Description")
            fields = parse_description(desc.text if desc is not None else None)
            self.inc.codes.append({"id": cid, "parent_id": parent_id, "name": name, "position": position,
                                   "color": self._color(el.get("color"), name), **fields})
            for ref in self.kids(el, "NoteRef"):
                self._attach_note(ref, "code", cid)
            position += 1
            self._codes(el, cid, set())

    def _color(self, value: str | None, name: str) -> str | None:
        color = conventions.parse_color(value)
        if value and color is None:
            self.note(f"code {name!r}: colour {value!r} not understood; it gets a default colour")
        return color

    # variables and notes -------------------------------------------------------------------
    def _variables(self) -> None:
        holder = self.kid(self.root, "Variables")
        for v in self.kids(holder, "Variable") if holder is not None else []:
            h = hex_id(v.get("guid"))
            if h:
                self.variables[h] = (v.get("name") or "").strip() or f"variable-{h[:6]}"

    def _notes(self) -> None:
        holder = self.kid(self.root, "Notes")
        for n in self.kids(holder, "Note") if holder is not None else []:
            h = hex_id(n.get("guid"))
            content = self.kid(n, "PlainTextContent")
            text = content.text if content is not None and content.text else None
            if text is None and n.get("plainTextPath"):
                data = self._file(n.get("plainTextPath"))
                text = self._decode(data, n.get("name") or "a note") if data else None
            if h is None or not (text or "").strip():
                self.bump("empty notes")
                continue
            self.notes[h] = {"text": textmod.normalise(text).strip(), "title": n.get("name") or None,
                             "user": n.get("creatingUser"), "created": n.get("creationDateTime"),
                             "modified": n.get("modifiedDateTime") or n.get("creationDateTime"), "guid": h}

    def _attach_note(self, ref, target_type: str, target_id: str | None) -> str | None:
        """A NoteRef becomes a memo on its target; returns the note's text for coding memos."""
        h = hex_id(ref.get("targetGUID"))
        n = self.notes.get(h) if h else None
        if n is None:
            self.bump("missing notes")
            return None
        first_use = h not in self.used_notes
        self.used_notes.add(h)
        if target_type == "coding":
            return n["text"]
        self.inc.memos.append({"id": h if first_use else uuid.uuid4().hex, "target_type": target_type,
                               "target_id": target_id, "coder_id": self._coder_for(n["user"]) if n["user"] else None,
                               "title": n["title"], "text": n["text"], "created_at": n["created"],
                               "updated_at": n["modified"]})
        return n["text"]

    def _project_notes(self) -> None:
        for ref in self.kids(self.root, "NoteRef"):
            self._attach_note(ref, "project", None)
        for h, n in self.notes.items():      # free-standing notes are project memos
            if h not in self.used_notes:
                self.used_notes.add(h)
                self.inc.memos.append({"id": h, "target_type": "project", "target_id": None,
                                       "coder_id": self._coder_for(n["user"]) if n["user"] else None,
                                       "title": n["title"], "text": n["text"], "created_at": n["created"],
                                       "updated_at": n["modified"]})

    # sources -------------------------------------------------------------------------------
    def _file(self, ref: str | None) -> bytes | None:
        if not ref:
            return None
        if ref.startswith("internal://"):
            return self.fetch(ref[len("internal://"):])
        if "://" in ref:           # relative:// and absolute:// point outside the file: not read
            return None
        return self.fetch(ref)      # seen in the wild: a bare file name

    def _decode(self, data: bytes, name: str) -> str | None:
        from qualcode.ingest.plaintext import decode
        if not data.strip():
            return None
        try:
            return data.decode("utf-8-sig") if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else decode(data, name)[0]
        except UnicodeDecodeError:
            try:
                return decode(data, name)[0]
            except QualcodeError:
                return None

    def _docx_text(self, data: bytes) -> str | None:
        from qualcode.ingest.officedocs import read_docx
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "source.docx"
            p.write_bytes(data)
            try:
                return read_docx(p)
            except QualcodeError:
                return None

    def _sources(self) -> None:
        holder = self.kid(self.root, "Sources")
        if holder is None:
            return
        names: set[str] = set()
        for el in holder:
            kind = local(el.tag)
            if kind == "TextSource":
                self._text_source(el, el.get("name"), names)
            elif kind == "PDFSource" and self.kid(el, "Representation") is not None:
                rep = self.kid(el, "Representation")
                self.source_names[hex_id(el.get("guid")) or ""] = el.get("name") or ""
                if self.kids(el, "PDFSelection"):
                    self.note(f"PDF source {el.get('name')!r}: area selections on pages were dropped "
                              "(its text representation was imported)")
                self._text_source(rep, el.get("name") or rep.get("name"), names, alias=el.get("guid"))
            elif kind in ("PictureSource", "AudioSource", "VideoSource", "PDFSource"):
                self.bump(f"{kind[:-6].lower()} sources")
        for key in ("picture sources", "audio sources", "video sources", "pdf sources"):
            if self.counters.get(key):
                self.note(f"{self.counters[key]} {key} (and their codings) were not imported: qualcode codes text")

    def _text_source(self, el, name: str | None, names: set[str], alias: str | None = None) -> None:
        path_ref = el.get("plainTextPath") or ""
        name = (name or "").strip() or PurePosixPath(path_ref.split("://")[-1]).stem or f"Source {len(names) + 1}"
        name = "".join(ch for ch in name if ord(ch) >= 32 and ord(ch) != 0x7F)
        h = hex_id(el.get("guid"))
        if h:
            self.source_names[h] = name
        if alias and hex_id(alias):
            self.source_names[hex_id(alias)] = name
        content = self.kid(el, "PlainTextContent")
        raw, from_docx, found = None, False, False
        if content is not None and content.text:
            raw, found = content.text, True
        elif path_ref:
            data = self._file(path_ref)
            found = data is not None
            raw = self._decode(data, name) if data else None
        if (raw is None or not raw.strip()) and el.get("richTextPath", "").lower().endswith(".docx"):
            data = self._file(el.get("richTextPath"))
            found = found or data is not None
            raw = self._docx_text(data) if data else None
            from_docx = raw is not None and bool(raw.strip())
        selections = self.kids(el, "PlainTextSelection")
        n_codings = sum(len(self.kids(s, "Coding")) for s in selections) + len(self.kids(el, "Coding"))
        if raw is None or not raw.strip():
            where = "it has no text" if found or not (path_ref or el.get("richTextPath")) else \
                f"its text ({(path_ref or el.get('richTextPath')).split('://')[-1]}) is not in {self.source}"
            if path_ref.startswith(("relative://", "absolute://")):
                where = "its text is an external file, which qualcode does not read from a project file"
            self.note(f"source {name!r} skipped: {where}" + (f"; its {n_codings} coding(s) dropped" if n_codings else ""))
            return
        if "\x00" in raw:
            self.note(f"source {name!r} skipped: it contains NUL characters")
            return
        check_text(raw, f"{self.source}: source {name!r}")
        if from_docx:
            self.note(f"source {name!r}: no plain text in the file, text taken from its .docx; "
                      "check that its codings land where intended")
        name = self._unique(name, names, "sources")
        foreign = self._convention(raw, name, selections)
        text = foreign.text
        attrs: dict[str, str] = {}
        desc = self.kid(el, "Description")
        if desc is not None and (desc.text or "").strip():
            attrs["description"] = desc.text.strip()
        for vv in self.kids(el, "VariableValue"):
            k, v = self._variable_value(vv)
            if k:
                attrs[k] = v
        doc_id = self.fresh(el.get("guid"))
        pd = ParsedDocument(name=name, text=text, source_name=PurePosixPath(path_ref.split("://")[-1]).name or name,
                            source_format="txt", type=None, language="en", attributes=attrs, speakers={}, turns=[])
        doc = IncomingDocument(doc_id, pd)
        self.inc.documents.append(doc)
        for key in (h, hex_id(alias)):
            if key:
                self.sources[key] = doc
        for ref in self.kids(el, "NoteRef"):
            self._attach_note(ref, "document", doc_id)
        for sel in selections:
            self._selection(sel, foreign, doc)
        for coding in self.kids(el, "Coding"):       # a whole-document coding
            self._coding(coding, doc, 0, len(text), None, [])

    def _convention(self, raw: str, name: str, selections) -> textmod.ForeignText:
        """The position convention for this source: the tool's, unless its spans say otherwise."""
        spans = []
        for s in selections:
            try:
                spans.append((int(s.get("startPosition")), int(s.get("endPosition"))))
            except (TypeError, ValueError):
                continue
        best = conventions.choose(raw, spans, self.convention)
        used = (best.unit, best.crlf_as_one)
        body = raw[1:] if raw.startswith("\ufeff") else raw
        if used != self.convention:
            self.note(f"source {name!r}: positions read as {conventions.describe(*used)} "
                      f"(they do not fit how {self.origin} usually counts)")
        elif "\r\n" in body or any(ord(ch) > 0xFFFF for ch in body):
            self.bump(f"convention:{best.unit}:{best.crlf_as_one}")
        return best

    def _selection(self, sel, foreign: textmod.ForeignText, doc: IncomingDocument) -> None:
        codings = self.kids(sel, "Coding")
        sel_guid = hex_id(sel.get("guid"))
        if not codings:
            if sel_guid:
                self.selection_owner[sel_guid] = []
            return
        try:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        except (TypeError, ValueError):
            self.bump("unreadable positions", len(codings))
            return
        if start > end:
            start, end = end, start
            self.bump("swapped")
        span = foreign.span(start, end)
        if span is None:
            self.bump("out of range", len(codings))
            self.inc.notes.append(f"{doc.parsed.name}: selection {start}–{end} lies outside the text "
                                  f"({foreign.length} {conventions.UNIT_WORDS[foreign.unit]}); its {len(codings)} coding(s) dropped")
            return
        s, e, exact = span
        if not exact:
            self.bump("snapped", len(codings))
        memos = [n for n in (self._attach_note(r, "coding", None) for r in self.kids(sel, "NoteRef")) if n]
        desc = self.kid(sel, "Description")
        if desc is not None and (desc.text or "").strip():
            memos.append(desc.text.strip())
        made = []
        for coding in codings:
            made.append(self._coding(coding, doc, s, e, sel, memos))
        if sel_guid:
            self.selection_owner[sel_guid] = [m for m in made if m]

    def _coding(self, coding, doc: IncomingDocument, start: int, end: int, sel, memos: list[str]) -> dict | None:
        ref = self.kid(coding, "CodeRef")
        code_h = hex_id(ref.get("targetGUID")) if ref is not None else None
        code_id = self.codes.get(code_h) if code_h else None
        if code_id is None:
            self.bump("unknown code")
            return None
        texts = list(memos) + [n for n in (self._attach_note(r, "coding", None) for r in self.kids(coding, "NoteRef")) if n]
        coder = self._coder_for(coding.get("creatingUser"), sel.get("creatingUser") if sel is not None else None)
        created = coding.get("creationDateTime") or (sel.get("creationDateTime") if sel is not None else None)
        modified = (sel.get("modifiedDateTime") if sel is not None else None) or created
        row = {"id": self.fresh(coding.get("guid")), "document_id": doc.id, "code_id": code_id, "coder_id": coder,
               "start": start, "end": end, "memo": "\n\n".join(dict.fromkeys(texts)) or None, "origin": "import",
               "created_at": created, "updated_at": modified}
        self.inc.codings.append(row)
        return row

    # cases ---------------------------------------------------------------------------------
    def _variable_value(self, vv) -> tuple[str | None, str]:
        ref = self.kid(vv, "VariableRef")
        h = hex_id(ref.get("targetGUID")) if ref is not None else None
        name = self.variables.get(h) if h else None
        if name is None:
            self.bump("unknown variables")
            return None, ""
        value = next((c.text or "" for c in vv if local(c.tag).endswith("Value")), "")
        return name, value.strip()

    def _cases(self) -> None:
        holder = self.kid(self.root, "Cases")
        assigned: dict[str, dict[str, str]] = {}
        for case in self.kids(holder, "Case") if holder is not None else []:
            name = (case.get("name") or "").strip()
            values = {}
            for vv in self.kids(case, "VariableValue"):
                k, v = self._variable_value(vv)
                if k:
                    values[k] = v
            docs = [self.sources[h] for h in (hex_id(r.get("targetGUID")) for r in self.kids(case, "SourceRef"))
                    if h in self.sources]
            if not docs and self.kids(case, "SelectionRef"):
                for r in self.kids(case, "SelectionRef"):
                    for c in self.selection_owner.get(hex_id(r.get("targetGUID")) or "", []):
                        d = next((d for d in self.inc.documents if d.id == c["document_id"]), None)
                        if d and d not in docs:
                            docs.append(d)
                if docs:
                    self.note(f"case {name!r} covers parts of documents; its variables were given to the "
                              "whole documents")
            if not docs:
                if values or name:
                    self.bump("cases without sources")
                continue
            desc = self.kid(case, "Description")
            description = (desc.text or "").strip() if desc is not None else ""
            for doc in docs:
                if description == SPEAKER_CASE + doc.parsed.name and name:
                    doc.parsed.speakers[name] = values
                    continue
                target = assigned.setdefault(doc.id, {})
                if name and name != doc.parsed.name:
                    values = {"case": name, **values}
                for k, v in values.items():
                    if k == TYPE_VARIABLE:
                        doc.parsed.type = v or None
                    elif k == LANGUAGE_VARIABLE and _LANG.match(v or ""):
                        doc.parsed.language = v
                    else:
                        if k.endswith(" (attribute)") and k[:-12] in (TYPE_VARIABLE, LANGUAGE_VARIABLE):
                            k = k[:-12]
                        if k in target and target[k] != v:
                            if k == "case":
                                v = f"{target[k]}, {v}"
                            else:
                                self.note(f"{doc.parsed.name}: two cases give {k} different values "
                                          f"({target[k]!r}, {v!r}); kept the first")
                                continue
                        target[k] = v
                        doc.parsed.attributes[k] = v

    # sets ----------------------------------------------------------------------------------
    def _sets(self, holder) -> None:
        for s in self.kids(holder, "Set"):
            name = (s.get("name") or "").strip()
            if not name:
                continue
            desc = self.kid(s, "Description")
            members = []
            for m in self.kids(s, "MemberCode"):
                h = hex_id(m.get("targetGUID"))
                if h in self.codes:
                    members.append(("code", self.codes[h]))
            for m in self.kids(s, "MemberSource"):
                h = hex_id(m.get("targetGUID"))
                if h in self.sources:
                    members.append(("document", self.sources[h].id))
            self.inc.sets.append({"id": self.fresh(s.get("guid")), "name": name,
                                  "description": (desc.text or "").strip() or None if desc is not None else None,
                                  "members": members})

    # finishing -----------------------------------------------------------------------------
    def _finish(self) -> None:
        from qualcode.ingest import turns as turnmod

        for doc in self.inc.documents:
            pd = doc.parsed
            legend = pd.speakers
            turns = turnmod.find_turns(pd.text, list(legend))
            speakers: dict[str, dict[str, str]] = {}
            for t in turns:
                if t.label is None:
                    continue
                t.label = turnmod.resolve_label(t.label, legend)
                speakers[t.label] = {**t.details, **speakers.get(t.label, {}), **legend.get(t.label, {})}
            for label, a in legend.items():
                speakers.setdefault(label, dict(a))
            pd.turns, pd.speakers = turns, speakers
            segment_document(pd)
        c = self.counters
        messages = {
            "swapped": "selection(s) had start after end; read the other way round",
            "snapped": "coding(s) started or ended inside a character; widened to whole characters",
            "unknown code": "coding(s) referred to a code not in the file; dropped",
            "unknown users": "user reference(s) named no user in the file; each became a coder of its own",
            "no user": f"coding(s) or memo(s) named no user; given to {self.default_coder!r}",
            "missing notes": "note reference(s) named no note in the file; ignored",
            "unknown variables": "variable value(s) named no variable in the file; ignored",
            "cases without sources": "case(s) refer to no imported source; their variables were not imported",
            "unreadable positions": "coding(s) had unreadable positions; dropped",
            "code without guid": "code(s) had no valid GUID; given new ids",
        }
        for key, text in messages.items():
            if c.get(key):
                self.note(f"{c[key]} {text}")
        for key, n in c.items():
            if key.startswith("convention:"):
                _, unit, one = key.split(":")
                self.note(f"positions of {n} source(s) read as {conventions.describe(unit, one == 'True')}, "
                          f"as {self.origin} counts them")
