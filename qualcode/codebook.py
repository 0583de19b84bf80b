"""The codebook in a project: a tree of codes addressed by path (`Barriers/Fees`).

Adding, renaming, moving and merging codes keep their codings: codings point at a code's id,
and a rename or move only rewrites paths. Every edit is one change (one undo step).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from qualcode.errors import QualcodeError
from qualcode.store.project import Change, Project, new_id, now

SEP = "/"
FIELDS = ("description", "when_to_use", "when_not_to_use", "examples", "keywords", "color", "shortcut")
PALETTE = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
           "#9C755F", "#BAB0AC"]


@dataclass
class CodeSpec:
    """A code as read from a codebook file, before it is in a project."""
    path: str
    description: str | None = None
    when_to_use: str | None = None
    when_not_to_use: str | None = None
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    color: str | None = None
    shortcut: int | None = None
    guid: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit(SEP, 1)[-1]

    @property
    def parent(self) -> str | None:
        return self.path.rsplit(SEP, 1)[0] if SEP in self.path else None


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise QualcodeError("a code needs a name")
    if SEP in name:
        raise QualcodeError(f"code names cannot contain '{SEP}' (it separates levels): {name!r}")
    if any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in name):
        raise QualcodeError(f"code name {name!r} contains control characters")
    return name


def usable_code_name(raw: str | None, fallback: str = "(unnamed)") -> str:
    """A name from another tool made acceptable to check_name: '/' becomes '-', control characters go."""
    name = (raw or "").strip().replace(SEP, "-")
    name = "".join(ch for ch in name if ord(ch) >= 32 and not 0x7F <= ord(ch) <= 0x9F).strip()
    return name or fallback


# --- reads -----------------------------------------------------------------------------------

def all_codes(project: Project) -> list[dict]:
    rows = project.query("SELECT * FROM codes ORDER BY path")
    counts = {r["code_id"]: r["n"] for r in project.query("SELECT code_id, COUNT(*) AS n FROM codings GROUP BY code_id")}
    out = []
    for r in rows:
        d = dict(r)
        d["examples"] = json.loads(d["examples"] or "[]")
        d["keywords"] = json.loads(d["keywords"] or "[]")
        d["parent"] = d["path"].rsplit(SEP, 1)[0] if SEP in d["path"] else None
        d["codings"] = counts.get(r["id"], 0)
        out.append(d)
    return _tree_order(out)


def _tree_order(codes: list[dict]) -> list[dict]:
    """Depth-first, siblings by position then name — the order a codebook is read in."""
    children: dict[str | None, list[dict]] = {}
    for c in codes:
        children.setdefault(c["parent_id"], []).append(c)
    out: list[dict] = []

    def walk(pid, depth):
        for c in sorted(children.get(pid, []), key=lambda c: (c["position"], c["name"].lower())):
            c["depth"] = depth
            out.append(c)
            walk(c["id"], depth + 1)

    walk(None, 0)
    return out


def find_code(project: Project, ref: str):
    """A code by path, or by name when the name is unique."""
    ref = (ref or "").strip().strip(SEP)
    row = project.one("SELECT * FROM codes WHERE path = ?", (ref,))
    if row is not None:
        return row
    rows = project.query("SELECT * FROM codes WHERE name = ?", (ref,)) or \
        project.query("SELECT * FROM codes WHERE lower(name) = lower(?)", (ref,)) or \
        project.query("SELECT * FROM codes WHERE lower(path) = lower(?)", (ref,))
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        raise QualcodeError(f"code name {ref!r} is ambiguous: use its path ({', '.join(r['path'] for r in rows)})")
    raise QualcodeError(f"unknown code {ref!r}; `qualcode codebook show` lists them")


def descendants(project: Project, code_id: str) -> list[str]:
    path = project.one("SELECT path FROM codes WHERE id = ?", (code_id,))["path"]
    return [r["id"] for r in project.query("SELECT id FROM codes WHERE path LIKE ? ESCAPE '\\'",
                                           (_like_prefix(path) + "%",))]


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + SEP


# --- edits -----------------------------------------------------------------------------------

def _code_row(spec: CodeSpec, parent_id: str | None, position: int) -> dict:
    return {"id": spec.guid or new_id(), "parent_id": parent_id, "name": spec.name, "path": spec.path,
            "description": spec.description, "when_to_use": spec.when_to_use,
            "when_not_to_use": spec.when_not_to_use, "examples": json.dumps(spec.examples, ensure_ascii=False),
            "keywords": json.dumps(spec.keywords, ensure_ascii=False), "color": spec.color,
            "shortcut": spec.shortcut, "position": position, "created_at": now()}


def ensure_path(ch: Change, path: str) -> str:
    """The id of the code at path, creating it and any missing parents."""
    parts = [check_name(p) for p in path.strip(SEP).split(SEP)]
    parent_id = None
    for i in range(len(parts)):
        sub = SEP.join(parts[:i + 1])
        row = ch.conn.execute("SELECT id FROM codes WHERE path = ?", (sub,)).fetchone()
        if row is None:
            position = ch.conn.execute("SELECT COUNT(*) FROM codes WHERE parent_id IS ?", (parent_id,)).fetchone()[0]
            spec = CodeSpec(sub, color=_default_color(ch, parent_id, position))
            parent_id = ch.insert("codes", _code_row(spec, parent_id, position))
        else:
            parent_id = row["id"]
    return parent_id


def _default_color(ch: Change, parent_id: str | None, position: int) -> str:
    if parent_id:
        row = ch.conn.execute("SELECT color FROM codes WHERE id = ?", (parent_id,)).fetchone()
        if row and row["color"]:
            return row["color"]
    return PALETTE[position % len(PALETTE)]


def add_code(project: Project, path: str, coder: str | None = None, **fields) -> str:
    path = SEP.join(check_name(p) for p in path.strip().strip(SEP).split(SEP))
    if project.one("SELECT 1 FROM codes WHERE path = ?", (path,)):
        raise QualcodeError(f"code {path!r} already exists")
    with project.change("codebook", f"Added code {path}", coder) as ch:
        code_id = ensure_path(ch, path)
        values = {k: (json.dumps(v, ensure_ascii=False) if k in ("examples", "keywords") else v)
                  for k, v in fields.items() if k in FIELDS and v is not None}
        if values:
            ch.update("codes", code_id, values)
    return code_id


def import_specs(project: Project, specs: list[CodeSpec], coder: str | None = None, summary: str = "") -> dict:
    """Merge codes by path: new paths are added, existing ones get the file's definitions."""
    added = updated = 0
    with project.change("codebook", summary or f"Imported codebook ({len(specs)} codes)", coder) as ch:
        for pos, spec in enumerate(specs):
            row = ch.conn.execute("SELECT * FROM codes WHERE path = ?", (spec.path,)).fetchone()
            if row is None:
                parent_id = ensure_path(ch, spec.parent) if spec.parent else None
                if spec.guid and ch.conn.execute("SELECT 1 FROM codes WHERE id = ?", (spec.guid,)).fetchone():
                    spec.guid = None
                if spec.color is None:
                    spec.color = _default_color(ch, parent_id, pos)
                ch.insert("codes", _code_row(spec, parent_id, pos))
                added += 1
            else:
                values = {k: (json.dumps(getattr(spec, k), ensure_ascii=False) if k in ("examples", "keywords")
                              else getattr(spec, k)) for k in FIELDS}
                values = {k: v for k, v in values.items() if v not in (None, "[]")}
                before = {k: row[k] for k in values}
                if values and before != values:
                    ch.update("codes", row["id"], values)
                    updated += 1
    return {"added": added, "updated": updated}


