"""Pseudonymising a project: people, and on request places and organisations, replaced by
consistent pseudonyms ("Participant 3", "Place B", "Bank A") in every text and field.

plan_anonymisation() finds the names (qualcode.name_finder, a list, the key of an earlier run)
and every occurrence, also inflected (`Aytanın`, qualcode.name_matching), touching nothing.
apply_plan() writes the key (real → pseudonym) to a file outside the project, then rewrites the
project in one change: document texts; turn, paragraph, sentence, suggestion and coding offsets
shifted through an exact edit map (a coding stays on the same words; one that cut into a name
now covers the whole pseudonym); the quoted text and context of codings; labels, attributes,
memos, code examples and document names.

Undo can restore the real names only because the event journal holds the old text. So after
applying, purge_history() (the default) empties the journal up to and including the
anonymisation, deletes the backups made before it, and VACUUMs and checkpoints the file so no
old page survives in the database or its write-ahead log.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from qualcode import text as textmod
from qualcode.errors import QualcodeError
from qualcode.name_finder import Found, STOP_WORDS, is_role_label, legend_names, ner_names, rule_names
from qualcode.name_lists import check_private_path, read_key, read_list, write_key, write_private  # noqa: F401
from qualcode.name_matching import Matcher, cased, variants  # noqa: F401  (cased: part of this module's API)
from qualcode.store.project import Project, now

PERSON, PLACE, ORG = "person", "place", "org"
_ORG_TYPES = ("Bank", "Ministry", "Service", "Agency", "Committee", "University", "School", "Hospital", "Company",
              "Office", "Fund", "Foundation", "Association", "Centre", "Center", "Authority", "Operator",
              "Market", "Club", "Party", "Council", "Institute", "Court", "Police")
_PRIORITY = {"list": 0, "key": 1, "legend": 2, "attribute": 3, "ner": 4, "rule": 5, "part": 6}


@dataclass
class Entity:
    real: str
    kind: str
    pseudonym: str = ""
    sources: set[str] = field(default_factory=set)
    forms: set[str] = field(default_factory=set)
    count: int = 0
    documents: set[str] = field(default_factory=set)
    first: tuple = (float("inf"), 0)

    def as_dict(self) -> dict:
        return {"real": self.real, "pseudonym": self.pseudonym, "kind": self.kind, "sources": sorted(self.sources),
                "forms": sorted(self.forms), "count": self.count, "documents": sorted(self.documents)}


@dataclass
class Replacement:
    document: str
    start: int             # in the text before
    end: int
    original: str
    pseudonym: str
    entity: Entity
    new_start: int = 0     # in the text after
    ending: str = ""       # the Azerbaijani/Turkish/Russian ending the name had (`ın` of `Aytanın`)


@dataclass
class Plan:
    entities: list[Entity]
    replacements: dict[str, list[Replacement]]       # by document id
    possible: list[dict]                             # capitalised words shown, not replaced
    warnings: list[str]
    fingerprints: dict[str, str]                     # document id -> sha256 when planned
    matcher: Matcher
    fields: int = 0                                  # labels, attributes, memos... that change

    def summary(self) -> dict:
        return {"entities": [e.as_dict() for e in self.entities],
                "replacements": sum(len(r) for r in self.replacements.values()),
                "documents": len([r for r in self.replacements.values() if r]), "fields": self.fields,
                "possible_names": self.possible, "warnings": self.warnings,
                "inflected": inflected_forms(r for reps in self.replacements.values() for r in reps)}


def inflected_forms(replacements) -> list[dict]:
    """The names found with an ending (`Aytanın`), each word once with its count: the hits to
    check, since an ending can also make another word (`Nur` + `a`)."""
    seen: dict[tuple[str, str], dict] = {}
    for r in replacements:
        if r.ending:
            row = seen.setdefault((r.original, r.pseudonym), {"word": r.original, "becomes": r.pseudonym,
                                                              "real": r.entity.real, "ending": r.ending, "count": 0})
            row["count"] += 1
    return sorted(seen.values(), key=lambda row: (row["real"], -row["count"], row["word"]))


# --- planning --------------------------------------------------------------------------------------

def plan_anonymisation(project: Project, names=None, places=None, orgs=None, *, detect: bool = True,
                       detect_places: bool = False, detect_orgs: bool = False, exclude=(),
                       key_path: Path | None = None) -> Plan:
    """Find the names and every occurrence; change nothing. names/places/orgs: lists of names or
    of (real, pseudonym) pairs; exclude: words never to take for names."""
    excluded = {w.casefold() for w in exclude}
    warnings: list[str] = []
    found: list[tuple[Found, str | None]] = []
    for kind, items in ((PERSON, names), (PLACE, places), (ORG, orgs)):
        for item in items or []:
            real, pseudo = (item, None) if isinstance(item, str) else item
            found.append((Found(real, kind, "list"), pseudo))
    key_forms: dict[tuple[str, str], set[str]] = {}
    for e in read_key(key_path):   # names found by earlier runs are names in new documents too
        kind = e.get("kind", PERSON)
        found.append((Found(str(e["real"]), kind, "key"), str(e["pseudonym"])))
        key_forms[(kind, " ".join(str(e["real"]).split()).casefold())] = {str(f) for f in e.get("forms", [])}
    found += [(f, None) for f in legend_names(project)]
    possible: list[dict] = []
    ner_kinds = {PERSON} | ({PLACE} if detect_places else set()) | ({ORG} if detect_orgs else set())
    if detect or detect_places or detect_orgs:
        auto, missing = ner_names(project, ner_kinds, excluded)
        found += [(f, None) for f in auto]
        if (detect_places or detect_orgs) and missing:
            raise QualcodeError(f"finding places or organisations needs a trained spaCy pipeline, and none is installed "
                                f"for {', '.join(sorted(missing))}; list them instead with --places FILE / --orgs FILE")
        if detect:   # the rule's sure cues catch what a pipeline misses; its guesses only without one
            strong, possible = rule_names(project, set(exclude))
            found += [(f, None) for f in strong]
            possible = possible if missing else []
    found = [(f, p) for f, p in found if f.source in ("list", "key") or f.text.casefold() not in excluded]
    entities = _entities(found, excluded, warnings, key_forms)
    # Azerbaijani/Turkish text in the project (by language, or letters only those alphabets have):
    # the recall of endings matters more than the odd false hit (Ann → Anna) there
    turkic = project.one("SELECT 1 FROM documents WHERE language IN ('az', 'tr') OR instr(text, 'ə') OR instr(text, 'ı') "
                         "OR instr(text, 'ğ') OR instr(text, 'Ə') LIMIT 1") is not None
    matcher = Matcher(entities, excluded, plain_endings=turkic)
    docs = project.query("SELECT id, name, text, sha256, position FROM documents ORDER BY position, name")
    occurrences: dict[str, list] = {}
    for d in docs:
        occurrences[d["id"]] = hits = list(matcher.finditer(d["text"]))
        for hit in hits:
            hit.entity.count += 1
            hit.entity.documents.add(d["name"])
            hit.entity.first = min(hit.entity.first, (d["position"], hit.start))
    _assign_pseudonyms(entities, {(e["kind"], e["real"].casefold()): e["pseudonym"] for e in read_key(key_path)})
    replacements = {}
    for d in docs:
        reps, shift = [], 0
        for hit in occurrences[d["id"]]:   # a hit with an ending covers the whole word: Aytanın → Leylanın
            s, e = hit.start, hit.end
            reps.append(Replacement(d["name"], s, e, d["text"][s:e], matcher.replacement(d["text"], hit), hit.entity,
                                    s + shift, hit.ending.text if hit.ending else ""))
            shift += len(reps[-1].pseudonym) - (e - s)
        replacements[d["id"]] = reps
    forms = {f.casefold() for e in entities for f in e.forms}
    possible = [p for p in possible if p["word"].casefold() not in forms and not _whole_hit(matcher, p["word"])]
    inflected = inflected_forms(r for reps in replacements.values() for r in reps)
    if inflected:
        words = ", ".join(f"{row['word']} ×{row['count']}" for row in inflected[:12])
        warnings.append(f"{len(inflected)} inflected form(s) of names are replaced too ({words}"
                        f"{' …' if len(inflected) > 12 else ''}); check them in the report, and put `!Word` in "
                        "the list for a word that is not a name")
    for e in entities:
        if e.count == 0 and "list" in e.sources:
            warnings.append(f"{e.real!r} from the list does not occur in any document")
    plan = Plan(entities, replacements, possible, warnings, {d["id"]: d["sha256"] for d in docs}, matcher)
    plan.fields = len(_field_changes(project.conn, matcher))
    return plan


def _whole_hit(matcher: Matcher, word: str) -> bool:
    return any(h.start == 0 and h.end == len(word) for h in matcher.finditer(word))


def _entities(found: list[tuple[Found, str | None]], excluded: set[str], warnings: list[str],
              key_forms: dict[tuple[str, str], set[str]]) -> list[Entity]:
    """One entity per real name; a person's first and last names also match alone, unless
    two people share them (then the shared word gets a pseudonym of its own)."""
    by_key: dict[tuple[str, str], Entity] = {}
    chosen: dict[tuple[str, str], str] = {}
    speakers: dict[str, list[tuple[str, str]]] = {}
    for f, pseudo in sorted(found, key=lambda fp: _PRIORITY[fp[0].source]):
        real = " ".join(f.text.split())
        if real.isupper() and f.source in ("legend", "attribute"):
            real = real.title()
        if not real:
            continue
        key = (f.kind, real.casefold())
        ent = by_key.setdefault(key, Entity(real, f.kind))
        ent.sources.add(f.source)
        ent.forms |= variants(f.text) | variants(real) | key_forms.get(key, set())
        if pseudo and key not in chosen:
            chosen[key] = pseudo
        if f.speaker:
            speakers.setdefault(f.speaker, []).append(key)
    # one person: a speaker's label and name; or a single name that is part of exactly one full name
    merge: dict[tuple[str, str], tuple[str, str]] = {}
    for keys in speakers.values():
        longest = max(keys, key=lambda k: (len(k[1].split()), len(k[1]), k[1]))
        merge.update({k: longest for k in keys if k != longest and k not in chosen})
    full = [k for k in by_key if k[0] == PERSON and len(k[1].split()) > 1]
    for key, ent in by_key.items():
        if key[0] == PERSON and len(key[1].split()) == 1 and key not in chosen and key not in merge \
                and ent.sources <= {"legend", "attribute", "ner", "rule"}:
            holders = [k for k in full if key[1] in k[1].split()]
            if len(holders) == 1:
                merge[key] = holders[0]
    for key, into in merge.items():
        seen = {key}
        while into in merge and into not in seen:
            seen.add(into)
            into = merge[into]
        if key in by_key and into in by_key and into != key:
            ent = by_key.pop(key)
            by_key[into].forms |= ent.forms
            by_key[into].sources |= ent.sources
    owners: dict[str, list[Entity]] = {}
    for ent in list(by_key.values()):
        if ent.kind != PERSON or len(ent.real.split()) < 2:
            continue
        for part in ent.real.split():
            word = part.strip(".,'’")
            if len(word) >= 3 and word.casefold() not in excluded and word not in STOP_WORDS \
                    and not is_role_label(word) and word[0].isupper():
                owners.setdefault(word.casefold(), []).append(ent)
    for word, ents in owners.items():
        if (PERSON, word) in by_key:
            continue   # a name of its own already
        if len({id(e) for e in ents}) == 1:
            ents[0].forms |= {f for part in ents[0].real.split() if part.strip(".,'’").casefold() == word
                              for f in variants(part.strip(".,'’"))}
        else:
            alone = next(p for p in ents[0].real.split() if p.strip(".,'’").casefold() == word).strip(".,'’")
            by_key[(PERSON, word)] = Entity(alone, PERSON, sources={"part"}, forms=variants(alone))
            warnings.append(f"{alone!r} is part of several names ({', '.join(sorted({e.real for e in ents}))}); "
                            "alone it gets a pseudonym of its own")
    claimed: dict[str, Entity] = {}
    for ent in sorted(by_key.values(), key=lambda e: min(_PRIORITY[s] for s in e.sources)):
        for form in sorted(ent.forms):
            other = claimed.setdefault(form, ent)
            if other is not ent:
                ent.forms.discard(form)
                if form == ent.real:
                    warnings.append(f"{form!r} is both a {other.kind} and a {ent.kind}; treated as a {other.kind}")
    for key, pseudo in chosen.items():
        by_key[key].pseudonym = pseudo
    return [e for e in by_key.values() if e.forms]


def _assign_pseudonyms(entities: list[Entity], from_key: dict) -> None:
    """Earlier runs' pseudonyms first, then numbers in order of first appearance."""
    for e in entities:
        if not e.pseudonym:
            e.pseudonym = from_key.get((e.kind, e.real.casefold()), "")
    used = {e.pseudonym for e in entities if e.pseudonym} | set(from_key.values())
    counters: dict[str, int] = {}

    def next_free(prefix: str, letters: bool) -> str:
        while True:
            counters[prefix] = counters.get(prefix, 0) + 1
            n = counters[prefix]
            label = f"{prefix} {_letters(n) if letters else n}"
            if label not in used:
                used.add(label)
                return label

    for e in sorted(entities, key=lambda e: (e.first, e.real)):
        if e.pseudonym:
            continue
        if e.kind == PERSON:
            e.pseudonym = next_free("Participant", False)
        elif e.kind == PLACE:
            e.pseudonym = next_free("Place", True)
        else:
            kind = next((w for w in _ORG_TYPES if re.search(rf"(?<!\w){w}(?!\w)", e.real, re.I)), "Organisation")
            e.pseudonym = next_free(kind, True)


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


