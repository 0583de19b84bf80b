"""REFI-QDA import from what real tools write: NVivo's UTF-16 positions over BOM + CRLF text,
ATLAS.ti's CRLF-as-one, `Sources/`, any-named .qde, codebook namespace variants, .docx-only
sources, broken references, and the real exports in ../shared (skipped when absent)."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from support import SHARED, file_digest, qc

SAMPLES = SHARED / "refi-qda" / "samples"
NS = "urn:QDA-XML:project:1.0"

# What an NVivo for Windows export holds: a BOM, CRLF line ends, an emoji and accents, and
# positions counted in UTF-16 code units with CRLF as two.
NVIVO_TEXT = ("\ufeffInterviewer: How do you send money? 😀\r\n"
              "Respondent: By card 💳 mostly — the fees at the bank are too high.\r\n"
              "Interviewer: And your brother in Moskva?\r\n"
              "Respondent: He uses Zolotaya Korona, it's cheaper. Şəki has no branch.\r\n")
INTENDED = [("the fees at the bank are too high", "Fees"), ("By card 💳 mostly", "Channels"),
            ("Zolotaya Korona", "Channels"), ("Şəki has no branch", "Access")]

CODE_GUIDS = {"Fees": "1A2B3C4D-0000-4000-8000-000000000001", "Channels": "1A2B3C4D-0000-4000-8000-000000000002",
              "Access": "1A2B3C4D-0000-4000-8000-000000000003", "Costs": "1A2B3C4D-0000-4000-8000-000000000004"}
USER = "9F000000-0000-4000-8000-0000000000AA"
SOURCE = "5C000000-0000-4000-8000-000000000001"


def utf16_units(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


def project_xml(text: str, spans: list[tuple[int, int, str]], origin: str, path_attr: str, ns: str = NS,
                extra_source: str = "", extra: str = "") -> str:
    sels = "".join(
        f'<PlainTextSelection guid="7E000000-0000-4000-8000-{i:012d}" startPosition="{s}" endPosition="{e}" '
        f'creatingUser="{USER}"><Coding guid="C0000000-0000-4000-8000-{i:012d}" creatingUser="{USER}" '
        f'creationDateTime="2024-05-01T10:00:00Z"><CodeRef targetGUID="{CODE_GUIDS[code]}"/></Coding>'
        f'</PlainTextSelection>' for i, (s, e, code) in enumerate(spans))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="{ns}" name="study" origin="{origin}">'
            f'<Users><User guid="{USER}" name="Nigar"/></Users>'
            f'<CodeBook><Codes><Code guid="{CODE_GUIDS["Costs"]}" name="Costs" isCodable="false" color="#FF336699">'
            f'<Description>Money matters</Description>'
            f'<Code guid="{CODE_GUIDS["Fees"]}" name="Fees" isCodable="true"/></Code>'
            f'<Code guid="{CODE_GUIDS["Channels"]}" name="Channels" isCodable="true" color="#4E79A7"/>'
            f'<Code guid="{CODE_GUIDS["Access"]}" name="Access" isCodable="true"/></Codes></CodeBook>'
            f'<Sources><TextSource guid="{SOURCE}" name="Interview 7" {path_attr}>{sels}</TextSource>'
            f'{extra_source}</Sources>{extra}</Project>')


def nvivo_file(tmp_path: Path, sources_dir: str = "Sources", qde_name: str = "Remittances study.qde") -> Path:
    body = NVIVO_TEXT[1:]
    spans = []
    for words, code in INTENDED:
        cp = body.index(words)
        spans.append((utf16_units(body, cp), utf16_units(body, cp + len(words)), code))
    xml = project_xml(NVIVO_TEXT, spans, "NVivo for Windows 12.6",
                      f'plainTextPath="internal://{SOURCE.lower()}.txt" richTextPath="internal://{SOURCE.lower()}.docx"')
    path = tmp_path / "nvivo-style.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(qde_name, xml.encode("utf-8"))
        zf.writestr(f"{sources_dir}/{SOURCE.lower()}.txt", NVIVO_TEXT.encode("utf-8"))
    return path


def codings(db: Path) -> list[tuple[str, str, str]]:
    r = qc("--project", db, "codings", "export", "--json")
    assert r.code == 0, r.err
    return sorted((c["code"], c["text"], c["coder"]) for c in json.loads(r.out))



def import_qdpx(tmp_path, name: str, xml: str, member: str, data: bytes):
    """Zip a project.qde and one source as a .qdpx, import it into a new project: (db, result)."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        zf.writestr(member, data)
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", path, "--json")
    assert r.code == 0, r.err
    return db, r