def update_code(project: Project, ref: str, coder: str | None = None, **fields) -> None:
    row = find_code(project, ref)
    values = {k: (json.dumps(v, ensure_ascii=False) if k in ("examples", "keywords") else v)
              for k, v in fields.items() if k in FIELDS}
    with project.change("codebook", f"Edited code {row['path']}", coder) as ch:
        if "shortcut" in values and values["shortcut"] is not None:
            # a favourite number belongs to one code at a time
            for other in ch.conn.execute("SELECT id FROM codes WHERE shortcut = ? AND id != ?",
                                         (values["shortcut"], row["id"])).fetchall():
                ch.update("codes", other["id"], {"shortcut": None})
        ch.update("codes", row["id"], values)


def rename_code(project: Project, ref: str, new_name: str, coder: str | None = None) -> str:
    row = find_code(project, ref)
    new_name = check_name(new_name)
    parent = row["path"].rsplit(SEP, 1)[0] + SEP if SEP in row["path"] else ""
    return _repath(project, row, parent + new_name, row["parent_id"], f"Renamed {row['path']} to {new_name}", coder)


def move_code(project: Project, ref: str, new_parent: str | None, coder: str | None = None) -> str:
    row = find_code(project, ref)
    parent_row = find_code(project, new_parent) if new_parent else None
    if parent_row is not None and (parent_row["id"] == row["id"] or parent_row["path"].startswith(row["path"] + SEP)):
        raise QualcodeError(f"cannot move {row['path']} under itself")
    new_path = (parent_row["path"] + SEP if parent_row else "") + row["name"]
    return _repath(project, row, new_path, parent_row["id"] if parent_row else None,
                   f"Moved {row['path']} to {new_parent or 'the top level'}", coder)