# --- applying --------------------------------------------------------------------------------------

_FIELDS = [("documents", ("name", "source_name")), ("document_attributes", ("value",)),
           ("speakers", ("label",)), ("speaker_attributes", ("value",)), ("codings", ("memo",)),
           ("memos", ("title", "text")), ("codes", ("description", "when_to_use", "when_not_to_use", "examples")),
           ("suggestions", ("evidence",)), ("sets", ("name", "description")), ("settings", ("value",))]
_JSON_FIELDS = ("examples", "evidence", "value")


def _field_changes(conn, matcher: Matcher) -> list[tuple[str, str, dict]]:
    """Every short field that mentions a name, with its new value (JSON fields decoded first)."""
    changes = []
    for table, cols in _FIELDS:
        for row in conn.execute(f"SELECT id, {', '.join(cols)} FROM {table}"):
            values = {}
            for col in cols:
                old = row[col]
                new = _sub_json(old, matcher) if col in _JSON_FIELDS else matcher.sub(old)
                if new != old:
                    values[col] = new
            if values:
                changes.append((table, row["id"], values))
    return changes


def _sub_json(raw: str | None, matcher: Matcher) -> str | None:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return matcher.sub(raw)

    def walk(v):
        if isinstance(v, str):
            return matcher.sub(v)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {walk(k): walk(x) for k, x in v.items()}
        return v

    new = walk(data)
    return raw if new == data else json.dumps(new, ensure_ascii=False)


