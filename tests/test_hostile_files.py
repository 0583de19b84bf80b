"""Hostile files: each is refused with one `error:` line, and the project file is unchanged.

Zip bombs, zip-slip paths, XML entity attacks, deep nesting, enormous lines, broken
encodings, NUL and control characters; and names and texts full of SQL and Textual markup,
which are not attacks at all: they are stored and shown exactly as written.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from pathlib import Path

import pytest

from support import file_digest, qc

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
ODT_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


# --- building hostile files -----------------------------------------------------------------

def docx_bytes(text: str = "Interviewer: hello\nRespondent: fine") -> bytes:
    import docx

    d = docx.Document()
    for line in text.split("\n"):
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def odt_bytes(content_xml: str | bytes | None = None) -> bytes:
    content = content_xml if content_xml is not None else (
        f'<office:document-content {ODT_NS}><office:body><office:text>'
        '<text:p>Interviewer: hello</text:p><text:p>Respondent: fine</text:p>'
        '</office:text></office:body></office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        z.writestr("content.xml", content)
    return buf.getvalue()


def rezip(data: bytes, replace: dict[str, bytes | str] | None = None, add: dict[str, bytes | str] | None = None,
          method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The archive with some members replaced or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", method) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, member in add.items():
            zout.writestr(name, member)
    return out.getvalue()


def docx_with_body(body_xml: str, prolog: str = "") -> bytes:
    xml = f'{prolog}<w:document xmlns:w="{W_NS}"><w:body>{body_xml}</w:body></w:document>'
    return rezip(docx_bytes(), {"word/document.xml": xml})


def bomb_member(kind: str) -> str:
    """20 MB of XML that deflates to about 20 KB: expands ~1,000×."""
    filler = "a" * (20 * 1024 * 1024)
    if kind == "docx":
        return f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>{filler}</w:t></w:r></w:p></w:body></w:document>'
    if kind == "odt":
        return f'<office:document-content {ODT_NS}><office:body><office:text><text:p>{filler}</text:p></office:text></office:body></office:document-content>'
    return f'<Project xmlns="urn:QDA-XML:project:1.0" name="{filler}"/>'


def patch_sizes(data: bytes, uncompressed: int) -> bytes:
    """Make every central-directory entry claim `uncompressed` bytes (a header that lies)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<I", out, pos + 24, uncompressed)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def lying_member(data: bytes, member: str, real: bytes) -> bytes:
    """An archive whose `member` inflates to `real` while both headers claim 100 bytes."""
    raw = rezip(data, {member: real})
    out = bytearray(raw)
    name = member.encode()
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = out.find(sig)
        while pos != -1:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if out[name_at:name_at + len(name)] == name:
                struct.pack_into("<I", out, pos + size_at, 100)
            pos = out.find(sig, pos + 4)
    return bytes(out)


BILLION_LAUGHS_XML = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
                      + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
                                for i in range(1, 10))
                      + "]>\n")


def xxe_prolog(secret: Path) -> str:
    return f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'


# --- assertions ----------------------------------------------------------------------------

def refused(project: Path, *args, expect: str | None = None) -> str:
    before = file_digest(project)
    r = qc("--project", project, *args)
    assert r.code == 1, r
    assert r.err.startswith("error:") and r.err.count("\n") == 1, r.err
    assert "Traceback" not in r.err
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", r.err), "control characters reached the terminal"
    if expect:
        assert expect.lower() in r.err.lower(), r.err
    assert file_digest(project) == before
    return r.err


def qdpx_available(result) -> bool:
    return "not available yet" not in result.err


@pytest.fixture
def qdpx(project, tmp_path) -> bytes:
    """A good .qdpx of the fixture project, to turn into hostile ones."""
    out = tmp_path / "good.qdpx"
    r = qc("--project", project, "export", "qdpx", out)
    if r.code != 0:
        pytest.skip(f"export qdpx is not available: {r.err.strip()}")
    return out.read_bytes()


def refused_qdpx(project: Path, path: Path, expect: str | None = None) -> str:
    probe = qc("--project", path.parent / "probe.db", "import", "qdpx", path.parent / "missing.qdpx")
    if not qdpx_available(probe):
        pytest.skip("import qdpx is not available yet")
    return refused(project, "import", "qdpx", path, expect=expect)