def _repath(project: Project, row, new_path: str, parent_id: str | None, summary: str, coder) -> str:
    if new_path == row["path"] and parent_id == row["parent_id"]:
        return new_path
    if project.one("SELECT 1 FROM codes WHERE path = ?", (new_path,)):
        raise QualcodeError(f"a code {new_path!r} already exists; merge them with `qualcode codebook merge`")
    old = row["path"]
    with project.change("codebook", summary, coder) as ch:
        ch.update("codes", row["id"], {"path": new_path, "name": new_path.rsplit(SEP, 1)[-1], "parent_id": parent_id})
        for d in ch.conn.execute("SELECT id, path FROM codes WHERE path LIKE ? ESCAPE '\\'",
                                 (_like_prefix(old) + "%",)).fetchall():
            ch.update("codes", d["id"], {"path": new_path + d["path"][len(old):]})
    return new_path


def merge_codes(project: Project, source: str, target: str, coder: str | None = None) -> int:
    """Move every coding (and child code) of source onto target, then delete source."""
    src, dst = find_code(project, source), find_code(project, target)
    if src["id"] == dst["id"]:
        raise QualcodeError("cannot merge a code into itself")
    if dst["path"].startswith(src["path"] + SEP):
        raise QualcodeError(f"cannot merge {src['path']} into its own sub-code")
    with project.change("codebook", f"Merged {src['path']} into {dst['path']}", coder) as ch:
        moved = 0
        for c in ch.conn.execute("SELECT id FROM codings WHERE code_id = ?", (src["id"],)).fetchall():
            ch.update("codings", c["id"], {"code_id": dst["id"], "updated_at": now()})
            moved += 1
        for s in ch.conn.execute("SELECT id FROM suggestions WHERE code_id = ?", (src["id"],)).fetchall():
            ch.update("suggestions", s["id"], {"code_id": dst["id"]})
        for child in ch.conn.execute("SELECT id, name, path FROM codes WHERE parent_id = ?", (src["id"],)).fetchall():
            new_path = dst["path"] + SEP + child["name"]
            if ch.conn.execute("SELECT 1 FROM codes WHERE path = ?", (new_path,)).fetchone():
                raise QualcodeError(f"{dst['path']} already has a sub-code {child['name']!r}; merge those first")
            ch.update("codes", child["id"], {"parent_id": dst["id"], "path": new_path})
            for d in ch.conn.execute("SELECT id, path FROM codes WHERE path LIKE ? ESCAPE '\\'",
                                     (_like_prefix(child["path"]) + "%",)).fetchall():
                ch.update("codes", d["id"], {"path": new_path + d["path"][len(child["path"]):]})
        ch.delete_where("set_members", "code_id = ?", (src["id"],))
        ch.delete("codes", src["id"])
    return moved


def delete_code(project: Project, ref: str, coder: str | None = None) -> int:
    """Delete a code, its sub-codes and their codings (one undo step restores all)."""
    row = find_code(project, ref)
    ids = [row["id"], *descendants(project, row["id"])]
    marks = ",".join("?" * len(ids))
    with project.change("codebook", f"Deleted code {row['path']}", coder) as ch:
        n = ch.delete_where("codings", f"code_id IN ({marks})", ids)
        ch.delete_where("suggestions", f"code_id IN ({marks})", ids)
        ch.delete_where("set_members", f"code_id IN ({marks})", ids)
        paths = {r["id"]: r["path"] for r in ch.conn.execute(f"SELECT id, path FROM codes WHERE id IN ({marks})", ids)}
        for cid in sorted(ids, key=lambda i: -paths[i].count(SEP)):  # children before parents
            ch.delete("codes", cid)
    return n