class EditMap:
    """Old offsets to new ones across a list of (old_start, old_end, new_start, new_end) edits.
    A position inside a replaced name goes to the pseudonym's start (span starts) or end (span ends)."""

    def __init__(self, edits: list[tuple[int, int, int, int]]):
        self.edits = edits
        self.starts = [e[0] for e in edits]

    def map(self, pos: int, side: str) -> int:
        i = bisect.bisect_right(self.starts, pos) - 1
        if i < 0:
            return pos
        old_start, old_end, new_start, new_end = self.edits[i]
        if pos >= old_end:
            return pos + new_end - old_end
        if pos == old_start:
            return new_start
        return new_start if side == "start" else new_end


@dataclass
class Report:
    replacements: list[Replacement]
    entities: list[Entity]
    documents: int
    fields: int
    codings_moved: int
    key_path: Path
    purge: dict | None = None
    warnings: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)    # documents: (old name, new name)

    def rows(self) -> list[dict]:
        return [{"document": r.document, "start": r.start, "length": r.end - r.start, "new_start": r.new_start,
                 "pseudonym": r.pseudonym, "original": r.original, "kind": r.entity.kind,
                 "source": ",".join(sorted(r.entity.sources)), "ending": r.ending} for r in self.replacements]

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["document", "start", "length", "new_start", "pseudonym", "original",
                                            "kind", "source", "ending"])
        w.writeheader()
        w.writerows(self.rows())
        return buf.getvalue()

    def as_dict(self) -> dict:
        return {"documents": self.documents, "replacements": len(self.replacements), "fields": self.fields,
                "codings_moved": self.codings_moved, "key": str(self.key_path), "purge": self.purge,
                "entities": [e.as_dict() for e in self.entities], "warnings": self.warnings,
                "inflected": inflected_forms(self.replacements),
                "renamed_documents": [{"from": a, "to": b} for a, b in self.renamed]}


