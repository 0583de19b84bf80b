"""REFI-QDA export: schema-valid .qdpx, and qualcode → .qdpx → new project loses nothing
(favourite keys, coding origins and exact definitions ride in our round-trip note)."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from support import REPO, qc

xmlschema = pytest.importorskip("xmlschema")
SCHEMAS = REPO / "tests" / "fixtures" / "refi"

SECOND = """---
type: focus_group
city: Gəncə
language: en
speakers:
  P1: {gender: female, age_group: 30-44, relation: wife}
  P2: {gender: male}
---
Moderator: Welcome 😀 everyone. Let's talk about money from abroad.

P1: My husband sends it by card. Café owners know the fees — it's e\u0301xpensive.

P2: We use the post office in Bakı [laughs].
"""


def project_schema():
    return xmlschema.XMLSchema(str(SCHEMAS / "Project-mrt2019.xsd"))


def validate_qdpx(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        project_schema().validate(zf.read("project.qde").decode("utf-8"))


# Definitions the readable Description cannot give back on its own: a rule of two paragraphs,
# an example holding the " | " separator, a keyword holding ", ", a definition paragraph that
# starts like one of the labelled blocks.
AWKWARD = {"description": "Fees and costs.\n\nExamples: of this are in the rules below.",
           "when_to_use": "When money changes hands.\n\nAlso for promised payments.",
           "examples": ["a fee | a cut", "   spaced   "], "keywords": ["fee, commission", "cost"]}


@pytest.fixture
def rich(project, tmp_path) -> Path:
    """The conftest project plus a focus group, two coders, memos of every kind and a set; a
    favourite key, codings accepted from a suggestion and imported, an awkward definition."""
    src = tmp_path / "FG01.md"
    src.write_text(SECOND, encoding="utf-8")
    assert qc("--project", project, "import", src).code == 0
    text = qc("--project", project, "text", "FG01").out
    def span(doc_text, words):
        i = doc_text.index(words)
        return str(i), str(i + len(words))
    ei = qc("--project", project, "text", "EI01").out
    for coder, doc, t, words, code, memo in [
        ("alice", "EI01", ei, "Card-to-card transfers from Russia grew fast.", "Channels", "typical channel 😀"),
        ("bob", "EI01", ei, "Card-to-card transfers", "Channels", None),
        ("alice", "EI01", ei, "Every sender needs a passport.", "ID and KYC rules", None),
        ("bob", "FG01", text, "Welcome 😀 everyone.", "Channels", "emoji inside"),
        ("alice", "FG01", text, "it's \u00e9xpensive", "Channels", None),
    ]:
        args = ["--project", project, "--coder", coder, "code", doc, *span(t, words), code]
        if memo:
            args += ["--memo", memo]
        r = qc(*args)
        assert r.code == 0, r.err
    assert qc("--project", project, "--coder", "alice", "memo", "document", "EI01", "Rich on channels.").code == 0
    assert qc("--project", project, "--coder", "bob", "memo", "code", "Channels", "Split formal/informal?").code == 0
    assert qc("--project", project, "--coder", "alice", "memo", "project", "", "Round one done.").code == 0
    from qualcode.store.project import Project, new_id
    with Project(project) as p:
        code_id = p.one("SELECT id FROM codes WHERE name = 'Channels'")["id"]
        doc_id = p.one("SELECT id FROM documents WHERE name = 'FG01'")["id"]
        with p.change("sets", "a set") as ch:
            sid = ch.insert("sets", {"id": new_id(), "name": "Round 1", "description": "first pass"})
            ch.insert("set_members", {"id": new_id(), "set_id": sid, "document_id": doc_id, "code_id": None})
            ch.insert("set_members", {"id": new_id(), "set_id": sid, "document_id": None, "code_id": code_id})
        codings = [r["id"] for r in p.query("SELECT id FROM codings ORDER BY start, id")]
        with p.change("edit", "origins, a favourite key, an awkward definition") as ch:
            ch.update("codings", codings[0], {"origin": "suggestion"})
            ch.update("codings", codings[1], {"origin": "import"})
            ch.update("codes", code_id, {"shortcut": 3})
            kyc = p.one("SELECT id FROM codes WHERE name = 'ID and KYC rules'")["id"]
            ch.update("codes", kyc, {**AWKWARD, "examples": json.dumps(AWKWARD["examples"]),
                                     "keywords": json.dumps(AWKWARD["keywords"])})
    return project


def snapshot(path: Path) -> dict:
    """Everything a round trip must keep, in comparable form."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    q = lambda sql: [dict(r) for r in conn.execute(sql)]  # noqa: E731
    docs = {d["id"]: d["name"] for d in q("SELECT id, name FROM documents")}
    codes = {c["id"]: c["path"] for c in q("SELECT id, path FROM codes")}
    coders = {c["id"]: c["name"] for c in q("SELECT id, name FROM coders")}
    out = {
        "documents": q("SELECT id, name, type, language, text, sha256, source_name, source_format FROM documents "
                       "ORDER BY position"),
        "attributes": sorted((docs[r["document_id"]], r["key"], r["value"]) for r in q("SELECT * FROM document_attributes")),
        "speakers": sorted([(docs[r["document_id"]], r["label"], r["key"], r["value"]) for r in q(
            "SELECT s.document_id, s.label, a.key, a.value FROM speakers s LEFT JOIN speaker_attributes a ON a.speaker_id = s.id")],
            key=repr),
        "turns": q("SELECT id, start, \"end\", text_start, timestamp FROM turns ORDER BY id"),
        "sentences": q("SELECT id, start, \"end\", turn_id FROM sentences ORDER BY id"),
        "codes": q("SELECT id, parent_id, name, path, description, when_to_use, when_not_to_use, examples, keywords, "
                   "color, shortcut, created_at FROM codes ORDER BY path"),
        "coders": q("SELECT id, name, created_at FROM coders ORDER BY name"),
        "codings": sorted((r["id"], docs[r["document_id"]], codes[r["code_id"]], coders[r["coder_id"]], r["start"],
                           r["end"], r["text"], r["memo"], r["origin"], r["created_at"], r["updated_at"])
                          for r in q("SELECT * FROM codings")),
        "memos": sorted([(r["id"], r["target_type"], r["target_id"], coders.get(r["coder_id"]), r["title"], r["text"],
                          r["created_at"], r["updated_at"]) for r in q("SELECT * FROM memos")], key=repr),
        "sets": sorted((s["id"], s["name"], s["description"]) for s in q("SELECT * FROM sets")),
        "set_members": sorted([(r["name"], docs.get(r["document_id"]), codes.get(r["code_id"])) for r in q(
            "SELECT s.name, m.document_id, m.code_id FROM set_members m JOIN sets s ON s.id = m.set_id")], key=repr),
        "code_order": [r["path"] for r in q("SELECT path FROM codes ORDER BY parent_id, position, name")],
    }
    conn.close()
    return out


