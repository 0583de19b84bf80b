"""Frequency tables and co-occurrence: every count is recomputed here from the raw tables with a
naive, separately written loop, for every unit and grouping, and compared."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from support import REPO, file_digest, qc

# --- a small study: 3 focus groups and 3 expert interviews, random codings by two coders ----------

WORDS = ("money transfer card bank fee branch village cash phone account agent rate family winter school "
         "house loan rouble manat trust queue passport office husband mother son market").split()
PLANTED = {"Barriers": "hawala", "Gender": "headscarf"}  # distinctive words written into those codings
PLANTED_SENTENCES = {"Barriers": "The hawala dealer keeps hawala money for the hawala families.",
                     "Gender": "Her headscarf money stays with the headscarf seller, headscarf by headscarf."}


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _focus_group(name: str, city: str, rng: random.Random) -> str:
    people = {f"P{i}": (rng.choice(["female", "male"]), rng.choice([24, 33, 47, 52, 66])) for i in range(1, 5)}
    head = ["---", "type: focus_group", f"city: {city}", "speakers:", "  Moderator: {role: moderator}"]
    head += [f"  {p}: {{role: participant, gender: {g}, age: {a}}}" for p, (g, a) in people.items()]
    head.append("---")
    body = []
    for k in range(14):
        who = "Moderator" if k % 4 == 0 else f"P{rng.randint(1, 4)}"
        body.append(f"{who}: " + " ".join(_sentence(rng, rng.randint(5, 12)) for _ in range(rng.randint(1, 4))))
    return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"


def _interview(name: str, city: str, gender: str, rng: random.Random) -> str:
    head = ["---", "type: expert_interview", f"city: {city}", "sector: bank", "speakers:",
            "  Interviewer: {role: interviewer}", f"  Respondent: {{role: expert, gender: {gender}}}", "---"]
    body = []
    for k in range(10):
        who = "Interviewer" if k % 2 == 0 else "Respondent"
        body.append(f"{who}: " + " ".join(_sentence(rng, rng.randint(6, 14)) for _ in range(rng.randint(1, 3))))
    return "\n".join(head) + "\n" + "\n\n".join(body) + "\n"


def _plant(text: str) -> str:
    """Put the planted sentences into the second and third answers of a transcript."""
    parts = text.split("\n\n")
    parts[2] += " " + PLANTED_SENTENCES["Barriers"]
    parts[3] += " " + PLANTED_SENTENCES["Gender"]
    return "\n\n".join(parts)


def build_study(tmp: Path, n_codings: int = 260, seed: int = 7) -> Path:
    """A project with 6 transcripts, the study codebook and random codings by aysel and rashad,
    imported document by document (so coding order is the import order of the codings)."""
    rng = random.Random(seed)
    files = {
        "FG01": _focus_group("FG01", "Baku", rng), "FG02": _focus_group("FG02", "Baku", rng),
        "FG03": _focus_group("FG03", "Lankaran", rng),
        "EI01": _interview("EI01", "Baku", "female", rng), "EI02": _interview("EI02", "Baku", "male", rng),
        "EI03": _interview("EI03", "Lankaran", "female", rng),
    }
    for name in ("FG01", "EI01", "FG03"):
        files[name] = _plant(files[name])
    db = tmp / "study.db"
    paths = []
    for name, text in files.items():
        p = tmp / f"{name}.md"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    assert qc("--project", db, "import", *paths).code == 0
    assert qc("--project", db, "codebook", "import", REPO / "codebooks" / "remittances.yaml").code == 0
    conn = sqlite3.connect(db)
    codes = [r[0] for r in conn.execute("SELECT path FROM codes")]
    leaves = [c for c in codes if "/" in c]
    themes = [c for c in codes if "/" not in c]
    texts = dict(conn.execute("SELECT name, text FROM documents"))
    conn.close()
    order = ["EI02", "FG01", "EI01", "FG03", "FG02", "EI03"]
    per_doc = defaultdict(list)
    for i in range(n_codings):
        doc = order[i % len(order)] if i < 60 else rng.choice(order)
        text = texts[doc]
        start = rng.randrange(0, len(text) - 30)
        end = min(len(text), start + rng.randint(15, 400))
        code = rng.choice(themes) if rng.random() < 0.1 else rng.choice(leaves)
        per_doc[doc].append({"document": doc, "start": start, "end": end, "code": code,
                             "coder": rng.choice(["aysel", "rashad"]),
                             "memo": "check this one" if rng.random() < 0.1 else None})
    # code the planted sentences with a sub-code of their theme
    for theme, sentence in PLANTED_SENTENCES.items():
        sub = next(c for c in leaves if c.startswith(theme + "/"))
        for doc in ("FG01", "EI01", "FG03"):
            pos = texts[doc].find(sentence)
            assert pos >= 0
            per_doc[doc].append({"document": doc, "start": pos, "end": pos + len(sentence), "code": sub,
                                 "coder": "aysel", "memo": None})
    for doc in order:
        if not per_doc[doc]:
            continue
        f = tmp / f"codings_{doc}.jsonl"
        f.write_text("\n".join(json.dumps({k: v for k, v in r.items() if v is not None}) for r in per_doc[doc]),
                     encoding="utf-8")
        res = qc("--project", db, "codings", "import", f)
        assert res.code == 0, res.err
    return db


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return build_study(tmp_path_factory.mktemp("study"))


# --- the independent recount -------------------------------------------------------------------------

INTERVIEWERS = {"moderator", "interviewer"}


def recount(db: Path, unit: str, by: str | None, code_prefix: str | None = None, where: tuple | None = None):
    """{code path: {column: n}} and {code path: total}, straight from SQL rows with plain loops."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    docs = {r["id"]: dict(r) for r in conn.execute("SELECT id, name, type FROM documents")}
    dattr = defaultdict(dict)
    for r in conn.execute("SELECT document_id, key, value FROM document_attributes"):
        dattr[r["document_id"]][r["key"]] = r["value"]
    role = {r["id"]: (r["role"] or "") for r in conn.execute("SELECT id, role FROM speakers")}
    sattr = defaultdict(dict)
    for r in conn.execute("SELECT speaker_id, key, value FROM speaker_attributes"):
        sattr[r["speaker_id"]][r["key"]] = r["value"]
    for sid, a in sattr.items():
        if "age" in a:
            age = int(a["age"])
            a["age_group"] = "18–29" if age <= 29 else "30–44" if age <= 44 else "45–59" if age <= 59 else "60+"
    turns = defaultdict(list)
    for r in conn.execute('SELECT id, document_id, start, "end", speaker_id FROM turns'):
        turns[r["document_id"]].append(r)
    sentences = defaultdict(list)
    for r in conn.execute('SELECT s.id, s.document_id, s.start, s."end", t.speaker_id FROM sentences s '
                          'JOIN turns t ON t.id = s.turn_id'):
        sentences[r["document_id"]].append(r)
    codings = conn.execute('SELECT c.id, c.document_id, k.path, c.start, c."end" FROM codings c '
                           'JOIN codes k ON k.id = c.code_id').fetchall()
    all_paths = [r[0] for r in conn.execute("SELECT path FROM codes")]
    conn.close()

    def doc_value(d, key):
        if key == "document":
            return docs[d]["name"]
        if key == "type":
            return docs[d]["type"]
        return dattr[d].get(key, "(no value)")

    def sp_value(s, key):
        return sattr.get(s, {}).get(key, "(no value)") if s else "(no value)"

    def speakers_of(c):
        found = []
        for t in turns[c["document_id"]]:
            if t["start"] < c["end"] and t["end"] > c["start"] and t["speaker_id"] and t["speaker_id"] not in found:
                found.append(t["speaker_id"])
        others = [s for s in found if role[s] not in INTERVIEWERS]
        return others or found

    doc_level = by in (None, "document", "type", "city", "sector")
    cells = defaultdict(set)
    totals = defaultdict(set)
    for c in codings:
        if code_prefix and not (c["path"] == code_prefix or c["path"].startswith(code_prefix + "/")):
            continue
        if where and where[0] in ("city", "type") and doc_value(c["document_id"], where[0]) != where[1]:
            continue
        if unit == "segment":
            units = [(c["id"], None)]
        elif unit == "document":
            units = [(c["document_id"], None)]
        elif unit == "speaker":
            units = [(s, s) for s in speakers_of(c) if role[s] not in INTERVIEWERS]
        else:
            pool = sentences if unit == "sentence" else turns
            units = [(u["id"], u["speaker_id"]) for u in pool[c["document_id"]]
                     if u["start"] < c["end"] and u["end"] > c["start"]]
        for key, sp in units:
            sps = [sp] if unit in ("sentence", "turn", "speaker") else speakers_of(c)
            if where and where[0] == "gender":
                sps = [s for s in sps if sp_value(s, "gender") == where[1]]
                if not sps:
                    continue
            if by is None:
                cols = {"All"}
            elif doc_level:
                cols = {doc_value(c["document_id"], by)}
            else:
                cols = {sp_value(s, by) for s in sps} or {"(no value)"}
            prefixes = [p for p in all_paths if c["path"] == p or c["path"].startswith(p + "/")]
            for p in prefixes:
                totals[p].add(key)
                for col in cols:
                    cells[(p, col)].add(key)
    counts = defaultdict(dict)
    for (p, col), keys in cells.items():
        counts[p][col] = len(keys)
    return counts, {p: len(v) for p, v in totals.items()}


