"""The Word report and saturation: the report is reopened with python-docx and its parts checked;
saturation is recounted from the codings; LibreOffice converts the report when it is installed."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from support import qc
from test_frequencies import build_study

ORDER = ["EI02", "FG01", "EI01", "FG03", "FG02", "EI03"]  # the order build_study imports codings in


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return build_study(tmp_path_factory.mktemp("report"), n_codings=200, seed=3)


@pytest.fixture(scope="module")
def report(study, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "report.docx"
    res = qc("--project", study, "report", "-o", out)
    assert res.code == 0, res.err
    return out


def test_saturation_recounted_in_coding_order(study):
    conn = sqlite3.connect(study)
    rows = conn.execute("SELECT d.name, k.path FROM codings c JOIN documents d ON d.id = c.document_id "
                        "JOIN codes k ON k.id = c.code_id").fetchall()
    conn.close()
    seen, expected = set(), []
    for doc in ORDER:
        codes = {p for d, p in rows if d == doc}
        new = codes - seen
        seen |= codes
        expected.append((doc, len(new), len(seen)))
    data = json.loads(qc("--project", study, "report", "saturation", "--json").out)
    assert [(r["document"], r["new"], r["cumulative"]) for r in data["rows"]] == expected
    assert data["total"] == len(seen) and data["codebook_size"] == 48
    themes = json.loads(qc("--project", study, "report", "saturation", "--themes", "--json").out)
    assert themes["rows"][-1]["cumulative"] == len({p.split("/")[0] for p in seen})
    imported = json.loads(qc("--project", study, "report", "saturation", "--order", "import", "--json").out)
    assert [r["document"] for r in imported["rows"]] == ["FG01", "FG02", "FG03", "EI01", "EI02", "EI03"]


def test_saturation_outputs(study, tmp_path):
    import docx
    import openpyxl

    for fmt in ("md", "csv", "png", "docx", "xlsx"):
        res = qc("--project", study, "report", "saturation", "-o", tmp_path / f"s.{fmt}")
        assert res.code == 0, res.err
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 1 | EI02 |" in (tmp_path / "s.md").read_text()
    d = docx.Document(str(tmp_path / "s.docx"))
    assert len(d.inline_shapes) == 1 and d.tables[0].rows[1].cells[1].text == "EI02"
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["Saturation"]
    assert ws.cell(2, 2).value == "EI02" and ws._charts


def test_png_writer_produces_the_pixels_it_was_given(tmp_path):
    import zlib

    import numpy as np

    from qualcode.export.charts import png_bytes

    px = np.zeros((3, 4, 3), dtype=np.uint8)
    px[1, 2] = (10, 20, 30)
    data = png_bytes(px)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    rows = [raw[i * 13:(i + 1) * 13] for i in range(3)]
    assert all(r[0] == 0 for r in rows)
    assert rows[1][1 + 2 * 3:1 + 3 * 3] == bytes([10, 20, 30])


def test_report_has_every_part(report, study):
    import docx

    d = docx.Document(str(report))
    heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    names = [t for _, t in heads]
    assert heads[0] == ("Title", "Thematic analysis report")
    for part in ("Corpus and method", "Codebook", "Theme frequencies", "Theme frequency by type",
                 "Themes coded together", "Saturation", "Themes", "Appendix: evidence"):
        assert part in names, part
    conn = sqlite3.connect(study)
    n_codes = conn.execute("SELECT COUNT(*) FROM codes").fetchone()[0]
    coded_themes = {r[0].split("/")[0] for r in conn.execute(
        "SELECT k.path FROM codings c JOIN codes k ON k.id = c.code_id")}
    n_docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    conn.close()
    theme_heads = [t for s, t in heads if s == "Heading 2"]
    assert set(theme_heads) == coded_themes
    codebook = d.tables[0]
    assert len(codebook.rows) == n_codes + 1
    assert [c.text for c in codebook.rows[0].cells] == ["Code", "Definition", "Codings"]
    heat = d.tables[1]
    assert [c.text for c in heat.rows[0].cells] == ["Code", "expert_interview", "focus_group", "Total"]
    assert heat.rows[-1].cells[1].text == "3" and heat.rows[-1].cells[2].text == "3"
    body = "\n".join(p.text for p in d.paragraphs)
    assert f"The corpus holds {n_docs} transcripts" in body
    assert len(d.inline_shapes) >= 3  # the saturation chart and bar-chart images
    quotes = [p.text for p in d.paragraphs if p.style.name == "Quote"]
    conn = sqlite3.connect(study)
    texts = [r[0] for r in conn.execute("SELECT text FROM documents")]
    conn.close()
    assert len(quotes) >= 3 * len(coded_themes)
    assert all(any(q in t for t in texts) for q in quotes)
    assert d.sections[0].footer.paragraphs[0].text.startswith("qualcode report")


def test_report_rejects_other_suffixes_and_missing_folders(study, tmp_path):
    res = qc("--project", study, "report", "-o", tmp_path / "r.pdf")
    assert res.code == 1 and "docx" in res.err
    res = qc("--project", study, "report", "-o", tmp_path / "nope" / "r.docx")
    assert res.code == 1 and "does not exist" in res.err
    res = qc("--project", study, "report", "--by", "nonsense", "-o", tmp_path / "r.docx")
    assert res.code == 1 and "nonsense" in res.err and not (tmp_path / "r.docx").exists()
    res = qc("--project", study, "report")
    assert res.code == 0 and "frequencies" in res.out  # no -o: the group's help


def test_report_by_a_speaker_attribute(study, tmp_path):
    import docx

    out = tmp_path / "g.docx"
    res = qc("--project", study, "report", "--by", "gender", "--title", "By gender", "-o", out)
    assert res.code == 0, res.err
    d = docx.Document(str(out))
    assert d.paragraphs[0].text == "By gender"
    assert "Theme frequency by gender" in [p.text for p in d.paragraphs]


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(not SOFFICE, reason="LibreOffice is not installed")
def test_libreoffice_converts_the_report_to_pdf(report, tmp_path):
    res = subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                          "--convert-to", "pdf", "--outdir", str(tmp_path), str(report)],
                         capture_output=True, text=True, timeout=180)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), res.stderr
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and data.count(b"/Type /Page") + data.count(b"/Type/Page") >= 5


def test_report_for_one_coder(study, tmp_path):
    import docx

    out = tmp_path / "aysel.docx"
    res = qc("--project", study, "report", "--coded-by", "aysel", "-o", out)
    assert res.code == 0, res.err
    body = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    conn = sqlite3.connect(study)
    n = conn.execute("SELECT COUNT(*) FROM codings c JOIN coders u ON u.id = c.coder_id WHERE u.name = 'aysel'").fetchone()[0]
    conn.close()
    assert f"holds {n} codings by 1 coder (aysel: {n})" in body