# --- zip bombs -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_zip_bomb_transcripts_are_refused(project, tmp_path, kind):
    base = docx_bytes() if kind == "docx" else odt_bytes()
    member = "word/document.xml" if kind == "docx" else "content.xml"
    f = tmp_path / f"bomb.{kind}"
    f.write_bytes(rezip(base, {member: bomb_member(kind)}))
    assert f.stat().st_size < 200_000
    refused(project, "import", f, expect="zip bomb")


def test_zip_bomb_qdpx_is_refused(project, tmp_path, qdpx):
    f = tmp_path / "bomb.qdpx"
    f.write_bytes(rezip(qdpx, {"project.qde": bomb_member("qdpx")}))
    refused_qdpx(project, f, expect="zip bomb")


def test_archive_claiming_gigabytes_is_refused_before_reading(project, tmp_path):
    f = tmp_path / "huge.docx"
    f.write_bytes(patch_sizes(docx_bytes(), 0xFFFF0000))
    refused(project, "import", f, expect="MB")


def test_header_that_lies_about_size_reads_no_further(project, tmp_path):
    """The headers say 100 bytes; the data inflates to 5 MB: reading stops, the CRC fails."""
    real = f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>{"x" * 5_000_000}</w:t></w:r></w:p></w:body></w:document>'
    f = tmp_path / "liar.docx"
    f.write_bytes(lying_member(docx_bytes(), "word/document.xml", real.encode()))
    refused(project, "import", f)


def test_archive_listing_too_many_members_is_refused(project, tmp_path):
    data = bytearray(docx_bytes())
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 0xFFFF, 0xFFFF)   # entries on disk, entries in total
    f = tmp_path / "many.docx"
    f.write_bytes(bytes(data))
    refused(project, "import", f)


def test_encrypted_office_file_gets_a_helpful_error(project, tmp_path):
    f = tmp_path / "locked.docx"
    f.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)
    refused(project, "import", f, expect="password")


# --- zip-slip and other archive tricks ----------------------------------------------------------

SLIPS = ["../../evil.txt", "/tmp/evil-abs.txt", "sources/../../../evil.txt", "C:/evil.txt", "..\\..\\evil.txt"]


@pytest.mark.parametrize("member", SLIPS)
def test_zip_slip_in_qdpx_is_refused_and_writes_nothing(project, tmp_path, qdpx, member):
    f = tmp_path / "slip.qdpx"
    f.write_bytes(rezip(qdpx, add={member: "Interviewer: escaped!"}))
    before = set(tmp_path.parent.rglob("*evil*"))
    refused_qdpx(project, f, expect="unsafe path")
    assert set(tmp_path.parent.rglob("*evil*")) == before
    assert not Path("/tmp/evil-abs.txt").exists()


@pytest.mark.parametrize("member", SLIPS[:2])
def test_zip_slip_in_docx_is_refused(project, tmp_path, member):
    f = tmp_path / "slip.docx"
    f.write_bytes(rezip(docx_bytes(), add={member: "x"}))
    refused(project, "import", f, expect="unsafe path")


def test_symlink_and_duplicate_members_are_refused(tmp_path):
    from qualcode.errors import QualcodeError
    from qualcode.ingest.zipped import open_zip

    link = tmp_path / "link.qdpx"
    with zipfile.ZipFile(link, "w") as z:
        info = zipfile.ZipInfo("sources/passwd.txt")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    with pytest.raises(QualcodeError, match="link"):
        open_zip(link, ".qdpx")
    dup = tmp_path / "dup.docx"
    with pytest.warns(UserWarning):   # zipfile itself warns about the duplicate name
        dup.write_bytes(rezip(docx_bytes(), add={"word/document.xml": "<x/>"}))
    with pytest.raises(QualcodeError, match="two files"):
        open_zip(dup, ".docx")


# --- XML: external entities, billion laughs, deep nesting --------------------------------------

