"""Merging another coder's copy of a project (.db or .qdpx): by id, both codings kept, conflicts said."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from support import file_digest, qc


def copy_project(src: Path, dst: Path) -> Path:
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    a.backup(b)
    a.close()
    b.close()
    return dst


def span(db: Path, doc: str, words: str) -> tuple[str, str]:
    text = qc("--project", db, "text", doc).out
    i = text.index(words)
    return str(i), str(i + len(words))


@pytest.fixture
def pair(project, tmp_path):
    """alice.db and bob.db: the same project, coded apart after a shared first coding."""
    assert qc("--project", project, "--coder", "lead", "code", "EI01", *span(project, "EI01", "Every sender needs a passport."),
              "ID and KYC rules").code == 0
    alice = copy_project(project, tmp_path / "alice.db")
    bob = copy_project(project, tmp_path / "bob.db")
    assert qc("--project", alice, "--coder", "alice", "code", "EI01",
              *span(alice, "EI01", "Card-to-card transfers from Russia grew fast."), "Channels").code == 0
    assert qc("--project", bob, "--coder", "bob", "code", "EI01",
              *span(bob, "EI01", "Card-to-card transfers"), "Channels", "--memo", "formal channel?").code == 0
    assert qc("--project", bob, "--coder", "bob", "memo", "document", "EI01", "Bob's reading.").code == 0
    assert qc("--project", bob, "codebook", "add", "Channels/Informal", "--description", "hawala, friends").code == 0
    return alice, bob


def coded(db: Path) -> list[tuple]:
    rows = json.loads(qc("--project", db, "codings", "export", "--json").out)
    return sorted((r["coder"], r["code"], r["text"]) for r in rows)


def test_merge_keeps_both_coders(pair):
    alice, bob = pair
    r = qc("--project", alice, "merge", bob, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"] == {"coders": 1, "codes": 1, "codings": 1, "memos": 1}
    assert report["matched"]["documents"] == 1 and report["matched"]["codings"] == 1
    assert coded(alice) == [("alice", "Channels", "Card-to-card transfers from Russia grew fast."),
                            ("bob", "Channels", "Card-to-card transfers"),
                            ("lead", "Regulation/ID and KYC rules", "Every sender needs a passport.")]
    rows = json.loads(qc("--project", alice, "codings", "export", "--json").out)
    assert next(r for r in rows if r["coder"] == "bob")["memo"] == "formal channel?"
    # merging again changes nothing
    assert json.loads(qc("--project", alice, "merge", bob, "--json").out)["added"] == {}
    # a backup was made first, and undo takes the merge back
    assert list((alice.parent / "alice.db.backups").glob("alice-*.db"))
    assert qc("--project", alice, "undo").code == 0
    assert [c[0] for c in coded(alice)] == ["alice", "lead"]


def test_merge_from_qdpx(pair, tmp_path):
    alice, bob = pair
    out = tmp_path / "bob.qdpx"
    assert qc("--project", bob, "export", "qdpx", out).code == 0
    r = qc("--project", alice, "merge", out, "--json")
    assert r.code == 0, r.err
    assert [c[0] for c in coded(alice)] == ["alice", "bob", "lead"]
    assert json.loads(r.out)["matched"]["codings"] == 1


def test_conflicts_are_reported_and_ours_kept(pair):
    alice, bob = pair
    assert qc("--project", alice, "codebook", "add", "Channels/Informal", "--description", "cash by hand").code == 0
    from qualcode.store.project import Project
    with Project(bob) as p:
        cid = p.one("SELECT c.id FROM codings c JOIN coders k ON k.id = c.coder_id WHERE k.name = 'lead'")["id"]
        with p.change("edit", "move the shared coding") as ch:
            ch.update("codings", cid, {"start": 0, "end": 5})
        with p.change("edit", "attribute") as ch:
            row = p.one("SELECT id FROM document_attributes WHERE key = 'city'")
            ch.update("document_attributes", row["id"], {"value": "Sumqayıt"})
    before = coded(alice)
    r = qc("--project", alice, "merge", bob, "--json")
    assert r.code == 0, r.err
    conflicts = " | ".join(json.loads(r.out)["conflicts"])
    assert "kept ours" in conflicts and "description" in conflicts
    assert "span or code" in conflicts
    assert "attribute city" in conflicts
    after = coded(alice)
    assert ("lead", "Regulation/ID and KYC rules", "Every sender needs a passport.") in after
    assert len(after) == len(before) + 1          # bob's own coding came in; the moved one did not


def test_changed_text_reanchors_codings(pair, tmp_path):
    alice, bob = pair
    from qualcode.store.project import Project
    with Project(bob) as p:
        d = p.one("SELECT id, text FROM documents WHERE name = 'EI01'")
        with p.change("edit", "correct transcript") as ch:
            ch.update("documents", d["id"], {"text": "[corrected] " + d["text"], "sha256": "changed"})
            for c in p.query("SELECT id, start, \"end\" FROM codings"):
                ch.update("codings", c["id"], {"start": c["start"] + 12, "end": c["end"] + 12})
    r = qc("--project", alice, "merge", bob, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert any("different text" in c for c in report["conflicts"])
    assert ("bob", "Channels", "Card-to-card transfers") in coded(alice)


def test_bad_merges_change_nothing(pair, tmp_path):
    alice, _ = pair
    before = file_digest(alice)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"nope" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.close()
    for f in (junk, other, tmp_path / "missing.db", alice):
        r = qc("--project", alice, "merge", f)
        assert r.code == 1 and r.err.startswith("error:"), (f, r.err)
    assert file_digest(alice) == before


def test_coders_command(pair):
    alice, bob = pair
    qc("--project", alice, "merge", bob)
    rows = json.loads(qc("--project", alice, "coders", "--json").out)
    assert {r["name"]: r["codings"] for r in rows if r["codings"]} == {"alice": 1, "bob": 1, "lead": 1}


# --- creation times and favourite keys --------------------------------------------------------

WHEN = "2021-03-04T05:06:07.890+00:00"


def imported_at(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT name, imported_at FROM documents").fetchall())
    finally:
        conn.close()


def bob_adds_a_document(bob: Path, tmp_path: Path) -> None:
    """EI02 exists only in bob's copy, imported (as far as anyone can tell) at WHEN."""
    from qualcode.store.project import Project
    src = tmp_path / "EI02.txt"
    src.write_text("Interviewer: How do you send money?\nRespondent: Through a friend who travels.\n", encoding="utf-8")
    assert qc("--project", bob, "import", src).code == 0
    with Project(bob) as p:
        with p.change("edit", "an old import") as ch:
            for d in p.query("SELECT id FROM documents"):
                ch.update("documents", d["id"], {"imported_at": WHEN})