def test_round_trip_preserves_everything(rich, tmp_path):
    target = tmp_path / "out.qdpx"
    r = qc("--project", rich, "export", "qdpx", target)
    assert r.code == 0, r.err
    validate_qdpx(target)
    fresh = tmp_path / "fresh.db"
    r = qc("--project", fresh, "import", "qdpx", target)
    assert r.code == 0, r.err
    before, after = snapshot(rich), snapshot(fresh)
    for key in before:
        assert after[key] == before[key], key
    assert len(before["codings"]) == 5 and len(before["memos"]) == 3
    assert sorted(c[8] for c in before["codings"]) == ["import", "manual", "manual", "manual", "suggestion"]
    assert [c["shortcut"] for c in before["codes"] if c["shortcut"]] == [3]
    kyc = next(c for c in after["codes"] if c["name"] == "ID and KYC rules")
    assert {k: kyc[k] for k in ("description", "when_to_use")} == {k: AWKWARD[k] for k in ("description", "when_to_use")}
    assert json.loads(kyc["examples"]) == AWKWARD["examples"] and json.loads(kyc["keywords"]) == AWKWARD["keywords"]
    # and a second trip from the imported project gives the very same file
    again = tmp_path / "again.qdpx"
    assert qc("--project", fresh, "export", "qdpx", again).code == 0
    with zipfile.ZipFile(target) as a, zipfile.ZipFile(again) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())
        for name in a.namelist():
            if name != "project.qde":
                assert a.read(name) == b.read(name)
        assert own_note(a.read("project.qde")) == own_note(b.read("project.qde"))