def test_xml_external_entity_in_docx_is_refused_and_nothing_read(project, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-XXE", encoding="utf-8")
    f = tmp_path / "xxe.docx"
    f.write_bytes(docx_with_body("<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>", xxe_prolog(secret)))
    refused(project, "import", f, expect="forbidden XML")
    assert b"TOP-SECRET-XXE" not in project.read_bytes()


def test_xml_external_entity_in_odt_and_qdc_is_refused(project, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-XXE", encoding="utf-8")
    odt = tmp_path / "xxe.odt"
    odt.write_bytes(odt_bytes(xxe_prolog(secret) + f'<office:document-content {ODT_NS}><office:body><office:text>'
                              '<text:p>&xxe;</text:p></office:text></office:body></office:document-content>'))
    refused(project, "import", odt, expect="forbidden XML")
    qdc = tmp_path / "xxe.qdc"
    qdc.write_text(xxe_prolog(secret) + '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                   '<Code guid="11111111-1111-1111-1111-111111111111" name="&xxe;" isCodable="true"/>'
                   '</Codes></CodeBook>', encoding="utf-8")
    refused(project, "codebook", "import", qdc, expect="forbidden XML")
    dtd = tmp_path / "remote-dtd.qdc"
    dtd.write_text('<?xml version="1.0"?><!DOCTYPE CodeBook SYSTEM "http://example.invalid/x.dtd">'
                   '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>', encoding="utf-8")
    refused(project, "codebook", "import", dtd, expect="forbidden XML")


def test_xml_external_entity_in_qdpx_is_refused(project, tmp_path, qdpx):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-XXE", encoding="utf-8")
    with zipfile.ZipFile(io.BytesIO(qdpx)) as z:
        qde = z.read("project.qde").decode("utf-8")
    qde = qde.split("?>", 1)[1] if qde.startswith("<?xml") else qde
    hostile = xxe_prolog(secret) + qde.replace('name="p"', 'name="&xxe;"', 1)
    f = tmp_path / "xxe.qdpx"
    f.write_bytes(rezip(qdpx, {"project.qde": hostile}))
    refused_qdpx(project, f, expect="forbidden XML")
    assert b"TOP-SECRET-XXE" not in project.read_bytes()


def test_billion_laughs_is_refused_in_docx_qdc_and_qdpx(project, tmp_path, qdpx):
    docx = tmp_path / "lol.docx"
    docx.write_bytes(docx_with_body("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", BILLION_LAUGHS_XML))
    refused(project, "import", docx, expect="forbidden XML")
    qdc = tmp_path / "lol.qdc"
    qdc.write_text(BILLION_LAUGHS_XML + '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                   '<Code guid="11111111-1111-1111-1111-111111111111" name="&lol9;" isCodable="true"/>'
                   '</Codes></CodeBook>', encoding="utf-8")
    refused(project, "codebook", "import", qdc, expect="forbidden XML")
    f = tmp_path / "lol.qdpx"
    f.write_bytes(rezip(qdpx, {"project.qde": BILLION_LAUGHS_XML + '<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>'}))
    refused_qdpx(project, f, expect="forbidden XML")


YAML_LAUGHS = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
               + "".join(f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, n in zip("abcdefg", "bcdefgh")))


def test_yaml_alias_bombs_are_refused(project, tmp_path):
    """The YAML cousin of billion laughs: nine lines that mean 9⁸ strings."""
    md = tmp_path / "laughs.md"
    md.write_text("---\n" + YAML_LAUGHS + "---\nInterviewer: hello\n", encoding="utf-8")
    refused(project, "import", md, expect="expands")
    cb = tmp_path / "laughs.yaml"
    cb.write_text(YAML_LAUGHS + "codes:\n  - name: X\n    examples: *h\n", encoding="utf-8")
    refused(project, "codebook", "import", cb, expect="expands")


def test_yaml_aliases_in_moderation_still_work(tmp_path):
    md = tmp_path / "legend.md"
    md.write_text("---\nspeakers:\n  P1: &w {gender: female, relation: wife}\n  P2: *w\n---\nP1: hi\n\nP2: hello\n",
                  encoding="utf-8")
    project = tmp_path / "p.db"
    assert qc("--project", project, "import", md).code == 0


def test_deeply_nested_xml_is_refused(project, tmp_path, qdpx):
    depth = 100_000
    docx = tmp_path / "deep.docx"
    docx.write_bytes(docx_with_body("<w:sdt>" * depth + "</w:sdt>" * depth))
    refused(project, "import", docx, expect="levels deep")
    odt = tmp_path / "deep.odt"
    odt.write_bytes(odt_bytes(f'<office:document-content {ODT_NS}><office:body><office:text>'
                              + "<text:section>" * depth + "</text:section>" * depth
                              + "</office:text></office:body></office:document-content>"))
    refused(project, "import", odt, expect="levels deep")
    qdc = tmp_path / "deep.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                   + '<Code name="x" isCodable="true">' * 5000 + "</Code>" * 5000 + "</Codes></CodeBook>",
                   encoding="utf-8")
    refused(project, "codebook", "import", qdc, expect="levels deep")
    f = tmp_path / "deep.qdpx"
    f.write_bytes(rezip(qdpx, {"project.qde": '<Project xmlns="urn:QDA-XML:project:1.0" name="p">'
                               + "<Notes>" * depth + "</Notes>" * depth + "</Project>"}))
    refused_qdpx(project, f, expect="levels deep")