def apply_plan(project: Project, plan: Plan, key_path, *, purge: bool = True, coder: str | None = None) -> Report:
    """Write the key, then rewrite the project in one change; then (by default) purge the history."""
    key = check_private_path(project, key_path, "key")
    if not plan.entities:
        raise QualcodeError("no names to replace: give a list with --names FILE (one name a line); nothing changed")
    write_key(key, project, plan.entities)      # first: if it fails, the project is untouched
    project.conn.execute("PRAGMA secure_delete = ON")
    moved = 0
    changed_docs = [d for d, reps in plan.replacements.items() if reps]
    with project.change("anonymise", f"Anonymised {len(changed_docs)} document(s): "
                        f"{sum(len(r) for r in plan.replacements.values())} replacement(s)", coder) as ch:
        now_docs = {r["id"]: r["sha256"] for r in ch.conn.execute("SELECT id, sha256 FROM documents")}
        if now_docs != plan.fingerprints:
            raise QualcodeError("the project changed after the names were found; run the anonymisation again")
        for doc_id in changed_docs:
            moved += _rewrite_document(ch, doc_id, plan.replacements[doc_id])
        changes = _field_changes(ch.conn, plan.matcher)
        renamed = []
        for table, row_id, values in changes:
            if table == "documents" and "name" in values:
                old = ch.conn.execute("SELECT name FROM documents WHERE id = ?", (row_id,)).fetchone()["name"]
                renamed.append((old, values["name"]))
            ch.update(table, row_id, values)
        ch.set_setting("anonymised", True)
        ch.set_setting("anonymised_at", now())
        ch.set_setting("anonymised_history_purged", False)   # purge_history() sets it once done
        ch.set_setting("anonymised_documents", {r["id"]: r["sha256"] for r in
                                                ch.conn.execute("SELECT id, sha256 FROM documents")})
    report = Report([r for d in changed_docs for r in plan.replacements[d]], plan.entities, len(changed_docs),
                    len(changes), moved, key, warnings=list(plan.warnings), renamed=renamed)
    if purge:
        report.purge = purge_history(project, plan.matcher)
    return report