UNITS = ["segment", "sentence", "turn", "document", "speaker"]
BYS = [None, "type", "city", "document", "gender", "age_group"]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("by", BYS)
def test_counts_match_an_independent_recount(study, unit, by):
    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        table = frequency_table(project, by=by, unit=unit)
    expected, totals = recount(study, unit, by)
    assert table["unit"] == unit and table["by"] == by
    assert len(table["rows"]) == 48
    nonzero = 0
    for row in table["rows"]:
        got = {c: n for c, n in row["counts"].items() if n}
        assert got == expected.get(row["code"], {}), (row["code"], unit, by)
        assert row["total"] == totals.get(row["code"], 0)
        nonzero += row["total"] > 0
    assert nonzero > 10


@pytest.mark.parametrize("unit", ["segment", "sentence", "document", "speaker"])
def test_matrix_query_restricted_to_a_code_and_a_speaker_group(study, unit):
    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        table = frequency_table(project, by="city", unit=unit, code="Barriers", speaker_filter="gender=female")
        by_doc = frequency_table(project, by="gender", unit=unit, code="Gender", speaker_filter="city=Baku")
    expected, totals = recount(study, unit, "city", "Barriers", ("gender", "female"))
    assert {r["code"] for r in table["rows"]} == {r for r in expected} | {r["code"] for r in table["rows"]}
    assert all(r["code"].startswith("Barriers") for r in table["rows"])
    for row in table["rows"]:
        assert {c: n for c, n in row["counts"].items() if n} == expected.get(row["code"], {})
    expected, _ = recount(study, unit, "gender", "Gender", ("city", "Baku"))
    for row in by_doc["rows"]:
        assert {c: n for c, n in row["counts"].items() if n} == expected.get(row["code"], {})


