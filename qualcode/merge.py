"""Bringing another project's work into this one: REFI-QDA and Taguette imports, team merges.

Every reader (a .qdpx, a Taguette database, another qualcode project) produces an `Incoming`
bundle in our terms: coders, codes, documents, codings, memos, sets, plus notes on what it
had to drop or repair. `apply_incoming` checks all of it against the project first and then
writes it in one change, so undo reverts the whole import and a refused file changes nothing.

Matching is by id first (a coder's, a code's, a document's, a coding's): that is what lets two
coders who started from the same project merge without duplicates. Codes also match by path,
documents by name or identical text, coders by name. When both sides hold the same thing
differently, ours is kept and the difference is reported as a conflict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from qualcode import text as textmod
from qualcode.codebook import PALETTE, SEP
from qualcode.errors import QualcodeError
from qualcode.ingest.importer import ParsedDocument
from qualcode.store.project import Project, new_id, now

_HEX32 = re.compile(r"^[0-9a-f]{32}$")
CODE_FIELDS = ("description", "when_to_use", "when_not_to_use", "examples", "keywords", "color")


@dataclass
class IncomingDocument:
    id: str
    parsed: ParsedDocument
    created_at: str | None = None      # when it came into its project; becomes our imported_at


@dataclass
class Incoming:
    """One file's content in our terms. Rows use the incoming ids; merging maps them to ours.

    codes: parents first; id, parent_id, name, CODE_FIELDS, shortcut, position.
    codings: id, document_id, code_id, coder_id, start, end, memo, origin, created_at, updated_at.
    memos: id, target_type, target_id, coder_id, title, text, created_at, updated_at.
    sets: id, name, description, members [("document" | "code", id)].
    """
    source: str                                              # file name, for messages
    coders: list[dict] = field(default_factory=list)         # id, name
    codes: list[dict] = field(default_factory=list)
    documents: list[IncomingDocument] = field(default_factory=list)
    codings: list[dict] = field(default_factory=list)
    memos: list[dict] = field(default_factory=list)
    sets: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)           # what the reader dropped or repaired


@dataclass
class MergeReport:
    source: str
    added: dict[str, int] = field(default_factory=dict)
    matched: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)       # names of documents added

    def count(self, bucket: str, kind: str, n: int = 1) -> None:
        d = getattr(self, bucket)
        d[kind] = d.get(kind, 0) + n

    def as_dict(self) -> dict:
        return {"source": self.source, "added": self.added, "matched": self.matched,
                "conflicts": self.conflicts, "notes": self.notes, "documents": self.documents}

    def lines(self) -> list[str]:
        kinds = ("documents", "codes", "coders", "codings", "memos", "attributes", "sets")
        added = ", ".join(f"{self.added[k]} {k}" for k in kinds if self.added.get(k))
        matched = ", ".join(f"{self.matched[k]} {k}" for k in kinds if self.matched.get(k))
        out = [f"{self.source}: added {added or 'nothing new'}" + (f"; already here: {matched}" if matched else "")]
        out += [f"conflict: {c}" for c in self.conflicts]
        out += [f"note: {n}" for n in self.notes]
        return out


def hex_id(value: str | None) -> str | None:
    """Our id for a REFI GUID ('{8-4-4-4-12}' in any case), or None when it is not one."""
    if not value:
        return None
    v = value.strip().strip("{}").replace("-", "").lower()
    return v if _HEX32.match(v) else None


def stamp(value) -> str | None:
    """A time from another file in our form (ISO 8601, UTC, milliseconds); None if unreadable.
    A time without a zone is taken as UTC, which is how Taguette stores its times."""
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    t = t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    return t.isoformat(timespec="milliseconds")


def _key(value) -> int | None:
    """A favourite key (1–9), or None for anything else a file might hold."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 9 else None


# --- applying ------------------------------------------------------------------------------------

def apply_incoming(project: Project, inc: Incoming, coder: str | None = None, kind: str = "import",
                   summary: str | None = None) -> MergeReport:
    """Check everything, then write it in one change; returns what was added, matched and refused."""
    report = MergeReport(inc.source, notes=list(inc.notes))
    plan = _Plan(project, inc, report)
    plan.prepare()
    if not plan.has_work():
        return report
    with project.change(kind, summary or f"{'Merged' if kind == 'merge' else 'Imported'} {inc.source}", coder) as ch:
        plan.write(ch)
    return report