def test_nvivo_style_file_lands_every_coding_on_its_words(tmp_path):
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", "qdpx", nvivo_file(tmp_path), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"]["codings"] == 4
    got = codings(db)
    assert got == sorted((("Costs/Fees" if c == "Fees" else c), w, "Nigar") for w, c in INTENDED)
    text = qc("--project", db, "text", "Interview 7").out
    assert "\r" not in text and not text.startswith("\ufeff")
    assert any("UTF-16" in n for n in report["notes"])          # says how positions were read
    assert any("isCodable" in n for n in report["notes"])       # the folder code is codable here
    shown = json.loads(qc("--project", db, "codebook", "show", "--json").out)
    costs = next(c for c in shown if c["path"] == "Costs")
    assert costs["color"] == "#336699" and costs["description"] == "Money matters"
    # our id is the REFI GUID, so exporting gives the same GUIDs back
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id FROM codes WHERE path = 'Channels'").fetchone()[0] == \
        CODE_GUIDS["Channels"].replace("-", "").lower()
    conn.close()


def test_turns_and_speakers_are_found_in_imported_text(tmp_path):
    db = tmp_path / "p.db"
    assert qc("--project", db, "import", nvivo_file(tmp_path)).code == 0
    turns = json.loads(qc("--project", db, "turns", "Interview 7", "--json").out)
    assert [t["speaker"] for t in turns] == ["Interviewer", "Respondent", "Interviewer", "Respondent"]


def test_lowercase_sources_and_project_qde(tmp_path):
    db = tmp_path / "p.db"
    path = nvivo_file(tmp_path, sources_dir="sources", qde_name="project.qde")
    assert qc("--project", db, "import", path).code == 0
    assert len(codings(db)) == 4


def test_atlas_counts_crlf_as_one(tmp_path):
    text = "Line one\r\nLine two has fees\r\nLine three: Zolotaya Korona\r\n"
    lf = text.replace("\r\n", "\n")
    spans = [(lf.index("fees"), lf.index("fees") + 4, "Fees"),
             (lf.index("Zolotaya Korona"), lf.index("Zolotaya Korona") + 15, "Channels")]
    xml = project_xml(text, spans, "ATLAS.ti Windows 23.4.0", 'plainTextPath="internal://a.txt"')
    db, r = import_qdpx(tmp_path, "atlas.qdpx", xml, "sources/a.txt", text.encode("utf-8"))
    assert [t for _, t, _ in codings(db)] == ["Zolotaya Korona", "fees"]


def test_unknown_origin_with_utf16_positions_is_detected(tmp_path):
    """Positions that only fit UTF-16 counting (past the code-point end) are read that way."""
    text = "😀😀😀 one two three"
    body_end = utf16_units(text, len(text))
    spans = [(utf16_units(text, text.index("three")), body_end, "Fees")]
    xml = project_xml(text, spans, "SomeTool 1.0", 'plainTextPath="internal://a.txt"')
    db, r = import_qdpx(tmp_path, "t.qdpx", xml, "sources/a.txt", text.encode("utf-8"))
    assert [t for _, t, _ in codings(db)] == ["three"]
    assert any("UTF-16" in n for n in json.loads(r.out)["notes"])


