"""Crash harness, the child side: random actions through qualcode's write path until SIGKILL.

A forked child opens the project and acts until it is killed: code, uncode, memos, codebook
edits (add, rename, move, merge, delete, favourite, import), document imports (new and
--replace), bulk codings, suggestions stored, accepted and rejected, undo, redo and backups,
calling the functions the app and the CLI call. Before each action it writes an intent line
to its log; after the function returns, an acknowledgement line, flushed and fsynced. What the
parent then checks is in crash_harness.py.

Forking (instead of starting a fresh interpreter) lets each round start in milliseconds with
spaCy already loaded.
"""

from __future__ import annotations

import json
import os
import random
import traceback
from pathlib import Path

CODERS = ("aysel", "rashad", "tester")
WORDS = ("money", "transfer", "bank", "card", "fees", "rate", "family", "mother", "Moscow", "Baku", "village",
         "trust", "rules", "passport", "remittance", "phone", "app", "cash", "house", "school", "pension",
         "ödəniş", "pul", "ailə", "şəhər", "деньги", "перевод", "семья", "🙂", "[laughs]", "winter", "wedding")
SPEAKERS = ("Interviewer", "Respondent", "R2")


def transcript(rng: random.Random, turns: int | None = None) -> str:
    out = []
    for t in range(turns or rng.randint(4, 10)):
        sentences = []
        for _ in range(rng.randint(1, 3)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(3, 12))]
            sentences.append(" ".join(words).capitalize() + rng.choice(".?!"))
        out.append(f"{SPEAKERS[0] if t % 2 == 0 else rng.choice(SPEAKERS[1:])}: {' '.join(sentences)}")
    return "\n\n".join(out) + "\n"


def parse(name: str, text: str):
    from qualcode.ingest.importer import parse_text

    return parse_text(text, name, f"{name}.md", "md", doc_type=None, attrs={"city": "Baku"})


