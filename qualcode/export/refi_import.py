"""REFI-QDA import (.qdpx, .qde, .qdc), tolerant of what real tools write.

Reads into a merge.Incoming bundle; merge.apply_incoming writes it as one change. How each
tool counts positions is in refi_conventions. Besides that, seen in real files: sources in
`sources/` or `Sources/` or named bare, the XML named `<anything>.qde`, a source only as .docx,
and what the schema admits but means nothing (start > end, negative positions, references to
GUIDs that do not exist). Every position is converted exactly through qualcode.text.ForeignText;
what cannot be placed is dropped, and the report says so.

Sources, selections and codings are read in refi_sources (a mixin of the reader below); what a
file exported by qualcode carries for itself (favourite keys, coding origins…) in refi_roundtrip.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path, PurePosixPath

from qualcode import text as textmod
from qualcode.codebook import usable_code_name
from qualcode.codebook_files import parse_description
from qualcode.errors import QualcodeError
from qualcode.export import refi_conventions as conventions
from qualcode.export import refi_roundtrip as roundtrip
from qualcode.export.refi import LANGUAGE_VARIABLE, SPEAKER_CASE, TYPE_VARIABLE
from qualcode.export.refi_sources import SourceReading
from qualcode.ingest.importer import segment_document
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


class _Reader(SourceReading):
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
        self.carried = roundtrip.Carried()       # empty unless the file holds our round-trip note
        self.own_notes: set[str] = set()         # GUIDs of those notes: not memos

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
        if kind == "Project":      # before everything it speaks about
            self._roundtrip()
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
        self.inc.coders.append({"id": cid, "name": name, **({"created_at": self.carried.coders[h]}
                                                            if h in self.carried.coders else {})})
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
            text = desc.text if desc is not None else None
            fields = self.carried.code_fields(h, text, parse_description(text))
            extra = {k: v for k, v in self.carried.codes.get(h or "", {}).items() if k in ("shortcut", "created_at")}
            self.inc.codes.append({"id": cid, "parent_id": parent_id, "name": name, "position": position,
                                   "color": self._color(el.get("color"), name), **fields, **extra})
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

    def _note_text(self, n) -> str | None:
        content = self.kid(n, "PlainTextContent")
        text = content.text if content is not None and content.text else None
        if text is None and n.get("plainTextPath"):
            data = self._file(n.get("plainTextPath"))
            text = self._decode(data, n.get("name") or "a note") if data else None
        return text

    def _roundtrip(self) -> None:
        """Our own note, if a qualcode export wrote one: read it, and keep it out of the memos."""
        holder = self.kid(self.root, "Notes")
        found = False
        for n in self.kids(holder, "Note") if holder is not None else []:
            text = self._note_text(n)
            if not roundtrip.is_ours(text):
                continue
            self.own_notes.add(hex_id(n.get("guid")) or "")
            carried = None if found else roundtrip.parse(text, hex_id)
            if carried is not None:
                self.carried, found = carried, True
        if self.own_notes and not found:
            self.note(f"the note {roundtrip.NOTE_NAME!r} in {self.source} could not be read (was it edited?); "
                      "favourite keys, coding origins and original file names were not restored")

    def _notes(self) -> None:
        holder = self.kid(self.root, "Notes")
        for n in self.kids(holder, "Note") if holder is not None else []:
            h = hex_id(n.get("guid"))
            if h in self.own_notes:
                continue
            text = self._note_text(n)
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
        if h in self.own_notes:
            return None
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
