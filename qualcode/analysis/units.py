"""The codings of a project seen through a unit: which sentences, turns, documents and speakers
each coded span touches, and which attribute values those carry.

Everything counted by frequencies, co-occurrence, summaries and saturation goes through here,
so "a sentence is coded with X" means one thing everywhere: the coded span overlaps the sentence
(half-open intervals, at least one shared character).

Speakers of a span are the speakers of the turns it overlaps, leaving out moderators and
interviewers unless they are the only ones speaking in it: a coded focus-group exchange
(question + answers) belongs to the participants who answered.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from operator import itemgetter

from qualcode.codebook import SEP, all_codes, find_code
from qualcode.errors import QualcodeError
from qualcode.store.project import Project

UNITS = ("segment", "sentence", "turn", "document", "speaker")
INTERVIEWER_ROLES = frozenset({"moderator", "interviewer", "facilitator", "researcher", "note-taker",
                               "notetaker", "co-moderator", "assistant moderator"})
NO_VALUE = "(no value)"
# document-level fields that live in columns of `documents`, not in document_attributes
DOCUMENT_FIELDS = ("type", "language")
AGE_GROUPS = ((0, 29, "18–29"), (30, 44, "30–44"), (45, 59, "45–59"), (60, 200, "60+"))


@dataclass(slots=True)
class Coding:
    id: str
    document_id: str
    code_id: str
    coder: str
    start: int
    end: int
    created_at: str


def check_unit(unit: str) -> str:
    unit = (unit or "segment").strip().lower()
    aliases = {"segments": "segment", "coded segment": "segment", "sentences": "sentence", "turns": "turn",
               "documents": "document", "speakers": "speaker", "participant": "speaker", "participants": "speaker"}
    unit = aliases.get(unit, unit)
    if unit not in UNITS:
        raise QualcodeError(f"unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    return unit


def parse_condition(cond) -> tuple[str, str] | None:
    """'gender=female' or {'gender': 'female'} → ('gender', 'female')."""
    if cond is None or cond == "" or cond == {}:
        return None
    if isinstance(cond, dict):
        if len(cond) != 1:
            raise QualcodeError("filter on one attribute at a time (KEY=VALUE)")
        (k, v), = cond.items()
        return str(k).strip(), str(v).strip()
    if "=" not in cond:
        raise QualcodeError(f"a filter is KEY=VALUE, not {cond!r}")
    k, v = cond.split("=", 1)
    if not k.strip():
        raise QualcodeError(f"a filter needs a key: {cond!r}")
    return k.strip(), v.strip()


def age_group(value: str | None) -> str | None:
    try:
        age = int(float(value))
    except (TypeError, ValueError):
        return None
    for lo, hi, label in AGE_GROUPS:
        if lo <= age <= hi:
            return label
    return None


@dataclass(slots=True)
class CodingArrays:
    doc: object
    code: object
    start: object
    end: object


@dataclass(slots=True)
class UnitArrays:
    doc: object
    start: object
    end: object
    speaker: object
    ids: list[str]


@dataclass
class _Intervals:
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    speakers: list[str | None] = field(default_factory=list)

    def overlapping(self, start: int, end: int) -> list[int]:
        """Indexes of intervals sharing at least one character with [start, end)."""
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        out = []
        n = len(self.starts)
        while i < n and self.starts[i] < end:
            if self.ends[i] > start:
                out.append(i)
            i += 1
        return out


class Corpus:
    """Codings (optionally of one coder / one code subtree / some documents) with their units."""

    def __init__(self, project: Project, coder: str | None = None, code: str | None = None,
                 documents: set[str] | None = None):
        self.project = project
        self.codes = all_codes(project)
        self.code_by_id = {c["id"]: c for c in self.codes}
        self.code_by_path = {c["path"]: c for c in self.codes}
        self.root_code = None
        if code:
            self.root_code = self.code_by_id[find_code(project, code)["id"]]
            prefix = self.root_code["path"] + SEP
            self.codes = [c for c in self.codes if c["path"] == self.root_code["path"] or c["path"].startswith(prefix)]
        self.docs = {r["id"]: dict(r) for r in project.query(
            "SELECT id, name, type, language, position FROM documents ORDER BY position, name")}
        self.doc_order = list(self.docs)
        self._where = []
        self._params: list = []
        if coder:
            row = project.one("SELECT id FROM coders WHERE name = ?", (coder,))
            if row is None:
                raise QualcodeError(f"unknown coder {coder!r}")
            self._where.append("coder_id = ?")
            self._params.append(row["id"])
        if code:
            keep = [c["id"] for c in self.codes]
            self._where.append(f"code_id IN ({','.join('?' * len(keep))})")
            self._params.extend(keep)
        self._documents = documents
        self._codings: list[Coding] | None = None
        self._turns: dict[str, _Intervals] | None = None
        self._sentences: dict[str, _Intervals] | None = None
        self._speakers: dict[str, dict] | None = None
        self._doc_attrs: dict[str, dict] | None = None
        self._coding_speakers: dict[str, tuple[str, ...]] = {}
        self._interviewers: frozenset[str] | None = None
        self._arrays: dict[str, object] = {}  # numpy forms of the above, for the counting functions

    # --- lazily loaded structure ------------------------------------------------------------

    @property
    def codings(self) -> list[Coding]:
        """Codings in scope, by document and position (loaded on first use: 100k rows cost ~0.3 s)."""
        if self._codings is None:
            names = {r["id"]: r["name"] for r in self.project.query("SELECT id, name FROM coders")}
            sql = 'SELECT id, document_id, code_id, coder_id, start, "end", created_at FROM codings'
            if self._where:
                sql += " WHERE " + " AND ".join(self._where)
            rows = self.project.conn.execute(sql, self._params).fetchall()
            rows.sort(key=itemgetter(1, 4, 5))  # by document and position, sorted before objects exist
            docs = self._documents
            self._codings = [Coding(i, d, k, names.get(u, u), s, e, t) for i, d, k, u, s, e, t in rows
                             if docs is None or d in docs]
        return self._codings

    @property
    def doc_attrs(self) -> dict[str, dict[str, str]]:
        if self._doc_attrs is None:
            out: dict[str, dict[str, str]] = {d: {} for d in self.docs}
            for r in self.project.query("SELECT document_id, key, value FROM document_attributes"):
                out.setdefault(r["document_id"], {})[r["key"]] = r["value"]
            for d, row in self.docs.items():
                for f in DOCUMENT_FIELDS:
                    if row.get(f) is not None:
                        out[d].setdefault(f, row[f])
            self._doc_attrs = out
        return self._doc_attrs

    @property
    def speakers(self) -> dict[str, dict]:
        """speaker id → {label, document_id, role, attrs}."""
        if self._speakers is None:
            out = {r["id"]: {"label": r["label"], "document_id": r["document_id"], "role": r["role"], "attrs": {}}
                   for r in self.project.query("SELECT id, label, document_id, role FROM speakers")}
            for r in self.project.query("SELECT speaker_id, key, value FROM speaker_attributes"):
                if r["speaker_id"] in out:
                    out[r["speaker_id"]]["attrs"][r["key"]] = r["value"]
            for s in out.values():
                if "age_group" not in s["attrs"] and age_group(s["attrs"].get("age")):
                    s["attrs"]["age_group"] = age_group(s["attrs"].get("age"))
            self._speakers = out
        return self._speakers

    @property
    def interviewers(self) -> frozenset[str]:
        if self._interviewers is None:
            self._interviewers = frozenset(
                sid for sid, s in self.speakers.items()
                if (s["role"] or s["attrs"].get("role") or "").strip().lower() in INTERVIEWER_ROLES)
        return self._interviewers

    def is_interviewer(self, speaker_id: str | None) -> bool:
        return speaker_id in self.interviewers

    def _load(self, table: str) -> dict[str, _Intervals]:
        out: dict[str, _Intervals] = {}
        if table == "turns":
            sql = 'SELECT document_id, id, start, "end", speaker_id FROM turns ORDER BY document_id, start'
        else:
            sql = ('SELECT s.document_id, s.id, s.start, s."end", t.speaker_id FROM sentences s '
                   'LEFT JOIN turns t ON t.id = s.turn_id ORDER BY s.document_id, s.start')
        for doc, uid, s, e, sp in self.project.conn.execute(sql):
            iv = out.get(doc)
            if iv is None:
                iv = out[doc] = _Intervals()
            iv.starts.append(s)
            iv.ends.append(e)
            iv.ids.append(uid)
            iv.speakers.append(sp)
        return out

    @property
    def turns(self) -> dict[str, _Intervals]:
        if self._turns is None:
            self._turns = self._load("turns")
        return self._turns

    @property
    def sentences(self) -> dict[str, _Intervals]:
        if self._sentences is None:
            self._sentences = self._load("sentences")
        return self._sentences

    # --- per coding ---------------------------------------------------------------------------

    def coding_speakers(self, c: Coding) -> tuple[str, ...]:
        """Speakers of the turns the span overlaps; interviewers only when nobody else speaks."""
        got = self._coding_speakers.get(c.id)
        if got is None:
            iv = self.turns.get(c.document_id)
            found: list[str] = []
            if iv is not None:
                starts, ends, sps = iv.starts, iv.ends, iv.speakers
                i = max(bisect.bisect_right(starts, c.start) - 1, 0)
                n = len(starts)
                while i < n and starts[i] < c.end:
                    sp = sps[i]
                    if ends[i] > c.start and sp and sp not in found:
                        found.append(sp)
                    i += 1
            interviewers = self.interviewers
            others = [s for s in found if s not in interviewers]
            got = self._coding_speakers[c.id] = tuple(others or found)
        return got

    def units_of(self, c: Coding, unit: str) -> list[tuple[str, str | None]]:
        """(unit key, speaker of that unit or None) for every unit the coding touches."""
        if unit == "segment":
            return [(c.id, None)]
        if unit == "document":
            return [(c.document_id, None)]
        if unit == "speaker":  # participants only: "N participants"
            return [(s, s) for s in self.coding_speakers(c) if not self.is_interviewer(s)]
        iv = (self.sentences if unit == "sentence" else self.turns).get(c.document_id)
        if iv is None:
            return []
        return [(iv.ids[i], iv.speakers[i]) for i in iv.overlapping(c.start, c.end)]

    # --- the same, as numpy arrays (frequencies and co-occurrence count with these) -----------

    def coding_arrays(self) -> CodingArrays:
        """Codings in scope as arrays, in table order: document (index in doc_order), code (index
        in code_ids), start, end. Read as one concatenated string per column and block of rows:
        a Python tuple per row made loading 100k codings cost 0.3 s, this costs 0.1 s."""
        got = self._arrays.get("codings")
        if got is None:
            import numpy as np

            doc_index = {d: i for i, d in enumerate(self.doc_order)}
            code_index = {c: i for i, c in enumerate(self.code_ids)}
            where = "".join(f" AND {w}" for w in self._where)
            sql = ("SELECT count(*), group_concat(document_id, char(31)), group_concat(code_id, char(31)), "
                   f"group_concat(start, ' '), group_concat(\"end\", ' ') FROM codings "
                   f"WHERE rowid >= ? AND rowid < ?{where}")
            conn = self.project.conn
            first, last = conn.execute("SELECT min(rowid), max(rowid) FROM codings").fetchone()
            parts: list[tuple] = []
            block = 1 << 18  # rows per string, far below SQLite's 1 GB string limit
            for lo in range(first or 0, (last or -1) + 1, block):
                n, docs, codes, starts, ends = conn.execute(sql, (lo, lo + block, *self._params)).fetchone()
                if n:
                    parts.append((np.fromiter(map(doc_index.__getitem__, docs.split("\x1f")), np.int64, n),
                                  np.fromiter(map(code_index.__getitem__, codes.split("\x1f")), np.int64, n),
                                  np.fromstring(starts, dtype=np.int64, sep=" "),
                                  np.fromstring(ends, dtype=np.int64, sep=" ")))
            if parts:
                cols = [np.concatenate(col) for col in zip(*parts)]
            else:
                cols = [np.zeros(0, dtype=np.int64) for _ in range(4)]
            if self._documents is not None:
                keep = np.array([d in self._documents for d in self.doc_order], dtype=bool)[cols[0]]
                cols = [col[keep] for col in cols]
            got = self._arrays["codings"] = CodingArrays(*cols)
        return got

    @property
    def code_ids(self) -> list[str]:
        """Every code id of the project (not only those in scope): code indexes of coding_arrays()."""
        return self._arrays.setdefault("code_ids", list(self.code_by_id))

    @property
    def speaker_ids(self) -> list[str]:
        """Speaker indexes of the arrays: every speaker, then ids only turns name (none, normally)."""
        got = self._arrays.get("speaker_ids")
        if got is None:
            got = list(self.speakers)
            known = set(got)
            for iv in self.turns.values():  # sentences take their speaker from their turn
                for sp in iv.speakers:
                    if sp and sp not in known:
                        known.add(sp)
                        got.append(sp)
            self._arrays["speaker_ids"] = got
        return got

    def unit_arrays(self, unit: str) -> UnitArrays:
        """Sentences or turns as arrays sorted by document (doc_order index), then start."""
        got = self._arrays.get(unit)
        if got is None:
            import numpy as np

            table = self.sentences if unit == "sentence" else self.turns
            doc_index = {d: i for i, d in enumerate(self.doc_order)}
            sp_index = {s: i for i, s in enumerate(self.speaker_ids)}
            docs = [(doc_index[d], iv) for d, iv in table.items() if d in doc_index]
            docs.sort(key=itemgetter(0))  # stable: each document keeps its own start order
            ivs = [iv for _, iv in docs]
            got = self._arrays[unit] = UnitArrays(
                np.repeat(np.array([d for d, _ in docs], dtype=np.int64), [len(iv.starts) for iv in ivs]),
                np.array([s for iv in ivs for s in iv.starts], dtype=np.int64),
                np.array([e for iv in ivs for e in iv.ends], dtype=np.int64),
                np.array([sp_index[sp] if sp else -1 for iv in ivs for sp in iv.speakers], dtype=np.int64),
                [uid for iv in ivs for uid in iv.ids])
        return got

    def interviewer_mask(self):
        import numpy as np

        return np.array([s in self.interviewers for s in self.speaker_ids], dtype=bool)

    def coding_speaker_pairs(self):
        """(coding index, speaker index) arrays: coding_speakers() of every coding of coding_arrays()."""
        got = self._arrays.get("coding_speakers")
        if got is None:
            import numpy as np

            from qualcode.analysis.intervals import distinct, overlap_pairs

            c, t = self.coding_arrays(), self.unit_arrays("turn")
            ci, ti = overlap_pairs(c.doc, c.start, c.end, t.doc, t.start, t.end, len(self.doc_order))
            sp = t.speaker[ti]
            ci, sp = ci[sp >= 0], sp[sp >= 0]
            n_sp = max(len(self.speaker_ids), 1)
            key = distinct(ci * n_sp + sp)  # one pair per coding and speaker
            ci, sp = key // n_sp, key % n_sp
            interviewer = self.interviewer_mask()[sp]
            has_other = np.zeros(len(c.doc), dtype=bool)
            has_other[ci[~interviewer]] = True
            keep = ~interviewer | ~has_other[ci]  # interviewers count only when nobody else speaks
            got = self._arrays["coding_speakers"] = (ci[keep], sp[keep])
        return got

    def unit_pairs(self, unit: str):
        """(coding index, unit index, unit speaker index or -1): units_of() of every coding. Unit
        indexes: codings for segment, doc_order for document, unit_arrays() rows, speaker_ids."""
        import numpy as np

        from qualcode.analysis.intervals import overlap_pairs

        c = self.coding_arrays()
        if unit == "segment":
            ci = np.arange(len(c.doc))
            return ci, ci, np.full(len(ci), -1)
        if unit == "document":
            return np.arange(len(c.doc)), c.doc, np.full(len(c.doc), -1)
        if unit == "speaker":
            ci, sp = self.coding_speaker_pairs()
            participant = ~self.interviewer_mask()[sp]
            return ci[participant], sp[participant], sp[participant]
        u = self.unit_arrays(unit)
        ci, ui = overlap_pairs(c.doc, c.start, c.end, u.doc, u.start, u.end, len(self.doc_order))
        return ci, ui, u.speaker[ui]

    def all_units(self, unit: str, documents: set[str] | None = None) -> list[tuple[str, str, str | None]]:
        """Every unit of the corpus as (document, key, speaker): the denominators of percentages."""
        docs = [d for d in self.doc_order if documents is None or d in documents]
        if unit == "document":
            return [(d, d, None) for d in docs]
        if unit == "speaker":
            by_doc: dict[str, list[str]] = {}
            for sid, s in self.speakers.items():
                by_doc.setdefault(s["document_id"], []).append(sid)
            return [(d, sid, sid) for d in docs for sid in by_doc.get(d, []) if not self.is_interviewer(sid)]
        if unit in ("sentence", "turn"):
            table = self.sentences if unit == "sentence" else self.turns
            return [(d, uid, sp) for d in docs if d in table for uid, sp in zip(table[d].ids, table[d].speakers)]
        raise ValueError(unit)

    # --- attributes ---------------------------------------------------------------------------

    def attribute_level(self, key: str) -> str:
        """'document' or 'speaker' for an attribute name; `speaker:KEY` / `document:KEY` force one."""
        if key == "document":
            return "name"
        if key.startswith("speaker:"):
            return "speaker"
        if key.startswith("document:"):
            return "document"
        if any(key in a for a in self.doc_attrs.values()):
            return "document"
        if any(key in s["attrs"] for s in self.speakers.values()) or key == "role":
            return "speaker"
        doc_keys = sorted({k for a in self.doc_attrs.values() for k in a})
        sp_keys = sorted({k for s in self.speakers.values() for k in s["attrs"]})
        raise QualcodeError(f"no document or speaker attribute {key!r}; document: {', '.join(doc_keys) or 'none'}; "
                            f"speaker: {', '.join(sp_keys) or 'none'}")

    @staticmethod
    def bare(key: str) -> str:
        return key.split(":", 1)[1] if key.startswith(("speaker:", "document:")) else key

    def document_value(self, doc_id: str, key: str) -> str:
        if key == "document":
            return self.docs[doc_id]["name"]
        v = self.doc_attrs.get(doc_id, {}).get(self.bare(key))
        return v if v not in (None, "") else NO_VALUE

    def speaker_value(self, speaker_id: str | None, key: str) -> str:
        s = self.speakers.get(speaker_id) if speaker_id else None
        if s is None:
            return NO_VALUE
        key = self.bare(key)
        v = s["attrs"].get(key, s["role"] if key == "role" else None)
        return v if v not in (None, "") else NO_VALUE

    def matching_documents(self, key: str, value: str) -> set[str]:
        key = self.bare(key)
        return {d for d in self.docs if self.document_value(d, key).lower() == value.lower()
                or (key == "document" and self.docs[d]["name"].lower() == value.lower())}

    def matching_speakers(self, key: str, value: str) -> set[str]:
        return {sid for sid in self.speakers if self.speaker_value(sid, key).lower() == value.lower()}

    # --- code tree ----------------------------------------------------------------------------

    def ancestors_and_self(self, code_id: str) -> list[str]:
        """The code and every parent up to its theme (only codes in scope)."""
        out = []
        in_scope = {c["id"] for c in self.codes}
        cid: str | None = code_id
        while cid is not None:
            if cid in in_scope:
                out.append(cid)
            cid = self.code_by_id[cid]["parent_id"] if cid in self.code_by_id else None
        return out

    def theme_of(self, code_id: str) -> dict:
        path = self.code_by_id[code_id]["path"]
        return self.code_by_path[path.split(SEP, 1)[0]]