class Actions:
    """Each action picks its target from the project, acts through the core, returns a detail."""

    def __init__(self, project, rng: random.Random, tag: str):
        self.p, self.rng, self.tag, self.n = project, rng, tag, 0

    def _pick(self, sql: str, params=()):
        count = self.p.one(f"SELECT COUNT(*) FROM ({sql})", params)[0]
        return self.p.one(f"{sql} LIMIT 1 OFFSET {self.rng.randrange(count)}", params) if count else None

    def _doc(self):
        return self._pick("SELECT id, name, length(text) AS n FROM documents ORDER BY rowid")

    def _code(self):
        return self._pick("SELECT id, path, name FROM codes ORDER BY rowid")

    def _coding(self):
        return self._pick("SELECT c.id, c.start, c.\"end\", d.name AS doc, k.path FROM codings c "
                          "JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id ORDER BY c.rowid")

    def _span(self, doc):
        if self.rng.random() < 0.6:
            s = self._pick("SELECT start, \"end\" FROM sentences WHERE document_id = ? ORDER BY idx", (doc["id"],))
            if s:
                return s["start"], s["end"]
        start = self.rng.randrange(max(doc["n"] - 1, 1))
        return start, min(doc["n"], start + self.rng.randint(1, 80))

    def _name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.tag}-{self.n}"

    # change actions ------------------------------------------------------------------------------
    def code(self):
        from qualcode.coding import apply_code
        doc, code = self._doc(), self._code()
        start, end = self._span(doc)
        memo = "why: " + self.rng.choice(WORDS) if self.rng.random() < 0.2 else None
        coding = apply_code(self.p, doc["name"], start, end, code["path"], self.rng.choice(CODERS), memo)
        return {"coding": coding["id"]}

    def uncode(self):
        from qualcode.coding import uncode
        c = self._coding()
        if c is None:
            return self.code()
        code = c["path"] if self.rng.random() < 0.7 else None  # one code, or every code on the span
        return {"removed": uncode(self.p, c["doc"], c["start"], c["end"], code)}

    def remove_coding(self):
        from qualcode.coding import remove_coding
        c = self._coding()
        if c is None:
            return self.code()
        remove_coding(self.p, c["id"])
        return {"coding": c["id"]}

    def memo(self):
        from qualcode.coding import write_memo
        kind = self.rng.choice(("document", "code", "project", "coding"))
        target = {"document": self._doc, "code": self._code, "project": lambda: None, "coding": self._coding}[kind]()
        if kind in ("coding", "code", "document") and target is None:
            kind, target = "project", None
        text = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(1, 30)))
        return {"memo": write_memo(self.p, kind, target["id"] if target else None, text, self.rng.choice(CODERS))}

    def add_code(self):
        from qualcode.codebook import add_code
        parent = self._code() if self.rng.random() < 0.7 else None
        path = (parent["path"] + "/" if parent and parent["path"].count("/") < 3 else "") + self._name("C")
        return {"code": add_code(self.p, path, description=self.rng.choice(WORDS))}

    def rename_code(self):
        from qualcode.codebook import rename_code
        c = self._code()
        return {"path": rename_code(self.p, c["path"], c["name"].split(" ~")[0] + f" ~{self.rng.randrange(100)}")}

    def move_code(self):
        from qualcode.codebook import move_code
        c, parent = self._code(), (self._code() if self.rng.random() < 0.8 else None)
        return {"path": move_code(self.p, c["path"], parent["path"] if parent else None)}

    def merge_codes(self):
        from qualcode.codebook import merge_codes
        src, dst = self._code(), self._code()
        return {"moved": merge_codes(self.p, src["path"], dst["path"])}

    def delete_code(self):
        from qualcode.codebook import delete_code
        if self.p.one("SELECT COUNT(*) FROM codes")[0] < 20:
            return self.add_code()
        leaf = self._pick("SELECT path FROM codes c WHERE NOT EXISTS (SELECT 1 FROM codes k WHERE k.parent_id = c.id) "
                          "ORDER BY rowid")
        return {"removed": delete_code(self.p, leaf["path"])}

    def update_code(self):
        from qualcode.codebook import update_code
        c = self._code()
        if self.rng.random() < 0.5:
            update_code(self.p, c["path"], shortcut=self.rng.randint(1, 9))
        else:
            update_code(self.p, c["path"], description=" ".join(self.rng.choice(WORDS) for _ in range(8)))
        return {}

    def import_codebook(self):
        from qualcode.codebook import CodeSpec, import_specs
        specs = [CodeSpec(self._code()["path"], description="imported " + self.rng.choice(WORDS))]
        specs += [CodeSpec(f"Imported/{self._name('K')}", keywords=[self.rng.choice(WORDS)]) for _ in range(3)]
        return import_specs(self.p, specs, summary="Imported a codebook file")

    def import_document(self):
        from qualcode.documents import store_documents
        out = store_documents(self.p, [parse(self._name("D"), transcript(self.rng))])
        return {"created": out.created}

    def replace_document(self):
        from qualcode.documents import store_documents
        doc = self.p.one("SELECT name, text FROM documents WHERE id = ?", (self._doc()["id"],))
        paras = doc["text"].split("\n\n")
        paras.insert(self.rng.randrange(len(paras) + 1), transcript(self.rng, 1).strip())
        out = store_documents(self.p, [parse(doc["name"], "\n\n".join(paras))], replace=True)
        return {"replaced": out.replaced, "unplaced": len(out.unplaced)}

    def import_codings(self):
        from qualcode.coding import SpanRequest, import_codings
        requests = []
        for _ in range(self.rng.randint(2, 12)):
            doc, code = self._doc(), self._code()
            start, end = self._span(doc)
            requests.append(SpanRequest(doc["name"], start, end, code["path"], self.rng.choice(CODERS)))
        return {"added": import_codings(self.p, requests, summary="Imported codings")}

    def suggest(self):
        from qualcode.store.project import new_id, now
        rows = []
        for _ in range(self.rng.randint(1, 6)):
            doc, code = self._doc(), self._code()
            start, end = self._span(doc)
            rows.append({"id": new_id(), "document_id": doc["id"], "code_id": code["id"], "start": start, "end": end,
                         "unit": "sentence", "score": round(self.rng.random(), 3),
                         "evidence": json.dumps({"terms": [self.rng.choice(WORDS)]}, ensure_ascii=False),
                         "model_version": "harness", "status": "open", "created_at": now()})
        with self.p.change("suggestion", f"Stored {len(rows)} suggestions") as ch:
            ch.insert_many("suggestions", rows)
        return {"suggestions": len(rows)}

    def accept(self):
        from qualcode.suggestions import accept_suggestion
        s = self._pick("SELECT id FROM suggestions WHERE status = 'open' ORDER BY rowid")
        return {"coding": accept_suggestion(self.p, s["id"], self.rng.choice(CODERS))} if s else self.suggest()

    def reject(self):
        from qualcode.suggestions import reject_suggestion
        s = self._pick("SELECT id FROM suggestions WHERE status = 'open' ORDER BY rowid")
        if s is None:
            return self.suggest()
        reject_suggestion(self.p, s["id"])
        return {}

    # history and backups -------------------------------------------------------------------------
    def undo(self):
        event = self.p.undo()
        return {"event": event["id"] if event else None}

    def redo(self):
        event = self.p.redo()
        return {"event": event["id"] if event else None}

    def backup(self):
        from qualcode.store import backup
        return {"backup": backup.rotate(self.p, "on exit", keep=3).name}