def test_deeply_nested_yaml_and_json_are_refused(project, tmp_path):
    md = tmp_path / "deep.md"
    md.write_text("---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nInterviewer: hi\n", encoding="utf-8")
    refused(project, "import", md, expect="nests")
    cb = tmp_path / "deep.yaml"
    cb.write_text("codes: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    refused(project, "codebook", "import", cb, expect="nests")
    js = tmp_path / "deep.json"
    js.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    refused(project, "codings", "import", js)


# --- enormous lines ----------------------------------------------------------------------------

def test_single_enormous_line_is_refused(project, tmp_path):
    txt = tmp_path / "line.txt"
    txt.write_text("Respondent: " + "word " * 220_000, encoding="utf-8")
    refused(project, "import", txt, expect="single line")
    docx = tmp_path / "line.docx"
    docx.write_bytes(docx_with_body(f"<w:p><w:r><w:t>{'x' * 1_100_000}</w:t></w:r></w:p>"))
    refused(project, "import", docx, expect="single line")


def test_long_punctuation_runs_import_without_quadratic_time(tmp_path):
    """200,000 '=' would keep spaCy's tokenizer busy for hours; sentence splitting sees them cut."""
    txt = tmp_path / "rule.txt"
    body = "Interviewer: before.\n\n" + "=" * 200_000 + "\n\nRespondent: after, and " + ":" * 50_000 + " done."
    txt.write_text(body, encoding="utf-8")
    project = tmp_path / "p.db"
    assert qc("--project", project, "import", txt).code == 0
    assert qc("--project", project, "text", "rule").out == body


def test_huge_csv_field_is_refused(project, tmp_path):
    f = tmp_path / "big.csv"
    f.write_text("document,start,end,code\n" + "x" * 200_000 + ",1,2,Barriers\n", encoding="utf-8")
    refused(project, "codings", "import", f, expect="CSV")


# --- encodings, NUL and control characters ----------------------------------------------------------

BROKEN_ENCODINGS = {
    "utf8-broken.txt": "Respondent: Салам, как дела? Всё хорошо.".encode() + b"\xff\xfe\xc3" + " Ещё.".encode(),
    "utf8-bom-broken.txt": b"\xef\xbb\xbfRespondent: caf\xc3\xa9 \xc3",
    "utf16-bom-odd.txt": "\ufeffRespondent: hello".encode("utf-16-le")[:-1],
    "utf16-lone-surrogate.txt": b"\xff\xfe" + "Respondent: hi ".encode("utf-16-le") + b"\x00\xd8" + "x".encode("utf-16-le"),
    "utf16-no-bom-truncated.txt": ("Respondent: hello there, a long enough line" * 3).encode("utf-16-le")[:-1],
    "utf16be-bom-broken.txt": b"\xfe\xff" + "Respondent: hi".encode("utf-16-be") + b"\xdc\x00",
}


@pytest.mark.parametrize("name", sorted(BROKEN_ENCODINGS))
def test_invalid_utf8_and_utf16_are_refused(project, tmp_path, name):
    f = tmp_path / name
    f.write_bytes(BROKEN_ENCODINGS[name])
    refused(project, "import", f)


def test_claimed_encoding_is_enforced(project, tmp_path):
    f = tmp_path / "claimed.txt"
    f.write_bytes(b"Respondent: caf\xe9")
    refused(project, "import", f, "--encoding", "utf-8", expect="not valid utf-8")


@pytest.mark.parametrize("data", [b"Interviewer: hi\x00 there\n", b"\x00" * 64,
                                  "Respondent: hi\x00".encode("utf-16")])
def test_nul_bytes_are_refused(project, tmp_path, data):
    f = tmp_path / "nul.txt"
    f.write_bytes(data)
    refused(project, "import", f)


def test_nul_in_docx_codebook_and_codings_is_refused(project, tmp_path):
    docx = tmp_path / "nul.docx"
    docx.write_bytes(docx_with_body("<w:p><w:r><w:t>a&#0;b</w:t></w:r></w:p>"))
    refused(project, "import", docx)
    cb = tmp_path / "nul.yaml"
    cb.write_bytes(b"codes:\n  - name: A\x00B\n")
    refused(project, "codebook", "import", cb)
    csv = tmp_path / "nul.csv"
    csv.write_bytes(b"document,start,end,code\nEI01\x00,0,5,Barriers\n")
    refused(project, "codings", "import", csv)


@pytest.mark.parametrize("text", ["Respondent: \x1b[2J\x1b[31mred\x1b[0m\n", "Respondent: \x1b]0;owned\x07 hi\n",
                                  "Respondent: C1 \x9b31m control\n"])
def test_terminal_escapes_in_text_are_refused(project, tmp_path, text):
    f = tmp_path / "esc.txt"
    f.write_text(text, encoding="utf-8")
    refused(project, "import", f, expect="control character")
    docx = tmp_path / "esc.docx"
    docx.write_bytes(docx_with_body("<w:p><w:r><w:t>C1 &#x9b;31m</w:t></w:r></w:p>"))
    refused(project, "import", docx, expect="control character")


def test_control_characters_in_names_are_refused(project, tmp_path):
    bell = tmp_path / "bad\x07name.txt"
    bell.write_text("Interviewer: hi\n", encoding="utf-8")
    refused(project, "import", bell, expect="control characters")
    cases = {
        "docname.md": '---\nname: "EI\\e[31m99"\n---\nInterviewer: hi\n',
        "label.md": '---\nspeakers:\n  "P\\x1b1": {gender: female}\n---\nInterviewer: hi\n',
        "attrkey.md": '---\n"ci\\x07ty": Baku\n---\nInterviewer: hi\n',
        "attrval.md": '---\ncity: "Ba\\x1bku"\n---\nInterviewer: hi\n',
        "speakerattr.md": '---\nspeakers:\n  P1: {gender: "fe\\x9bmale"}\n---\nP1: hi\n',
    }
    for name, content in cases.items():
        f = tmp_path / name
        f.write_text(content, encoding="utf-8")
        refused(project, "import", f, expect="control characters")
    refused(project, "import", tmp_path / "label.md", "--attr", "note=x\x1by", expect="control characters")
    cb = tmp_path / "ctl.yaml"
    cb.write_text('codes:\n  - name: "Bad\\x07code"\n', encoding="utf-8")
    refused(project, "codebook", "import", cb, expect="control characters")
    refused(project, "codebook", "add", "Evil\x1b[31m", expect="control characters")
    refused(project, "codebook", "rename", "Barriers", "B\x9barriers", expect="control characters")
    refused(project, "--coder", "eve\x1b[0m", "code", "EI01", "0", "5", "Barriers", expect="not usable")


def test_qdc_code_names_made_only_of_controls_get_a_placeholder(tmp_path):
    from qualcode.codebook_files import load

    f = tmp_path / "ctl.qdc"
    f.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                 '<Code guid="11111111-1111-1111-1111-111111111111" name="&#127;&#133;" isCodable="true"/>'
                 '</Codes></CodeBook>', encoding="utf-8")
    _, specs = load(f)
    assert [s.path for s in specs] == ["(unnamed)"]