def test_broken_references_are_repaired_or_dropped_and_reported(tmp_path):
    text = "alpha beta gamma delta"
    spans = [(10, 6, "Fees"), (-3, 4, "Fees"), (0, 999, "Channels"), (0, 5, "Access")]
    missing_code = ('<PlainTextSelection guid="7E000000-0000-4000-8000-0000000000FF" startPosition="0" endPosition="5">'
                    '<Coding guid="C0000000-0000-4000-8000-0000000000FF"><CodeRef targetGUID="'
                    'DEADBEEF-0000-4000-8000-000000000000"/></Coding></PlainTextSelection>')
    xml = project_xml(text, spans, "MAXQDA 24", 'plainTextPath="internal://a.txt"')
    xml = xml.replace("</TextSource>", missing_code + "</TextSource>", 1)
    xml = xml.replace("</Sources>", '<TextSource guid="5C000000-0000-4000-8000-000000000002" name="gone" '
                                    'plainTextPath="internal://nowhere.txt"/><VideoSource guid="5C000000-0000-'
                                    '4000-8000-000000000003" name="clip" path="relative:///clip.mp4"/></Sources>')
    db, r = import_qdpx(tmp_path, "b.qdpx", xml, "sources/a.txt", text.encode("utf-8"))
    report = json.loads(r.out)
    assert [t for _, t, _ in codings(db)] == ["alpha", "beta"]   # 10–6 read as 6–10
    notes = " | ".join(report["notes"])
    for expected in ("start after end", "outside the text", "code not in the file", "'gone' skipped",
                     "video sources"):
        assert expected in notes, expected


def test_docx_only_source(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Interviewer: What about fees?")
    d.add_paragraph("Respondent: The fees are high.")
    buf = io.BytesIO()
    d.save(buf)
    text = "Interviewer: What about fees?\nRespondent: The fees are high."
    s = text.index("The fees are high")
    xml = project_xml(text, [(s, s + 17, "Fees")], "NVivo for Mac 15.0.0", 'richTextPath="internal://d.docx"')
    db, r = import_qdpx(tmp_path, "d.qdpx", xml, "sources/d.docx", buf.getvalue())
    assert [t for _, t, _ in codings(db)] == ["The fees are high"]
    assert any(".docx" in n for n in json.loads(r.out)["notes"])


def test_codebook_namespace_variants(tmp_path):
    for ns in ("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:1:0", "urn:QDA-XML:codebook:0:4"):
        qdc = tmp_path / f"cb-{ns[-3:].replace(':', '')}.qdc"
        qdc.write_text(f'<?xml version="1.0"?><CodeBook xmlns="{ns}" origin="x"><Codes>'
                       f'<Code guid="{CODE_GUIDS["Fees"]}" name="Fees" isCodable="true" color="#46AA00">'
                       f'<Description>cost of sending</Description></Code></Codes>'
                       f'<Sets><Set name="g" guid="{SOURCE}"><MemberCode guid="x" targetGUID="{CODE_GUIDS["Fees"]}"/>'
                       f'</Set></Sets></CodeBook>', encoding="utf-8")
        db = tmp_path / f"{qdc.stem}.db"
        r = qc("--project", db, "import", qdc)
        assert r.code == 0, r.err
        shown = json.loads(qc("--project", db, "codebook", "show", "--json").out)
        assert [(c["path"], c["color"], c["description"]) for c in shown] == [("Fees", "#46AA00", "cost of sending")]


def test_foreign_descriptions_and_notes_import_as_before(tmp_path):
    """Without our round-trip note nothing changes: a Description that looks like our blocks or
    holds JSON is read as any Description, a note that merely mentions us is a memo, codings are
    'import', no favourite keys, the source name is the file's."""
    from qualcode.codebook_files import parse_description

    desc = ("Money matters\n\nWhen to use: fees, costs\n\nKeywords: fee, cost\n\n"
            '{"shortcut": 3, "format": "qualcode-roundtrip"}\n\nqualcode round-trip data')
    text = "alpha beta gamma delta"
    notes = ('<Notes><Note guid="4E000000-0000-4000-8000-000000000001" name="qualcode round-trip data">'
             '<PlainTextContent>Exported from qualcode round-trip data, then cleaned.</PlainTextContent></Note></Notes>')
    xml = project_xml(text, [(0, 5, "Fees")], "ATLAS.ti Windows 23.4.0", 'plainTextPath="internal://a.txt"',
                      extra=notes).replace("<Description>Money matters</Description>", f"<Description>{desc}</Description>")
    db, r = import_qdpx(tmp_path, "foreign.qdpx", xml, "sources/a.txt", text.encode("utf-8"))
    assert not any("round-trip" in n for n in json.loads(r.out)["notes"])
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    costs = dict(conn.execute("SELECT * FROM codes WHERE path = 'Costs'").fetchone())
    expected = parse_description(desc)
    assert {k: costs[k] for k in ("description", "when_to_use")} == {k: expected[k] for k in ("description", "when_to_use")}
    assert json.loads(costs["keywords"]) == expected["keywords"] == ["fee", "cost"]
    assert costs["description"].endswith('{"shortcut": 3, "format": "qualcode-roundtrip"}\n\nqualcode round-trip data')
    assert conn.execute("SELECT COUNT(*) FROM codes WHERE shortcut IS NOT NULL").fetchone()[0] == 0
    assert [r[0] for r in conn.execute("SELECT origin FROM codings")] == ["import"]
    assert conn.execute("SELECT source_name, source_format FROM documents").fetchone()[:] == ("a.txt", "txt")
    assert [r[0] for r in conn.execute("SELECT text FROM memos")] == ["Exported from qualcode round-trip data, then cleaned."]
    conn.close()


def test_bad_files_change_nothing(project, tmp_path):
    before = file_digest(project)
    bad_zip = tmp_path / "bad.qdpx"
    bad_zip.write_bytes(b"PK\x03\x04 not really")
    no_qde = tmp_path / "noqde.qdpx"
    with zipfile.ZipFile(no_qde, "w") as zf:
        zf.writestr("readme.txt", "hi")
    bad_xml = tmp_path / "bad.qde"
    bad_xml.write_text("<Project><Users>", encoding="utf-8")
    bomb = tmp_path / "entity.qde"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Project name="x">&a;</Project>')
    wrong_root = tmp_path / "wrong.qde"
    wrong_root.write_text('<Other/>', encoding="utf-8")
    for f in (bad_zip, no_qde, bad_xml, bomb, wrong_root, tmp_path / "missing.qdpx"):
        r = qc("--project", project, "import", f)
        assert r.code == 1, f
        assert r.err.startswith("error:") and r.err.count("\n") == 1, r.err
    assert file_digest(project) == before


# --- real exports (../shared, read in place; skipped when absent) -------------------------------

def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"{name} not available")
    return path