# action -> (weight, kind): kind "change" may add one event; "undo"/"redo" flip one; "none" neither
PLAN = {
    "code": (30, "change"), "uncode": (7, "change"), "remove_coding": (4, "change"), "memo": (8, "change"),
    "add_code": (5, "change"), "rename_code": (3, "change"), "move_code": (2, "change"), "merge_codes": (2, "change"),
    "delete_code": (1, "change"), "update_code": (3, "change"), "import_codebook": (1, "change"),
    "import_document": (2, "change"), "replace_document": (1, "change"), "import_codings": (3, "change"),
    "suggest": (3, "change"), "accept": (4, "change"), "reject": (2, "change"),
    "undo": (6, "undo"), "redo": (3, "redo"), "backup": (1, "none"),
}


def child(db: Path, log_path: Path, seed: int) -> None:
    """Act until killed. Runs in the forked process; never returns normally."""
    from qualcode.errors import QualcodeError
    from qualcode.store.project import Project

    rng = random.Random(seed)
    names = list(PLAN)
    weights = [PLAN[n][0] for n in names]
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    project = Project(db)
    actions = Actions(project, rng, f"s{seed}")
    for n in range(10**9):
        name = rng.choices(names, weights)[0]
        kind = PLAN[name][1]
        if kind == "change" and name not in ("import_document", "add_code"):
            # undoing far enough empties the project: give the other actions something to work on
            if not project.one("SELECT 1 FROM documents"):
                name = "import_document"
            elif not project.one("SELECT 1 FROM codes"):
                name = "add_code"
        before = project.one("SELECT COALESCE(MAX(seq), 0) FROM events")[0]
        os.write(log, f"I\t{n}\t{kind}\t{name}\n".encode())
        try:
            detail, status = getattr(actions, name)(), "ok"
        except QualcodeError as exc:  # refused (e.g. merging a code into its own child): nothing written
            detail, status = {"refused": str(exc)}, "refused"
        new = [r[0] for r in project.query("SELECT id FROM events WHERE seq > ? ORDER BY seq", (before,))]
        ack = {"n": n, "action": name, "kind": kind, "status": status, "new_events": new, **detail}
        os.write(log, ("A\t" + json.dumps(ack, ensure_ascii=False, default=str) + "\n").encode())
        os.fsync(log)


def spawn(db: Path, log_path: Path, seed: int) -> int:
    pid = os.fork()
    if pid == 0:  # the child: act until killed, report any unexpected error
        status = 0
        try:
            child(db, log_path, seed)
        except BaseException:
            Path(str(log_path) + ".err").write_text(traceback.format_exc(), encoding="utf-8")
            status = 3
        finally:
            os._exit(status)
    return pid