class _Plan:
    """What apply_incoming will write, worked out before the transaction opens."""

    def __init__(self, project: Project, inc: Incoming, report: MergeReport):
        self.p, self.inc, self.r = project, inc, report
        self.coder_map: dict[str, str] = {}
        self.code_map: dict[str, str] = {}
        self.doc_map: dict[str, str] = {}
        self.reanchor: set[str] = set()          # incoming document ids whose text differs from ours
        self.inc_docs = {d.id: d for d in inc.documents}
        self.new_coders: list[dict] = []
        self.new_codes: list[dict] = []
        self.code_updates: list[tuple[str, dict]] = []
        self.new_docs: list[tuple[IncomingDocument, str, int]] = []
        self.new_attrs: list[dict] = []
        self.new_codings: list[dict] = []
        self.new_memos: list[dict] = []
        self.new_sets: list[dict] = []
        self.new_members: list[dict] = []

    def has_work(self) -> bool:
        return any((self.new_coders, self.new_codes, self.code_updates, self.new_docs, self.new_attrs,
                    self.new_codings, self.new_memos, self.new_sets, self.new_members))

    def prepare(self) -> None:
        self._coders()
        self._codes()
        self._documents()
        self._codings()
        self._memos()
        self._sets()

    # coders ------------------------------------------------------------------------------------
    def _coders(self) -> None:
        by_id = {r["id"]: r["name"] for r in self.p.query("SELECT id, name FROM coders")}
        by_name = {n: i for i, n in by_id.items()}
        for c in self.inc.coders:
            name = (c.get("name") or "").strip() or "coder"
            name = "".join(ch for ch in name if ord(ch) >= 32)
            if c["id"] in by_id:
                self.coder_map[c["id"]] = c["id"]
                if by_id[c["id"]] != name:
                    self.r.conflicts.append(f"coder {by_id[c['id']]!r} is called {name!r} in {self.inc.source}; kept {by_id[c['id']]!r}")
                self.r.count("matched", "coders")
            elif name in by_name:
                self.coder_map[c["id"]] = by_name[name]
                self.r.count("matched", "coders")
            else:
                cid = c["id"] if _HEX32.match(c["id"] or "") else new_id()
                row = {"id": cid, "name": name, "created_at": c.get("created_at") or now()}
                self.new_coders.append(row)
                by_id[cid], by_name[name] = name, cid
                self.coder_map[c["id"]] = cid
                self.r.count("added", "coders")

    # codes -------------------------------------------------------------------------------------
    def _codes(self) -> None:
        rows = {r["id"]: dict(r) for r in self.p.query("SELECT * FROM codes")}
        by_path = {r["path"]: i for i, r in rows.items()}
        siblings: dict[str | None, int] = {}
        for r in rows.values():
            siblings[r["parent_id"]] = siblings.get(r["parent_id"], 0) + 1
        for c in self.inc.codes:
            parent = self.code_map.get(c["parent_id"]) if c.get("parent_id") else None
            if c.get("parent_id") and parent is None:
                self.r.notes.append(f"code {c['name']!r} names a parent that is not in the file; put at the top level")
            parent_path = rows[parent]["path"] + SEP if parent else ""
            path = parent_path + c["name"]
            ours = rows.get(c["id"]) or (rows.get(by_path[path]) if path in by_path else None)
            if ours is not None:
                self.code_map[c["id"]] = ours["id"]
                self.r.count("matched", "codes")
                if ours["id"] == c["id"] and ours["path"] != path:
                    self.r.conflicts.append(f"code {ours['path']!r} is {path!r} in {self.inc.source}; kept {ours['path']!r}")
                self._code_fields(ours, c, rows)
                continue
            cid = c["id"] if _HEX32.match(c["id"] or "") and c["id"] not in rows else new_id()
            position = c.get("position")
            if position is None:
                position = siblings.get(parent, 0)
            siblings[parent] = siblings.get(parent, 0) + 1
            color = c.get("color") or (rows[parent]["color"] if parent and rows[parent]["color"] else
                                       PALETTE[position % len(PALETTE)])
            row = {"id": cid, "parent_id": parent, "name": c["name"], "path": path,
                   "description": c.get("description"), "when_to_use": c.get("when_to_use"),
                   "when_not_to_use": c.get("when_not_to_use"),
                   "examples": json.dumps(c.get("examples") or [], ensure_ascii=False),
                   "keywords": json.dumps(c.get("keywords") or [], ensure_ascii=False),
                   "color": color, "shortcut": None, "position": position,
                   "created_at": c.get("created_at") or now()}
            key = _key(c.get("shortcut"))
            holder = self._key_holder(key, rows)
            if key and holder is None:
                row["shortcut"] = key
            elif key:
                self.r.notes.append(f"code {path!r} has favourite key {key} in {self.inc.source}, which is "
                                    f"{holder!r}'s here; added without one")
            self.new_codes.append(row)
            rows[cid], by_path[path] = row, cid
            self.code_map[c["id"]] = cid
            self.r.count("added", "codes")

    def _code_fields(self, ours: dict, theirs: dict, rows: dict[str, dict]) -> None:
        fill, differ = {}, []
        for k in CODE_FIELDS:
            mine = ours.get(k)
            other = theirs.get(k)
            if k in ("examples", "keywords"):
                mine = json.loads(mine) if isinstance(mine, str) else (mine or [])
                other = other or []
                if other and not mine:
                    fill[k] = json.dumps(other, ensure_ascii=False)
                elif other and other != mine:
                    differ.append(k)
            elif other and not mine:
                fill[k] = other
            elif other and mine and other != mine and k != "color":
                differ.append(k)
        key = self._shortcut(ours, _key(theirs.get("shortcut")), rows)
        if key:
            fill["shortcut"] = key
        if fill:
            self.code_updates.append((ours["id"], fill))
        if differ:
            self.r.conflicts.append(f"code {ours['path']!r} has a different {', '.join(differ)} in "
                                    f"{self.inc.source}; kept ours")

    @staticmethod
    def _key_holder(key: int | None, rows: dict[str, dict]) -> str | None:
        return next((r["path"] for r in rows.values() if key and r.get("shortcut") == key), None)

    def _shortcut(self, ours: dict, key: int | None, rows: dict[str, dict]) -> int | None:
        """Their favourite key, if it can fill ours: never replaces ours, never taken from another code."""
        if not key or ours.get("shortcut") == key:
            return None
        if ours.get("shortcut"):
            self.r.conflicts.append(f"code {ours['path']!r} has favourite key {key} in {self.inc.source} and "
                                    f"{ours['shortcut']} here; kept {ours['shortcut']}")
            return None
        holder = self._key_holder(key, rows)
        if holder is not None:
            self.r.conflicts.append(f"code {ours['path']!r} has favourite key {key} in {self.inc.source}, which is "
                                    f"{holder!r}'s here; kept {ours['path']!r} without one")
            return None
        ours["shortcut"] = key          # so no later code in this merge is given the same key
        return key

    # documents ---------------------------------------------------------------------------------
    def _documents(self) -> None:
        rows = {r["id"]: dict(r) for r in self.p.query("SELECT id, name, sha256, text FROM documents")}
        by_name = {r["name"]: i for i, r in rows.items()}
        by_sha = {r["sha256"]: i for i, r in rows.items()}
        position = self.p.one("SELECT COALESCE(MAX(position), 0) AS p FROM documents")["p"] or 0
        for d in self.inc.documents:
            pd = d.parsed
            ours_id = d.id if d.id in rows else by_name.get(pd.name) or by_sha.get(pd.sha256)
            if ours_id is not None:
                ours = rows[ours_id]
                self.doc_map[d.id] = ours_id
                self.r.count("matched", "documents")
                if ours["sha256"] != pd.sha256:
                    self.reanchor.add(d.id)
                    self.r.conflicts.append(f"document {ours['name']!r} has different text in {self.inc.source}; "
                                            "kept ours and placed the file's codings by their quoted text")
                elif ours["name"] != pd.name:
                    self.r.notes.append(f"document {pd.name!r} in {self.inc.source} is {ours['name']!r} here (same text)")
                self._attributes(ours_id, ours["name"], pd.attributes)
                continue
            name = pd.name
            if name in by_name:   # same name, different id and text: keep both
                n = 2
                while f"{pd.name} ({n})" in by_name:
                    n += 1
                name = pd.name = f"{pd.name} ({n})"
                self.r.notes.append(f"a different document is already called {d.parsed.name!r}; imported as {name!r}")
            did = d.id if _HEX32.match(d.id or "") and d.id not in rows else new_id()
            position += 1
            self.new_docs.append((d, did, position))
            rows[did] = {"id": did, "name": name, "sha256": pd.sha256, "text": pd.text}
            by_name[name], by_sha[pd.sha256] = did, did
            self.doc_map[d.id] = did
            self.r.count("added", "documents")
            self.r.documents.append(name)

    def _attributes(self, doc_id: str, doc_name: str, attrs: dict[str, str]) -> None:
        ours = {r["key"]: r["value"] for r in self.p.query(
            "SELECT key, value FROM document_attributes WHERE document_id = ?", (doc_id,))}
        for k, v in attrs.items():
            if k not in ours:
                self.new_attrs.append({"id": new_id(), "document_id": doc_id, "key": k, "value": v})
                self.r.count("added", "attributes")
            elif ours[k] != v:
                self.r.conflicts.append(f"{doc_name}: attribute {k} is {ours[k]!r} here and {v!r} in "
                                        f"{self.inc.source}; kept {ours[k]!r}")

    # codings -----------------------------------------------------------------------------------
    def _codings(self) -> None:
        existing = {r["id"]: dict(r) for r in self.p.query(
            "SELECT id, document_id, code_id, coder_id, start, \"end\", memo FROM codings")}
        keys = {(c["document_id"], c["code_id"], c["coder_id"], c["start"], c["end"]) for c in existing.values()}
        texts = {i: r["text"] for i, r in self._doc_texts().items()}
        unplaced = 0
        for c in self.inc.codings:
            src = self.inc_docs.get(c["document_id"])
            doc_id = self.doc_map.get(c["document_id"])
            code_id = self.code_map.get(c["code_id"])
            coder_id = self.coder_map.get(c["coder_id"])
            if doc_id is None or code_id is None or coder_id is None or src is None:
                self.r.notes.append(f"a coding ({c['id']}) refers to a missing document, code or coder; dropped")
                continue
            start, end = c["start"], c["end"]
            text = texts[doc_id]
            if c["document_id"] in self.reanchor:
                their = src.parsed.text
                before, after = textmod.context(their, start, end)
                anchor = textmod.reanchor(text, their[start:end], before, after, start)
                if anchor is None:
                    unplaced += 1
                    if unplaced <= 20:
                        self.r.conflicts.append(f"could not place a coding in {src.parsed.name!r} "
                                                f"({their[start:end][:60]!r}); dropped")
                    continue
                start, end = anchor.start, anchor.end
            if not (0 <= start < end <= len(text)):
                self.r.notes.append(f"a coding in {src.parsed.name!r} ({start}–{end}) lies outside the text; dropped")
                continue
            ours = existing.get(c["id"])
            if ours is not None:
                same = (ours["document_id"], ours["code_id"], ours["coder_id"], ours["start"], ours["end"]) == \
                    (doc_id, code_id, coder_id, start, end)
                if not same:
                    self.r.conflicts.append(f"coding {c['id']} differs in {self.inc.source} (span or code); kept ours")
                elif (ours["memo"] or None) != (c.get("memo") or None) and c.get("memo"):
                    self.r.conflicts.append(f"coding {c['id']} has a different memo in {self.inc.source}; kept ours")
                self.r.count("matched", "codings")
                continue
            key = (doc_id, code_id, coder_id, start, end)
            if key in keys:
                self.r.count("matched", "codings")
                continue
            keys.add(key)
            before, after = textmod.context(text, start, end)
            ts = c.get("created_at") or now()
            self.new_codings.append({
                "id": c["id"] if _HEX32.match(c["id"] or "") else new_id(), "document_id": doc_id,
                "code_id": code_id, "coder_id": coder_id, "start": start, "end": end, "text": text[start:end],
                "context_before": before, "context_after": after, "memo": c.get("memo") or None,
                "origin": c.get("origin") or "import", "created_at": ts, "updated_at": c.get("updated_at") or ts})
            self.r.count("added", "codings")
        if unplaced > 20:
            self.r.conflicts.append(f"… and {unplaced - 20} more codings could not be placed")

    def _doc_texts(self) -> dict[str, dict]:
        out = {r["id"]: dict(r) for r in self.p.query("SELECT id, text FROM documents")}
        for d, did, _ in self.new_docs:
            out[did] = {"id": did, "text": d.parsed.text}
        return out

    # memos -------------------------------------------------------------------------------------
    def _memos(self) -> None:
        existing = {r["id"]: dict(r) for r in self.p.query("SELECT * FROM memos")}
        by_target = {(m["target_type"], m["target_id"], m["coder_id"]): m for m in existing.values()}
        maps = {"document": self.doc_map, "code": self.code_map}
        for m in self.inc.memos:
            target = None
            if m["target_type"] in maps:
                target = maps[m["target_type"]].get(m["target_id"])
                if target is None:
                    self.r.notes.append(f"a memo on a {m['target_type']} that is not in the file was dropped")
                    continue
            elif m["target_type"] != "project":
                self.r.notes.append(f"a memo on a {m['target_type']} was dropped (qualcode keeps memos on "
                                    "documents, codes, codings and the project)")
                continue
            coder_id = self.coder_map.get(m.get("coder_id")) if m.get("coder_id") else None
            ours = existing.get(m["id"]) or by_target.get((m["target_type"], target, coder_id))
            if ours is not None:
                self.r.count("matched", "memos")
                if ours["text"] != m["text"]:
                    self.r.conflicts.append(f"a memo on {self._label(m['target_type'], target)} differs in "
                                            f"{self.inc.source}; kept ours (theirs begins {m['text'][:50]!r})")
                continue
            ts = m.get("created_at") or now()
            row = {"id": m["id"] if _HEX32.match(m["id"] or "") else new_id(), "target_type": m["target_type"],
                   "target_id": target, "coder_id": coder_id, "title": m.get("title"), "text": m["text"],
                   "created_at": ts, "updated_at": m.get("updated_at") or ts}
            self.new_memos.append(row)
            existing[row["id"]] = row
            by_target[(row["target_type"], target, coder_id)] = row
            self.r.count("added", "memos")

    def _label(self, target_type: str, target_id: str | None) -> str:
        if target_type == "document":
            row = self.p.one("SELECT name FROM documents WHERE id = ?", (target_id,))
            return f"document {row['name'] if row else target_id!r}"
        if target_type == "code":
            row = self.p.one("SELECT path FROM codes WHERE id = ?", (target_id,))
            return f"code {row['path'] if row else target_id!r}"
        return "the project"

    # sets --------------------------------------------------------------------------------------
    def _sets(self) -> None:
        sets = {r["id"]: dict(r) for r in self.p.query("SELECT * FROM sets")}
        by_name = {r["name"]: i for i, r in sets.items()}
        members = {(r["set_id"], r["document_id"], r["code_id"]) for r in self.p.query("SELECT * FROM set_members")}
        for s in self.inc.sets:
            sid = s["id"] if s["id"] in sets else by_name.get(s["name"])
            if sid is None:
                sid = s["id"] if _HEX32.match(s["id"] or "") else new_id()
                row = {"id": sid, "name": s["name"], "description": s.get("description")}
                self.new_sets.append(row)
                sets[sid], by_name[s["name"]] = row, sid
                self.r.count("added", "sets")
            else:
                self.r.count("matched", "sets")
            for kind, ref in s.get("members", []):
                target = (self.doc_map if kind == "document" else self.code_map).get(ref)
                if target is None:
                    continue
                key = (sid, target if kind == "document" else None, target if kind == "code" else None)
                if key not in members:
                    members.add(key)
                    self.new_members.append({"id": new_id(), "set_id": sid, "document_id": key[1], "code_id": key[2]})

    # writing -----------------------------------------------------------------------------------
    def write(self, ch) -> None:
        from qualcode.documents import _insert_document

        ch.insert_many("coders", self.new_coders)
        # parents before children, one level per op, so undo deletes children first
        depth = {c["id"]: c["path"].count(SEP) for c in self.new_codes}
        for level in sorted(set(depth.values())):
            ch.insert_many("codes", [c for c in self.new_codes if depth[c["id"]] == level])
        for code_id, values in self.code_updates:
            ch.update("codes", code_id, values)
        for d, did, position in self.new_docs:
            _insert_document(ch, d.parsed, did, position, stamp(d.created_at))
        ch.insert_many("document_attributes", self.new_attrs)
        ch.insert_many("codings", self.new_codings)
        ch.insert_many("memos", self.new_memos)
        ch.insert_many("sets", self.new_sets)
        ch.insert_many("set_members", self.new_members)


def merge_file(project: Project, path: Path, coder: str | None = None) -> MergeReport:
    """Merge another qualcode project (.db) or a .qdpx into this one, after a backup."""
    from qualcode.store import backup

    if not path.exists():
        raise QualcodeError(f"{path} does not exist")
    if path.resolve() == project.path.resolve():
        raise QualcodeError("cannot merge a project into itself")
    suffix = path.suffix.lower()
    if suffix in (".qdpx", ".qde"):
        from qualcode.export.refi_import import read_refi
        inc = read_refi(path, default_coder=coder or "imported")
    else:
        from qualcode.project_reader import read_project
        inc = read_project(path)
    backup.rotate(project, reason=f"before merging {path.name}")
    return apply_incoming(project, inc, coder, kind="merge", summary=f"Merged {path.name}")