@pytest.mark.parametrize("via", ["db", "qdpx"])
def test_merge_keeps_creation_times(pair, tmp_path, via):
    alice, bob = pair
    bob_adds_a_document(bob, tmp_path)
    source = bob
    if via == "qdpx":
        source = tmp_path / "bob.qdpx"
        assert qc("--project", bob, "export", "qdpx", source).code == 0
    ours = imported_at(alice)["EI01"]
    r = qc("--project", alice, "merge", source, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["documents"] == ["EI02"]
    assert imported_at(alice) == {"EI01": ours, "EI02": WHEN}     # the matched one keeps ours
    assert qc("--project", alice, "undo").code == 0
    assert imported_at(alice) == {"EI01": ours}


def test_creation_times_from_other_tools(project):
    """Taguette's zone-less times are UTC; an unreadable or missing time becomes the time of the merge."""
    from qualcode.ingest.importer import ParsedDocument
    from qualcode.merge import Incoming, IncomingDocument, apply_incoming, stamp
    from qualcode.store.project import Project

    assert stamp("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00.000+00:00"
    assert stamp("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00.000+00:00"
    assert stamp(WHEN) == WHEN
    assert stamp("yesterday") is None and stamp(None) is None and stamp(20240501) is None

    def doc(name: str, when) -> IncomingDocument:
        pd = ParsedDocument(name=name, text=f"{name} says hello.", source_name=name, source_format="txt", type=None,
                            language="en", attributes={}, speakers={}, turns=[])
        return IncomingDocument(name, pd, created_at=when)

    inc = Incoming("other", documents=[doc("T1", "2022-01-01 09:30:00.250000"), doc("T2", None), doc("T3", "soon")])
    with Project(project) as p:
        apply_incoming(p, inc)
    times = imported_at(project)
    assert times["T1"] == "2022-01-01T09:30:00.250+00:00"
    for name in ("T2", "T3"):
        assert stamp(times[name]) == times[name] > WHEN      # a real time of ours, not the file's text


def set_keys(db: Path, keys: dict[str, int | None]) -> None:
    from qualcode.store.project import Project
    with Project(db) as p:
        with p.change("edit", "favourite keys") as ch:
            for path, key in keys.items():
                ch.update("codes", p.one("SELECT id FROM codes WHERE path = ?", (path,))["id"], {"shortcut": key})


def keys(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT path, shortcut FROM codes WHERE shortcut IS NOT NULL").fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("via", ["db", "qdpx"])
def test_favourite_key_filled_when_free(pair, tmp_path, via):
    alice, bob = pair
    set_keys(bob, {"Channels": 4, "Channels/Informal": 5})
    source = bob
    if via == "qdpx":
        source = tmp_path / "bob.qdpx"
        assert qc("--project", bob, "export", "qdpx", source).code == 0
    r = qc("--project", alice, "merge", source, "--json")
    assert r.code == 0, r.err
    assert not any("favourite key" in c for c in json.loads(r.out)["conflicts"])
    assert keys(alice) == {"Channels": 4, "Channels/Informal": 5}
    assert qc("--project", alice, "undo").code == 0          # keys and codings go back in one step
    assert keys(alice) == {}


def test_favourite_key_kept_and_never_duplicated(pair):
    alice, bob = pair
    set_keys(alice, {"Channels": 2, "Regulation": 4, "Barriers": 5})
    set_keys(bob, {"Channels": 3, "Regulation/ID and KYC rules": 4, "Channels/Informal": 5, "Barriers": 6})
    r = qc("--project", alice, "merge", bob, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    conflicts = " | ".join(report["conflicts"])
    assert "code 'Channels' has favourite key 3 in bob.db and 2 here; kept 2" in conflicts
    assert "code 'Barriers' has favourite key 6 in bob.db and 5 here; kept 5" in conflicts
    assert "'Regulation/ID and KYC rules' has favourite key 4 in bob.db, which is 'Regulation''s here" in conflicts
    assert any("'Channels/Informal' has favourite key 5" in n for n in report["notes"])   # new code, key taken
    assert keys(alice) == {"Channels": 2, "Regulation": 4, "Barriers": 5}
