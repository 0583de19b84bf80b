"""Reading REFI-QDA sources: their text (a file in the archive, inline, or only a .docx), the
position convention each one is counted in, and its selections and codings.

A mixin of refi_import's reader, which holds the state these methods share: `root`, `source`
and `fetch` (the file), `inc` (the Incoming being filled), `codes` and `users` by GUID,
`sources`, `source_names`, `selection_owner`, `convention`/`origin` of the file, `counters`,
`carried` (our own round-trip note), and the helpers `note`, `bump`, `fresh`, `kid(s)`,
`_unique`, `_coder_for`, `_attach_note`, `_variable_value`.
The split follows the one seam in the reader: positions and text here, the project's catalogue
(users, codebook, notes, variables, cases, sets) there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from qualcode import text as textmod
from qualcode.errors import QualcodeError
from qualcode.export import refi_conventions as conventions
from qualcode.ingest.importer import ParsedDocument, check_text
from qualcode.ingest.zipped import local
from qualcode.merge import IncomingDocument, hex_id


class SourceReading:
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
        kept = self.carried.documents.get(h or "", {})
        pd = ParsedDocument(name=name, text=text,
                            source_name=kept.get("source_name") or PurePosixPath(path_ref.split("://")[-1]).name or name,
                            source_format=kept.get("source_format") or "txt", type=None, language="en",
                            attributes=attrs, speakers={}, turns=[])
        doc = IncomingDocument(doc_id, pd, created_at=el.get("creationDateTime"))
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
               "start": start, "end": end, "memo": "\n\n".join(dict.fromkeys(texts)) or None,
               "origin": self.carried.origin(hex_id(coding.get("guid"))),
               "created_at": created, "updated_at": modified}
        self.inc.codings.append(row)
        return row
