"""Coded-quote exports: one quote per coding, verbatim, with its source; filters; files reopened."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from support import file_digest, qc
from test_frequencies import build_study


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return build_study(tmp_path_factory.mktemp("quotes"), n_codings=120, seed=11)


def _codings(db: Path, where: str = "", params=()):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(
        'SELECT c.id, d.name AS document, d.text AS doc_text, c.start, c."end", k.path, u.name AS coder, c.memo '
        "FROM codings c JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id "
        "JOIN coders u ON u.id = c.coder_id " + where, params).fetchall()
    conn.close()
    return rows


def _read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_has_every_coding_verbatim_with_its_source(study, tmp_path):
    out = tmp_path / "q.csv"
    res = qc("--project", study, "export", "quotes", "--format", "csv", "-o", out)
    assert res.code == 0, res.err
    rows = _read_csv(out)
    codings = {(r["document"], r["start"], r["end"], r["path"], r["coder"]): r for r in _codings(study)}
    assert len(rows) == len(codings)
    for row in rows:
        key = (row["document"], int(row["start"]), int(row["end"]), row["code"], row["coder"])
        src = codings[key]
        assert row["text"] == src["doc_text"][src["start"]:src["end"]]
        assert row["theme"] == row["code"].split("/")[0]
        assert row["verbatim"] == "True"
        assert (row["memo"] or None) == src["memo"]
        assert row["doc:city"] in ("Baku", "Lankaran")
        assert row["document_type"] in ("focus_group", "expert_interview")
        assert int(row["line"]) >= 1
    fg = [r for r in rows if r["document"].startswith("FG") and r["speaker"] and "," not in r["speaker"]
          and r["speaker"] != "Moderator"]
    assert fg and all(r["speaker:gender"] in ("female", "male") and r["speaker:age"] for r in fg)
    # ordered by codebook, then document
    order = [r["theme"] for r in rows]
    assert order == sorted(order, key=lambda t: order.index(t))


def test_filters_by_code_attribute_and_coder(study, tmp_path):
    out = tmp_path / "f.csv"
    assert qc("--project", study, "export", "quotes", "--code", "Barriers", "--code", "Gender",
              "--where", "city=Lankaran", "--coded-by", "aysel", "-o", out).code == 0
    rows = _read_csv(out)
    expected = [r for r in _codings(study) if r["path"].split("/")[0] in ("Barriers", "Gender") and r["coder"] == "aysel"
                and r["document"] in ("FG03", "EI03")]
    assert len(rows) == len(expected) > 0
    assert {r["theme"] for r in rows} <= {"Barriers", "Gender"}
    assert {r["coder"] for r in rows} == {"aysel"}
    out2 = tmp_path / "women.csv"
    assert qc("--project", study, "export", "quotes", "--where", "gender=female", "-o", out2).code == 0
    women = _read_csv(out2)
    assert women and all("female" in (r.get("speaker:gender") or "female") for r in women)
    assert len(women) < len(_codings(study))


def test_docx_groups_quotes_by_theme_and_subcode(study, tmp_path):
    import docx

    out = tmp_path / "q.docx"
    res = qc("--project", study, "export", "quotes", "--code", "Barriers", "-o", out, "--title", "Barriers quotes")
    assert res.code == 0, res.err
    d = docx.Document(str(out))
    paras = d.paragraphs
    styles = [p.style.name for p in paras]
    quotes = [p.text for p in paras if p.style.name == "Quote"]
    expected = _codings(study, "WHERE k.path LIKE 'Barriers%'")
    assert len(quotes) == len(expected)
    texts = sorted(r["doc_text"][r["start"]:r["end"]] for r in expected)
    # Word keeps the text; line breaks inside a quote become <w:br/>, which python-docx reads back as \n
    assert sorted(quotes) == texts
    h1 = [p.text for p in paras if p.style.name == "Heading 1"]
    h2 = [p.text for p in paras if p.style.name == "Heading 2"]
    assert h1 == [f"Barriers ({len(expected)} quotes)"]
    subs = {r["path"].split("/", 1)[1] for r in expected if "/" in r["path"]}
    assert {h.rsplit(" (", 1)[0] for h in h2} == subs
    for i, s in enumerate(styles):
        if s == "Quote":
            assert paras[i + 1].text.startswith("— ") and "coded by" in paras[i + 1].text
    assert paras[0].text == "Barriers quotes"


def test_xlsx_and_markdown(study, tmp_path):
    import openpyxl

    assert qc("--project", study, "export", "quotes", "-o", tmp_path / "q.xlsx").code == 0
    ws = openpyxl.load_workbook(tmp_path / "q.xlsx")["Quotes"]
    head = [c.value for c in ws[1]]
    assert head[:5] == ["theme", "code", "code_name", "document", "document_type"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    all_codings = _codings(study)
    assert len(rows) == len(all_codings)
    ti, di, si, ei = (head.index(k) for k in ("text", "document", "start", "end"))
    texts = {r["document"]: r["doc_text"] for r in all_codings}
    assert all(r[ti] == texts[r[di]][r[si]:r[ei]] for r in rows)
    assert qc("--project", study, "export", "quotes", "--code", "Gender", "-o", tmp_path / "q.md").code == 0
    md = (tmp_path / "q.md").read_text(encoding="utf-8")
    assert md.startswith("# Coded quotes") and "## Gender" in md and "\n> " in md and "coded by" in md


def test_ten_quotes_with_control_characters_and_markup_survive(tmp_path):
    """Text Word would reject (a stray control character) is dropped from the file, not fatal."""
    import docx

    src = tmp_path / "odd.txt"
    src.write_text("Respondent: Money [laughs] comes <b>by</b> card & cash.\x0b Then \"rouble\" fees.\n", encoding="utf-8")
    db = tmp_path / "p.db"
    assert qc("--project", db, "import", src).code == 0
    assert qc("--project", db, "codebook", "add", "Channels").code == 0
    assert qc("--project", db, "code", "odd", "12", "60", "Channels", "--memo", "odd <memo>").code == 0
    out = tmp_path / "odd.docx"
    assert qc("--project", db, "export", "quotes", "-o", out).code == 0, "export"
    d = docx.Document(str(out))
    quote = next(p.text for p in d.paragraphs if p.style.name == "Quote")
    assert "[laughs] comes <b>by</b> card & cash." in quote
    assert any("odd <memo>" in p.text for p in d.paragraphs)


@pytest.mark.parametrize("args, message", [
    (["export", "quotes", "-o", "q.pdf"], "unknown quote format"),
    (["export", "quotes", "--code", "Nope", "-o", "q.csv"], "unknown code"),
    (["export", "quotes", "--where", "planet=Mars", "-o", "q.csv"], "no document or speaker attribute"),
    (["export", "quotes", "--coded-by", "ghost", "-o", "q.csv"], "unknown coder"),
])
def test_bad_input(study, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    before = file_digest(study)
    res = qc("--project", study, *args)
    assert res.code == 1 and res.err.startswith("error:") and message in res.err
    assert not (tmp_path / "q.csv").exists()
    assert file_digest(study) == before


def test_collect_quotes_api_matches_codings(study):
    from qualcode.export.quotes import collect_quotes
    from qualcode.store.project import open_project

    with open_project(study) as project:
        quotes = collect_quotes(project, codes=["Gender"])
    assert quotes and all(q["code"].startswith("Gender") and q["verbatim"] for q in quotes)
    assert json.dumps(quotes, ensure_ascii=False)


def test_retrieval_attributes_a_coding_to_the_participants_it_covers(tmp_path):
    """A coding that starts in the moderator's question and runs into P2's answer is P2's quote,
    as in the frequency tables and quote exports: `attr:gender=female` finds it."""
    from qualcode.analysis.retrieval import retrieve
    from qualcode.coding import apply_code
    from qualcode.store.project import Project

    f = tmp_path / "FG.md"
    f.write_text("---\ntype: focus_group\nspeakers:\n  Moderator: {role: moderator}\n"
                 "  P1: {role: participant, gender: male}\n  P2: {role: participant, gender: female}\n---\n"
                 "Moderator: Who sends the money?\n\nP2: My son sends it by card.\n\nP1: Mine too.\n",
                 encoding="utf-8")
    db = tmp_path / "p.db"
    assert qc("--project", db, "import", f).code == 0
    assert qc("--project", db, "codebook", "add", "Channels").code == 0
    with Project(db) as p:
        text = p.one("SELECT text FROM documents")["text"]
        start, end = text.index("Who sends"), text.index("by card.") + len("by card.")
        apply_code(p, "FG", start, end, "Channels", "tester")
        rows = retrieve(p, "Channels")
        assert [r["speaker"] for r in rows] == ["P2"]
        assert len(retrieve(p, "Channels", "and", "attr:gender=female")) == 1
        assert retrieve(p, "Channels", "and", "attr:gender=male") == []