# --- SQL metacharacters and markup: stored and shown literally ---------------------------------------

BOBBY = "Robert'); DROP TABLE codes;--"
MARKUP = "[bold red]x[/]"
LITERAL = f"""---
name: "{MARKUP} {BOBBY}"
note: "{MARKUP}"
speakers:
  "{BOBBY}": {{role: respondent, nickname: "{MARKUP}"}}
---
Interviewer: Tell me about fees. [/inaudible] 'quoted' "double" \\ backslash; -- comment /* c */ %s ? :name

{BOBBY}: They said {MARKUP} and [laughs] and [/inaudible] and [link=https://example.invalid]click[/link].
"""


def test_markup_and_sql_survive_import_export_and_text_byte_exact(tmp_path):
    project = tmp_path / "p.db"
    src = tmp_path / "literal.md"
    src.write_text(LITERAL, encoding="utf-8")
    body = LITERAL.split("---\n", 2)[2].strip("\n")
    doc = f"{MARKUP} {BOBBY}"
    assert qc("--project", project, "import", src).code == 0
    assert qc("--project", project, "text", doc).out == body

    docs = json.loads(qc("--project", project, "documents", "--json").out)
    assert docs[0]["name"] == doc and docs[0]["attributes"]["note"] == MARKUP
    assert BOBBY in docs[0]["speakers"]
    turns = json.loads(qc("--project", project, "turns", doc, "--json").out)
    assert turns[-1]["speaker"] == BOBBY

    cb = tmp_path / "cb.yaml"
    cb.write_text(f'codes:\n  - name: "{BOBBY}"\n    description: "{MARKUP} [/inaudible]"\n    children:\n'
                  f'      - name: "[bold red]x"\n        examples: ["{MARKUP}"]\n', encoding="utf-8")
    assert qc("--project", project, "codebook", "import", cb).code == 0
    child = f"{BOBBY}/[bold red]x"
    start = body.index(MARKUP)
    r = qc("--project", project, "code", doc, start, start + len(MARKUP) + 14, child)
    assert r.code == 0, r.err

    shown = qc("--project", project, "codebook", "show").out
    assert BOBBY in shown and "[bold red]x" in shown
    codes = json.loads(qc("--project", project, "codebook", "show", "--json").out)
    assert [c["path"] for c in codes] == [BOBBY, child]
    assert codes[0]["description"] == f"{MARKUP} [/inaudible]" and codes[1]["examples"] == [MARKUP]

    exported = json.loads(qc("--project", project, "codings", "export", "--json").out)
    assert exported[0]["code"] == child and exported[0]["document"] == doc
    assert exported[0]["text"] == body[start:start + len(MARKUP) + 14]
    csv_out = tmp_path / "c.csv"
    assert qc("--project", project, "codings", "export", "--csv", "-o", csv_out).code == 0
    import csv
    with open(csv_out, encoding="utf-8", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["code"] == child and row["text"] == exported[0]["text"]

    # quote exports carry the quote, the document name and the code path as written
    for fmt in ("csv", "md", "docx"):
        out = tmp_path / f"quotes.{fmt}"
        r = qc("--project", project, "export", "quotes", "--format", fmt, "-o", out)
        assert r.code == 0, r.err
        if fmt == "docx":
            import docx as docx_lib
            written = "\n".join(p.text for p in docx_lib.Document(out).paragraphs)
        else:
            written = out.read_text(encoding="utf-8")
        assert MARKUP in written and BOBBY in written, fmt

    # codebook files round trip into a fresh project
    for suffix in (".yaml", ".qdc"):
        out = tmp_path / f"book{suffix}"
        assert qc("--project", project, "codebook", "export", out).code == 0
        fresh = tmp_path / f"fresh{suffix}.db"
        assert qc("--project", fresh, "codebook", "import", out).code == 0
        again = json.loads(qc("--project", fresh, "codebook", "show", "--json").out)
        assert [c["path"] for c in again] == [BOBBY, child]
        assert again[0]["description"] == f"{MARKUP} [/inaudible]"

    # codings import by those names, into a project that still has its codes table
    jl = tmp_path / "c.jsonl"
    jl.write_text(json.dumps({"document": doc, "start": 0, "end": 11, "code": BOBBY}) + "\n", encoding="utf-8")
    assert qc("--project", project, "codings", "import", jl).code == 0
    assert len(json.loads(qc("--project", project, "codings", "export", "--json").out)) == 2


def test_markup_and_sql_survive_a_qdpx_round_trip(tmp_path):
    project = tmp_path / "p.db"
    src = tmp_path / "literal.md"
    src.write_text(LITERAL, encoding="utf-8")
    doc = f"{MARKUP} {BOBBY}"
    body = LITERAL.split("---\n", 2)[2].strip("\n")
    assert qc("--project", project, "import", src).code == 0
    assert qc("--project", project, "codebook", "add", BOBBY, "--description", MARKUP).code == 0
    start = body.index("[laughs]")
    assert qc("--project", project, "code", doc, start, start + 8, BOBBY).code == 0
    out = tmp_path / "p.qdpx"
    r = qc("--project", project, "export", "qdpx", out)
    if r.code != 0:
        pytest.skip(f"export qdpx is not available: {r.err.strip()}")
    fresh = tmp_path / "fresh.db"
    r = qc("--project", fresh, "import", "qdpx", out)
    if not qdpx_available(r):
        pytest.skip("import qdpx is not available yet")
    assert r.code == 0, r.err
    assert qc("--project", fresh, "text", doc).out == body
    codings = json.loads(qc("--project", fresh, "codings", "export", "--json").out)
    assert [(c["code"], c["text"]) for c in codings] == [(BOBBY, "[laughs]")]
    codes = json.loads(qc("--project", fresh, "codebook", "show", "--json").out)
    assert codes[0]["description"] == MARKUP