def test_themes_are_subtotals_and_percentages_add_up(study):
    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        seg = frequency_table(project, by="type", unit="segment")
        docs = frequency_table(project, by="type", unit="document")
    rows = {r["code"]: r for r in seg["rows"]}
    conn = sqlite3.connect(study)
    own = dict(conn.execute("SELECT k.path, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id GROUP BY k.path"))
    for path, r in rows.items():
        if "/" not in path:
            children = [rows[p]["total"] for p in rows if p.startswith(path + "/")]
            assert r["total"] == sum(children) + own.get(path, 0)
            assert r["subtotal"] and r["depth"] == 0
    n_docs = dict(conn.execute("SELECT type, COUNT(*) FROM documents GROUP BY type"))
    assert docs["column_totals"] == n_docs
    assert seg["column_totals"] == dict(conn.execute(
        "SELECT d.type, COUNT(*) FROM codings c JOIN documents d ON d.id = c.document_id GROUP BY d.type"))
    for r in docs["rows"]:
        for col in docs["columns"]:
            assert r["column_percent"][col] == round(100 * r["counts"][col] / n_docs[col], 1)
        if r["total"]:
            assert abs(sum(r["row_percent"].values()) - 100) < 0.3


def test_chi_square_agrees_with_scipy_and_flags_small_expected_counts(study):
    from scipy.stats import chi2_contingency

    from qualcode.analysis.frequencies import chi_square, frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        table = frequency_table(project, by="city", unit="sentence")
    row = max(table["rows"], key=lambda r: r["total"])
    cols = table["columns"]
    obs = [[row["counts"][c] for c in cols], [table["column_totals"][c] - row["counts"][c] for c in cols]]
    stat, p, dof, expected = chi2_contingency(obs, correction=False)
    assert row["test"]["chi2"] == pytest.approx(stat, abs=1e-3)
    assert row["test"]["p"] == pytest.approx(p, rel=1e-6)
    assert row["test"]["df"] == dof
    n = sum(map(sum, obs))
    assert row["test"]["cramers_v"] == pytest.approx((stat / (n * 1)) ** 0.5, abs=1e-4)
    small = chi_square([[3, 1], [1, 2]])
    assert small["small_expected"] is True
    big = chi_square([[300, 100], [100, 200]])
    assert big["small_expected"] is False and big["p"] < 1e-6
    assert chi_square([[5, 0], [0, 0]]) is None  # one non-empty row: no test
    # overall themes × groups at segment level
    with open_project(study) as project:
        seg = frequency_table(project, by="type", unit="segment")
    themes = [r for r in seg["rows"] if r["depth"] == 0 and r["total"]]
    stat, p, dof, _ = chi2_contingency([[r["counts"][c] for c in seg["columns"]] for r in themes], correction=False)
    assert seg["test"]["chi2"] == pytest.approx(stat, abs=1e-3) and seg["test"]["df"] == dof