def _rewrite_document(ch, doc_id: str, reps: list[Replacement]) -> int:
    text = ch.conn.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()["text"]
    pieces, edits, last, shift = [], [], 0, 0
    for r in reps:
        pieces += [text[last:r.start], r.pseudonym]
        r.new_start = r.start + shift
        edits.append((r.start, r.end, r.new_start, r.new_start + len(r.pseudonym)))
        shift += len(r.pseudonym) - (r.end - r.start)
        last = r.end
    new = "".join(pieces) + text[last:]
    ch.update("documents", doc_id, {"text": new, "sha256": hashlib.sha256(new.encode("utf-8")).hexdigest()})
    edit = EditMap(edits)
    for table, cols in (("turns", ("start", "end", "text_start")), ("paragraphs", ("start", "end")),
                        ("sentences", ("start", "end")), ("suggestions", ("start", "end"))):
        for row in ch.conn.execute(f'SELECT id, {", ".join(_q(c) for c in cols)} FROM {table} WHERE document_id = ?',
                                   (doc_id,)).fetchall():
            values = {c: edit.map(row[c], "end" if c == "end" else "start") for c in cols}
            if any(values[c] != row[c] for c in cols):
                ch.update(table, row["id"], values)
    moved = 0
    for row in ch.conn.execute('SELECT id, start, "end" FROM codings WHERE document_id = ?', (doc_id,)).fetchall():
        s, e = edit.map(row["start"], "start"), edit.map(row["end"], "end")
        before, after = textmod.context(new, s, e)
        values = {"start": s, "end": e, "text": new[s:e], "context_before": before, "context_after": after}
        moved += (s, e) != (row["start"], row["end"])
        ch.update("codings", row["id"], values)
    return moved


