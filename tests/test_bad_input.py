"""Bad input: one `error:` line on stderr, exit status 1, and the project file unchanged."""

import io
import zipfile

import pytest

from support import file_digest, qc


def _bad_files(tmp):
    empty = tmp / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    truncated = tmp / "truncated.docx"
    import docx
    d = docx.Document()
    d.add_paragraph("Interviewer: hello")
    buf = io.BytesIO()
    d.save(buf)
    truncated.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    notzip = tmp / "notzip.docx"
    notzip.write_text("I am plain text pretending to be Word", encoding="utf-8")
    nomain = tmp / "nomain.docx"
    with zipfile.ZipFile(nomain, "w") as z:
        z.writestr("[Content_Types].xml", "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'/>")
        z.writestr("word/styles.xml", "<styles/>")
    folder = tmp / "a-folder"
    folder.mkdir()
    spaces = tmp / "spaces.md"
    spaces.write_text("---\ntype: x\n---\n   \n", encoding="utf-8")
    return {
        "missing": ["import", tmp / "nope.txt"],
        "folder": ["import", folder],
        "empty": ["import", empty],
        "binary": ["import", binary],
        "truncated docx": ["import", truncated],
        "non-zip docx": ["import", notzip],
        "docx without main part": ["import", nomain],
        "front matter only": ["import", spaces],
        "unsupported suffix": ["import", tmp / "p.db"],
    }


CYCLE = """codes:
  - {name: A, parent: C}
  - {name: B, parent: A}
  - {name: C, parent: B}
"""
DUPLICATE = """codes:
  - name: Barriers
    children: [{name: Fees}, {name: Fees}]
"""


def test_each_bad_transcript_is_refused_cleanly(project, tmp_path):
    cases = _bad_files(tmp_path)
    for label, args in cases.items():
        before = file_digest(project)
        r = qc("--project", project, *args)
        assert r.code == 1, (label, r)
        assert r.err.startswith("error:") and r.err.count("\n") == 1, (label, r.err)
        assert "Traceback" not in r.err
        assert file_digest(project) == before, label


@pytest.mark.parametrize("args", [
    ["code", "EI01", "50", "10", "Barriers/Trust"],          # start after end
    ["code", "EI01", "5", "5", "Barriers/Trust"],            # empty span
    ["code", "EI01", "0", "999999", "Barriers/Trust"],       # past the text
    ["code", "EI01", "-3", "10", "Barriers/Trust"],          # negative
    ["code", "NoSuchDoc", "0", "10", "Barriers/Trust"],      # unknown document
    ["code", "EI01", "0", "10", "No such code"],             # unknown code
    ["code", "EI01", "zero", "10", "Barriers/Trust"],        # not a number
    ["codebook", "rename", "Barriers/Trust", "A/B"],          # separator in a name
    ["codebook", "move", "Barriers", "Barriers/Trust"],       # under itself
    ["text", "NoSuchDoc"],
    ["undo", "--bogus-option"],
])
def test_bad_commands_change_nothing(project, args):
    before = file_digest(project)
    r = qc("--project", project, *args)
    assert r.code == 1, r
    assert r.err.startswith("error:") and r.err.count("\n") == 1, r.err
    assert file_digest(project) == before


@pytest.mark.parametrize("content,expect", [(CYCLE, "cycle"), (DUPLICATE, "twice"),
                                            ("codes: [{name: 'A/B'}]", "cannot contain"),
                                            ("codes: [ {name: x", "not valid YAML"),
                                            ("just: text", "codes")])
def test_bad_codebooks_are_refused(project, tmp_path, content, expect):
    f = tmp_path / "cb.yaml"
    f.write_text(content, encoding="utf-8")
    before = file_digest(project)
    r = qc("--project", project, "codebook", "import", f)
    assert r.code == 1 and expect in r.err and r.err.count("\n") == 1, r.err
    assert file_digest(project) == before


def test_bad_codings_file_changes_nothing(project, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("document,start,end,code\nEI01,0,10,Barriers/Trust\nEI01,10,5,Barriers/Trust\n", encoding="utf-8")
    before = file_digest(project)
    r = qc("--project", project, "codings", "import", f)
    assert r.code == 1 and r.err.startswith("error:")
    assert file_digest(project) == before


def test_a_bad_file_among_good_ones_imports_none(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Interviewer: fine.\n", encoding="utf-8")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    project = tmp_path / "p.db"
    r = qc("--project", project, "import", good, bad)
    assert r.code == 1
    assert not project.exists()