def test_groups_that_overlap_get_no_test(study):
    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        table = frequency_table(project, by="gender", unit="document")
    assert table["exclusive_columns"] is False
    assert table["test"] is None and "more than one group" in table["test_note"]
    assert all(r["test"] is None for r in table["rows"])


def test_cli_json_follows_the_contract(study):
    res = qc("--project", study, "report", "frequencies", "--by", "type", "--unit", "document", "--format", "json")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert {"unit", "by", "columns", "rows"} <= set(data)
    assert data["unit"] == "document" and data["by"] == "type"
    assert data["columns"] == ["expert_interview", "focus_group"]
    assert set(data["rows"][0]) >= {"code", "counts", "total"}
    assert set(data["rows"][0]["counts"]) == set(data["columns"])
    assert json.loads(qc("--project", study, "report", "frequencies", "--json").out)["unit"] == "segment"


def test_every_format_is_written_and_reopens(study, tmp_path):
    import docx
    import openpyxl

    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    with open_project(study) as project:
        table = frequency_table(project, by="city", unit="document")
    for fmt in ("csv", "json", "md", "docx", "xlsx"):
        out = tmp_path / f"freq.{fmt}"
        res = qc("--project", study, "report", "frequencies", "--by", "city", "--unit", "document", "-o", out)
        assert res.code == 0 and out.stat().st_size > 0, res.err
    assert json.loads((tmp_path / "freq.json").read_text())["rows"] == table["rows"]
    import csv
    rows = list(csv.reader((tmp_path / "freq.csv").open(encoding="utf-8-sig")))
    assert rows[0][:4] == ["code", "depth", "Baku", "Lankaran"]
    assert {r[0]: int(r[2]) for r in rows[1:-1]} == {r["code"]: r["counts"]["Baku"] for r in table["rows"]}
    md = (tmp_path / "freq.md").read_text()
    assert "| **Barriers** |" in md and "base (documents)" in md

    d = docx.Document(str(tmp_path / "freq.docx"))
    t = d.tables[0]
    assert [c.text for c in t.rows[0].cells] == ["Code", "Baku", "Lankaran", "Total"]
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    shaded = 0
    for i, r in enumerate(table["rows"], start=1):
        cells = t.rows[i].cells
        assert cells[0].text.strip() == r["name"]
        for j, col in enumerate(table["columns"], start=1):
            assert cells[j].text.split(" ")[0] == str(r["counts"][col])
            fills = [s.get(ns + "fill") for s in cells[j]._tc.iter(ns + "shd")]
            if r["counts"][col]:
                assert fills, "non-zero cells are shaded"
                shaded += 1
        assert cells[-1].text == str(r["total"])
    assert shaded > 5

    wb = openpyxl.load_workbook(tmp_path / "freq.xlsx")
    ws = wb["Counts"]
    assert [c.value for c in ws[1]] == ["Code", "Depth", "Baku", "Lankaran", "Total"]
    for i, r in enumerate(table["rows"], start=2):
        assert [ws.cell(i, 3).value, ws.cell(i, 4).value, ws.cell(i, 5).value] == \
            [r["counts"]["Baku"], r["counts"]["Lankaran"], r["total"]]
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert rules and all(rule.type == "colorScale" for rule in rules)
    assert {"% of column", "% of row", "Tests"} <= set(wb.sheetnames)