def own_note(qde: bytes) -> str:
    import xml.etree.ElementTree as ET

    from qualcode.export.refi_roundtrip import NOTE_NAME
    ns = {"q": "urn:QDA-XML:project:1.0"}
    notes = [n for n in ET.fromstring(qde).iterfind("q:Notes/q:Note", ns) if n.get("name") == NOTE_NAME]
    assert len(notes) == 1
    return notes[0].find("q:PlainTextContent", ns).text


def test_round_trip_note_is_one_unreferenced_note_and_not_a_memo(rich, tmp_path):
    """Other tools see one labelled note (nothing refers to it); qualcode reads it and drops it."""
    target = tmp_path / "out.qdpx"
    assert qc("--project", rich, "export", "qdpx", target).code == 0
    with zipfile.ZipFile(target) as zf:
        qde = zf.read("project.qde")
    text = own_note(qde)
    header, _, body = text.partition("\n")
    assert header.startswith("qualcode round-trip data: ") and "favourite keys" in header
    data = json.loads(body)
    assert data["format"] == "qualcode-roundtrip" and sorted(data["coding_origins"]) == ["manual", "suggestion"]
    guid_ = qde.split(b'name="qualcode round-trip data"')[0].rsplit(b'guid="', 1)[1].split(b'"')[0]
    assert qde.count(guid_) == 1                         # no NoteRef points at it
    fresh = tmp_path / "fresh.db"
    r = qc("--project", fresh, "import", target, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"]["memos"] == 3 and not any("round-trip" in n for n in report["notes"])


def edited(target: Path, tmp_path: Path, change) -> Path:
    """A copy of the export whose project.qde went through `change` (as another tool might)."""
    out = tmp_path / f"edited-{len(list(tmp_path.glob('edited-*')))}.qdpx"
    with zipfile.ZipFile(target) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, change(data.decode("utf-8")).encode("utf-8") if name == "project.qde" else data)
    return out


def test_definition_edited_elsewhere_wins_over_the_note(rich, tmp_path):
    """The exact fields apply only to the Description they were written beside."""
    target = tmp_path / "out.qdpx"
    assert qc("--project", rich, "export", "qdpx", target).code == 0
    path = edited(target, tmp_path, lambda x: x.replace("Also for promised payments.", "Also for loans."))
    fresh = tmp_path / "fresh.db"
    assert qc("--project", fresh, "import", path).code == 0
    kyc = next(c for c in snapshot(fresh)["codes"] if c["name"] == "ID and KYC rules")
    assert kyc["when_to_use"] == "When money changes hands."       # read as any tool's Description is
    assert "Also for loans." in kyc["description"]
    assert [c["shortcut"] for c in snapshot(fresh)["codes"] if c["shortcut"]] == [3]   # the rest still holds


