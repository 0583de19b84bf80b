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