def _overlap_pairs(db: Path, themes: bool = False):
    conn = sqlite3.connect(db)
    rows = conn.execute('SELECT c.document_id, k.path, c.start, c."end" FROM codings c JOIN codes k ON k.id = c.code_id').fetchall()
    conn.close()
    lab = (lambda p: p.split("/")[0]) if themes else (lambda p: p)
    pairs = defaultdict(int)
    diag = defaultdict(int)
    for i, a in enumerate(rows):
        diag[lab(a[1])] += 1
        for b in rows[i + 1:]:
            if a[0] == b[0] and a[2] < b[3] and b[2] < a[3] and lab(a[1]) != lab(b[1]):
                pairs[frozenset((lab(a[1]), lab(b[1])))] += 1
    return pairs, diag


@pytest.mark.parametrize("themes", [False, True])
def test_cooccurrence_of_overlapping_spans_matches_recount(study, themes):
    from qualcode.analysis.frequencies import cooccurrence
    from qualcode.store.project import open_project

    with open_project(study) as project:
        co = cooccurrence(project, unit="segment", themes=themes)
    pairs, diag = _overlap_pairs(study, themes)
    codes, m = co["codes"], co["matrix"]
    assert set(codes) == set(diag)
    for i, a in enumerate(codes):
        assert m[i][i] == diag[a]
        for j, b in enumerate(codes):
            if i != j:
                assert m[i][j] == m[j][i] == pairs.get(frozenset((a, b)), 0)


def test_cooccurrence_within_units_matches_recount(study):
    from qualcode.analysis.frequencies import cooccurrence
    from qualcode.store.project import open_project

    conn = sqlite3.connect(study)
    sentences = conn.execute('SELECT id, document_id, start, "end" FROM sentences').fetchall()
    codings = conn.execute('SELECT c.document_id, k.path, c.start, c."end" FROM codings c '
                           'JOIN codes k ON k.id = c.code_id').fetchall()
    conn.close()
    in_sentence = defaultdict(set)
    for s in sentences:
        for d, path, a, b in codings:
            if d == s[1] and a < s[3] and b > s[2]:
                in_sentence[s[0]].add(path)
    with open_project(study) as project:
        co = cooccurrence(project, unit="sentence")
        doc_co = cooccurrence(project, unit="document")
    idx = {c: i for i, c in enumerate(co["codes"])}
    expected = defaultdict(int)
    for paths in in_sentence.values():
        for a in paths:
            for b in paths:
                expected[(a, b)] += 1
    for (a, b), n in expected.items():
        assert co["matrix"][idx[a]][idx[b]] == n
    assert sum(map(sum, co["matrix"])) == sum(expected.values())
    res = qc("--project", study, "report", "cooccurrence", "--unit", "document", "--json")
    assert json.loads(res.out) == {**doc_co, "filters": doc_co["filters"]}
    assert set(json.loads(res.out)) >= {"unit", "codes", "matrix"}


def test_cooccurrence_formats(study, tmp_path):
    import docx
    import openpyxl

    for fmt in ("csv", "md", "docx", "xlsx"):
        res = qc("--project", study, "report", "cooccurrence", "--themes", "-o", tmp_path / f"co.{fmt}")
        assert res.code == 0, res.err
    d = docx.Document(str(tmp_path / "co.docx"))
    assert d.tables[0].rows[1].cells[0].text.startswith("1. ")
    ws = openpyxl.load_workbook(tmp_path / "co.xlsx")["Co-occurrence"]
    assert ws.cell(1, 1).value == "code" and ws.max_row == ws.max_column