def test_nvivo_windows_qde(tmp_path):
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", sample("nvivo-win-12.6_project.qde"), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"]["codes"] == 152 and report["added"]["coders"] == 2
    # the source texts are not part of this sample: said, not silently lost
    assert any("303 coding(s) dropped" in n for n in report["notes"])


def test_nvivo_windows_qde_with_sources_beside_it(tmp_path):
    """The same .qde with its sources folder next to it: codings land inside the text."""
    qde = sample("nvivo-win-12.6_project.qde")
    (tmp_path / "sources").mkdir()
    import re
    xml = qde.read_text(encoding="utf-8")
    for guid in re.findall(r'plainTextPath="internal://([0-9a-f-]+)\.txt"', xml):
        # a stand-in text long enough for every position, with NVivo's BOM and CRLF
        (tmp_path / "sources" / f"{guid}.txt").write_text("\ufeff" + ("Lorem ipsum 😀 dolor.\r\n" * 4000),
                                                          encoding="utf-8")
    (tmp_path / "project.qde").write_text(xml, encoding="utf-8")
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", tmp_path / "project.qde", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["added"]["codings"] == 303


def test_nvivo_mac_qdpx(tmp_path):
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", "qdpx", sample("nvivo-mac-15.0.0_project.qdpx"), "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["added"]["codes"] == 262
    paths = [c["path"] for c in json.loads(qc("--project", db, "codebook", "show", "--json").out)]
    assert "rq1_definition/competencies/programming" in paths
    assert "rq1_definition/framings/cs_as_programming/programming" in paths


def test_qc_qdpx(tmp_path):
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", sample("qc-1.3.2_demo-project.qdpx"), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["added"]["codings"] == 205
    with zipfile.ZipFile(sample("qc-1.3.2_demo-project.qdpx")) as zf:
        board = zf.read("sources/board_2017.txt").decode("utf-8")
    rows = json.loads(qc("--project", db, "codings", "export", "--json").out)
    first = next(r for r in rows if r["document"] == "board_2017" and r["start"] == 320)
    assert first["text"] == board[320:400]


def test_atlas_codebook_sample(tmp_path):
    db = tmp_path / "p.db"
    r = qc("--project", db, "import", sample("atlasti-win-23.4.0_codebook.qdc"), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["added"] == {"codes": 1, "sets": 1}