def _q(name: str) -> str:
    return f'"{name}"'


# --- the history and the file ----------------------------------------------------------------------

def purge_history(project: Project, matcher: Matcher | None = None) -> dict:
    """Empty the undo journal up to the latest anonymisation (summaries scrubbed), delete older
    backups, and rewrite the file, so the real names are gone from the disk."""
    from qualcode.store.purge import purge_journal

    row = project.one("SELECT MAX(seq) AS seq FROM events WHERE kind = 'anonymise' AND state = 'done'")
    if row is None or row["seq"] is None:
        raise QualcodeError("nothing to purge: the project has no anonymisation in its history")
    return purge_journal(project, row["seq"], matcher.sub if matcher else None,
                         "Purged the undo history before the anonymisation",
                         settings={"anonymised_history_purged": True})


def anonymisation_status(project: Project) -> dict:
    recorded = project.setting("anonymised_documents", {}) or {}
    changed = [r["name"] for r in project.query("SELECT id, name, sha256 FROM documents ORDER BY position, name")
               if recorded.get(r["id"]) != r["sha256"]]
    return {"anonymised": bool(project.setting("anonymised", False)), "at": project.setting("anonymised_at"),
            "history_purged": bool(project.setting("anonymised_history_purged", False)),
            "changed_documents": changed, "required": bool(project.setting("require_anonymised", False))}


def require_anonymised(project: Project, force: bool = False) -> None:
    """For exports: refuse when anonymisation is required (QUALCODE_REQUIRE_ANONYMISED=1 or the
    project's `require_anonymised` setting) and the project is not anonymised, or a document
    was added or changed since. Does nothing when it is not required."""
    env = os.environ.get("QUALCODE_REQUIRE_ANONYMISED", "").strip().lower() in ("1", "true", "yes")
    if not (force or env or project.setting("require_anonymised", False)):
        return
    status = anonymisation_status(project)
    if not status["anonymised"]:
        raise QualcodeError("this project must be anonymised before anything is exported; run "
                            "`qualcode anonymize --names FILE --key FILE` first")
    if status["changed_documents"]:
        raise QualcodeError(f"{status['changed_documents'][0]!r} was imported or changed after the anonymisation; "
                            "run `qualcode anonymize` again before exporting")


def preview(project: Project, names=None, places=None, orgs=None, **options) -> dict:
    """What an anonymisation would do (for the app's preview): plan_anonymisation(...).summary()."""
    return plan_anonymisation(project, names, places, orgs, **options).summary()