@pytest.mark.parametrize("args, message", [
    (["report", "frequencies", "--by", "shoe_size"], "no document or speaker attribute"),
    (["report", "frequencies", "--code", "Nope"], "unknown code"),
    (["report", "frequencies", "--where", "gender"], "KEY=VALUE"),
    (["report", "frequencies", "--coded-by", "nobody"], "unknown coder"),
    (["report", "frequencies", "--format", "docx"], "needs -o"),
    (["report", "frequencies", "-o", "out.pdf"], "unknown table format"),
    (["report", "frequencies", "-o", "no/such/folder/t.csv"], "folder"),
    (["report", "cooccurrence", "--unit", "page"], "page"),
])
def test_bad_input_is_one_line_and_changes_nothing(study, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = file_digest(study)
    res = qc("--project", study, *args)
    assert res.code != 0
    assert res.err.startswith("error:") or "Error" in res.err
    assert message in res.err
    assert "Traceback" not in res.err
    assert file_digest(study) == before


@pytest.mark.parametrize("df", [1, 2, 3, 7, 20, 55])
def test_chi_square_p_values_match_scipy_without_importing_it(df):
    from scipy.stats import chi2

    from qualcode.analysis.frequencies import chi2_sf

    for x in (0.01, 0.5, 1, df - 0.5, df, df + 3, 2 * df + 10, 150):
        assert chi2_sf(x, df) == pytest.approx(chi2.sf(x, df), rel=1e-9, abs=1e-300)
    assert chi2_sf(0, df) == 1.0


# --- the array forms of the per-coding rules ----------------------------------------------------------

def _awkward_copy(study: Path, tmp: Path) -> Path:
    """The study with a turn nobody speaks, a document without sentences, an extra turn that
    overlaps its neighbours (starting where another starts) and codings starting at turn starts."""
    import shutil

    from qualcode.coding import coding_row, ensure_coder
    from qualcode.store.project import open_project

    db = tmp / "awkward.db"
    shutil.copy(study, db)
    with open_project(db) as project:
        docs = {r["name"]: r["id"] for r in project.query("SELECT id, name FROM documents")}
        turns = project.query('SELECT id, document_id, start, "end" FROM turns WHERE document_id = ? ORDER BY start',
                              (docs["FG02"],))
        speaker = project.one("SELECT id FROM speakers WHERE document_id = ? AND role = 'participant'", (docs["FG02"],))
        with project.change("edit", "awkward units", "test") as ch:
            ch.update("turns", turns[3]["id"], {"speaker_id": None})
            ch.delete_where("sentences", "document_id = ?", (docs["EI03"],))
            ch.insert("turns", {"id": "extra-turn", "document_id": docs["FG02"], "idx": 99, "speaker_id": speaker["id"],
                                "start": turns[5]["start"], "end": turns[8]["end"], "text_start": turns[5]["start"]})
            doc = project.one("SELECT id, name, text FROM documents WHERE id = ?", (docs["FG02"],))
            code = project.one("SELECT id FROM codes WHERE path LIKE 'Barriers/%' LIMIT 1")["id"]
            coder = ensure_coder(ch, "rashad")
            ch.insert_many("codings", [coding_row(doc, code, coder, turns[k]["start"], turns[k + 1]["start"] + 5, None,
                                                  "test") for k in (4, 5, 6)])
    return db


def test_array_units_give_what_the_per_coding_rule_gives(study, tmp_path):
    """Corpus.unit_pairs / coding_speaker_pairs (interval searches over whole arrays) against
    units_of / coding_speakers, coding by coding, on an awkward copy of the study."""
    from collections import Counter

    from qualcode.analysis.units import Corpus
    from qualcode.store.project import open_project

    with open_project(_awkward_copy(study, tmp_path)) as project:
        for kwargs in ({}, {"code": "Barriers"}, {"coder": "rashad"}):
            corpus = Corpus(project, **kwargs)
            arr = corpus.coding_arrays()
            docs, codes, sps = corpus.doc_order, corpus.code_ids, corpus.speaker_ids
            span = [(docs[d], codes[k], s, e) for d, k, s, e in zip(*(a.tolist() for a in
                                                                      (arr.doc, arr.code, arr.start, arr.end)))]
            assert Counter(span) == Counter((c.document_id, c.code_id, c.start, c.end) for c in corpus.codings)
            ci, si = corpus.coding_speaker_pairs()
            got = [set() for _ in span]
            for i, s in zip(ci.tolist(), si.tolist()):
                got[i].add(sps[s])
            want = Counter(((c.document_id, c.code_id, c.start, c.end), frozenset(corpus.coding_speakers(c)))
                           for c in corpus.codings)
            assert Counter((span[i], frozenset(g)) for i, g in enumerate(got)) == want
            for unit in ("segment", "sentence", "turn", "document", "speaker"):
                ci, ui, us = corpus.unit_pairs(unit)
                keys = {"segment": lambda i, u: span[u], "document": lambda i, u: docs[u],
                        "speaker": lambda i, u: sps[u]}.get(unit, lambda i, u: corpus.unit_arrays(unit).ids[u])
                got = Counter((span[i], keys(i, u), sps[s] if s >= 0 else None)
                              for i, u, s in zip(ci.tolist(), ui.tolist(), us.tolist()))
                want = Counter()
                for c in corpus.codings:
                    key = (c.document_id, c.code_id, c.start, c.end)
                    for k, s in corpus.units_of(c, unit):
                        want[(key, key if unit == "segment" else k, s)] += 1
                assert got == want, unit


def test_counts_match_the_recount_with_unspoken_turns_and_unsegmented_documents(study, tmp_path):
    import shutil

    from qualcode.analysis.frequencies import frequency_table
    from qualcode.store.project import open_project

    db = tmp_path / "plain.db"
    shutil.copy(study, db)
    with open_project(db) as project:
        docs = {r["name"]: r["id"] for r in project.query("SELECT id, name FROM documents")}
        turn = project.one("SELECT id FROM turns WHERE document_id = ? ORDER BY start LIMIT 1 OFFSET 2",
                           (docs["FG01"],))
        with project.change("edit", "unspoken turn, unsegmented document", "test") as ch:
            ch.update("turns", turn["id"], {"speaker_id": None})
            ch.delete_where("sentences", "document_id = ?", (docs["EI02"],))
        for unit in UNITS:
            for by in (None, "city", "gender"):
                table = frequency_table(project, by=by, unit=unit)
                expected, totals = recount(db, unit, by)
                for row in table["rows"]:
                    assert {c: n for c, n in row["counts"].items() if n} == expected.get(row["code"], {}), (unit, by)
                    assert row["total"] == totals.get(row["code"], 0)


def test_interval_helpers_match_brute_force():
    """gram() across its blocks of units, and overlapping-span counts across blocks of labels."""
    import numpy as np

    from qualcode.analysis.intervals import gram, overlapping_span_pairs

    rng = np.random.default_rng(3)
    unit, label = rng.integers(0, 70_000, 90_000), rng.integers(0, 5, 90_000)
    held = defaultdict(set)
    for u, lab in zip(unit.tolist(), label.tolist()):
        held[u].add(lab)
    want = np.zeros((5, 5), dtype=int)
    for labs in held.values():
        for a in labs:
            for b in labs:
                want[a, b] += 1
    assert (gram(unit, label, 5) == want).all()

    n, labels = 600, 37
    doc = rng.integers(0, 3, n)
    start = rng.integers(0, 500, n)
    end = start + rng.integers(1, 60, n)
    lab = rng.integers(0, labels, n)
    want = np.zeros((labels, labels), dtype=int)
    for i in range(n):
        want[lab[i], lab[i]] += 1
        for j in range(i + 1, n):
            if doc[i] == doc[j] and start[i] < end[j] and start[j] < end[i] and lab[i] != lab[j]:
                want[lab[i], lab[j]] += 1
                want[lab[j], lab[i]] += 1
    assert (overlapping_span_pairs(doc, start, end, lab, labels, 3) == want).all()