def test_damaged_or_hostile_note_restores_nothing_and_says_so(rich, tmp_path):
    target = tmp_path / "out.qdpx"
    assert qc("--project", rich, "export", "qdpx", target).code == 0
    import re
    broken = edited(target, tmp_path, lambda x: x.replace('"coding_origins":{', '"coding_origins":{{', 1))
    hostile = edited(target, tmp_path, lambda x: re.sub(
        r'"shortcut":3', '"shortcut":"3; DROP TABLE codes"', x).replace('"suggestion":[', '"Not An Origin!":[', 1))
    for path, reported in ((broken, True), (hostile, False)):
        fresh = tmp_path / f"{path.stem}.db"
        r = qc("--project", fresh, "import", path, "--json")
        assert r.code == 0, r.err
        report = json.loads(r.out)
        assert report["added"]["memos"] == 3                        # the note never becomes a memo
        assert any("could not be read" in n for n in report["notes"]) == reported
        snap = snapshot(fresh)
        assert not any(c["shortcut"] for c in snap["codes"])
        assert "suggestion" not in {c[8] for c in snap["codings"]}


def test_export_is_deterministic_and_sources_are_plain_utf8(rich, tmp_path):
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    assert qc("--project", rich, "export", "qdpx", a).code == 0
    assert qc("--project", rich, "export", "qdpx", b).code == 0
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        sources = [n for n in zf.namelist() if n.startswith("sources/")]
        assert len(sources) == 2
        for n in sources:
            data = zf.read(n)
            assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
            data.decode("utf-8")
        qde = zf.read("project.qde").decode()
    from qualcode.codebook_files import guid
    conn = sqlite3.connect(rich)
    for (cid,) in conn.execute("SELECT id FROM codings"):
        assert f'guid="{guid(cid)}"' in qde        # GUIDs come from our ids
    conn.close()


def test_positions_are_code_points(rich, tmp_path):
    """Emoji before a coding: the selection's positions index the source as code points."""
    target = tmp_path / "out.qdpx"
    assert qc("--project", rich, "export", "qdpx", target).code == 0
    import xml.etree.ElementTree as ET
    with zipfile.ZipFile(target) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        ns = {"q": "urn:QDA-XML:project:1.0"}
        for src in root.iterfind(".//q:TextSource", ns):
            text = zf.read("sources/" + src.get("plainTextPath").split("://")[1]).decode("utf-8")
            for sel in src.iterfind("q:PlainTextSelection", ns):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert text[s:e].startswith(sel.get("name")[:20])
        fg = next(s for s in root.iterfind(".//q:TextSource", ns) if s.get("name") == "FG01")
        starts = [int(s.get("startPosition")) for s in fg.iterfind("q:PlainTextSelection", ns)]
        text = zf.read("sources/" + fg.get("plainTextPath").split("://")[1]).decode("utf-8")
        assert text.index("it's e\u0301xpensive".replace("e\u0301", "é")) in starts


def test_empty_project_exports_valid_file(tmp_path):
    path = tmp_path / "empty.db"
    assert qc("init", path).code == 0
    target = tmp_path / "e.qdpx"
    assert qc("--project", path, "export", "qdpx", target).code == 0
    validate_qdpx(target)


def test_export_refuses_wrong_suffix(project, tmp_path):
    r = qc("--project", project, "export", "qdpx", tmp_path / "x.zip")
    assert r.code == 1 and r.err.startswith("error:")


def test_import_is_one_undoable_change(rich, tmp_path):
    target = tmp_path / "out.qdpx"
    assert qc("--project", rich, "export", "qdpx", target).code == 0
    other = tmp_path / "other.db"
    assert qc("init", other).code == 0
    r = qc("--project", other, "import", target, "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"]["documents"] == 2 and report["added"]["codings"] == 5
    assert qc("--project", other, "undo").code == 0
    assert snapshot(other)["documents"] == [] and snapshot(other)["codes"] == []
    # importing into the project it came from adds nothing
    r = qc("--project", rich, "import", target, "--json")
    assert r.code == 0
    assert json.loads(r.out)["added"] == {}


def test_codebook_schema_validates_qdc_export(project, tmp_path):
    schema = xmlschema.XMLSchema(str(SCHEMAS / "Codebook-mrt2019.xsd"))
    target = tmp_path / "cb.qdc"
    assert qc("--project", project, "codebook", "export", target).code == 0
    schema.validate(str(target))
