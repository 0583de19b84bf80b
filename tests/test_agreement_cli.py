"""`qualcode agreement`: reliability data built from codings as docs/agreement.md says, figures
equal to agreement_stats (itself checked against published examples) and to scikit-learn, a
published binary example through the whole pipeline, and the disagreement list."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from support import qc
from qualcode.analysis import agreement_stats as ref
from qualcode.analysis.agreement import Patterns

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section A: binary data,
# two observers, ten units, no missing data: alpha = 0.095.
KRIPP_A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
KRIPP_B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def expand(values: list[list[int | None]]) -> np.ndarray:
    """coders × units of 1/0/None → pattern counts, the way the CLI path sees them."""
    m = len(values)
    pat = Patterns(m)
    coded = np.array([[0 if v is None else (2 if v else 1) for v in row] for row in values], dtype=np.int64)
    return pat, np.bincount(pat.encode(coded), minlength=pat.size)


@pytest.mark.parametrize("seed", range(40))
def test_pattern_counts_equal_agreement_stats(seed):
    rng = random.Random(seed)
    m = rng.choice([2, 2, 3, 4, 5])
    n = rng.randint(1, 60)
    p_missing = rng.choice([0.0, 0.1, 0.4])
    p_one = rng.choice([0.05, 0.3, 0.5, 0.9])
    data = [[None if rng.random() < p_missing else int(rng.random() < p_one) for _ in range(n)] for _ in range(m)]
    pat, counts = expand(data)
    got = pat.stats(counts)
    want = {"percent_agreement": ref.percent_agreement(data), "krippendorff_alpha": ref.krippendorff_alpha_nominal(data),
            "fleiss_kappa": ref.fleiss_kappa_from_data(data)}
    if m == 2:
        want["cohen_kappa"] = ref.cohen_kappa(*data)
    for name, value in want.items():
        if np.isnan(value):
            assert np.isnan(got[name]), (name, got[name])
        else:
            assert got[name] == pytest.approx(value, abs=1e-12), name


def test_cohen_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(7)
    for _ in range(20):
        a = rng.integers(0, 2, 200)
        b = np.where(rng.random(200) < 0.7, a, 1 - a)
        pat, counts = expand([a.tolist(), b.tolist()])
        assert pat.stats(counts)["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)


def test_published_binary_example_as_pattern_counts():
    pat, counts = expand([KRIPP_A, KRIPP_B])
    s = pat.stats(counts)
    assert round(float(s["krippendorff_alpha"]), 3) == 0.095
    assert round(float(s["percent_agreement"]), 3) == 0.600
    assert round(float(s["cohen_kappa"]), 3) == 0.091


# --- through the CLI ----------------------------------------------------------------------------

SENTENCES = [f"Sentence number {w} is here." for w in
             ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")]


def sentence_project(tmp_path: Path, a=KRIPP_A, b=KRIPP_B) -> Path:
    src = tmp_path / "doc.txt"
    src.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    db = tmp_path / "p.db"
    assert qc("--project", db, "import", src).code == 0
    assert qc("--project", db, "codebook", "add", "Fees").code == 0
    assert qc("--project", db, "codebook", "add", "Other").code == 0
    text = qc("--project", db, "text", "doc").out
    for coder, marks in (("A", a), ("B", b)):
        for s, flag in zip(SENTENCES, marks):
            if flag:
                i = text.index(s)
                assert qc("--project", db, "--coder", coder, "code", "doc", i, i + 10, "Fees").code == 0
    return db


def test_published_example_through_the_cli(tmp_path):
    db = sentence_project(tmp_path)
    r = qc("--project", db, "agreement", "--json", "--bootstrap", "200")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["unit"] == "sentence" and out["coders"] == ["A", "B"]
    fees = out["codes"][0]
    assert set(fees) >= {"code", "percent_agreement", "cohen_kappa", "krippendorff_alpha", "fleiss_kappa",
                         "n_units", "ci"}
    assert fees["code"] == "Fees" and fees["n_units"] == 10
    assert round(fees["krippendorff_alpha"], 3) == 0.095
    assert round(fees["cohen_kappa"], 3) == 0.091
    assert round(fees["percent_agreement"], 3) == 0.6
    lo, hi = fees["ci"]["krippendorff_alpha"]
    assert lo <= fees["krippendorff_alpha"] <= hi
    assert out["overall"]["n_units"] == 10 and out["overall"]["krippendorff_alpha"] == fees["krippendorff_alpha"]
    # the table prints too
    r = qc("--project", db, "agreement", "--bootstrap", "0")
    assert r.code == 0 and "Fees" in r.out and "0.095" in r.out


def same(got, want) -> bool:
    """JSON null is the reference's NaN (undefined); numbers agree to 1e-9."""
    if want != want:
        return got is None
    return got is not None and abs(got - want) < 1e-9


def independent_matrix(db: Path, code: str, coders: list[str], table: str) -> list[list[int | None]]:
    """The mapping of docs/agreement.md written out plainly: overlap → 1, coder silent on doc → missing."""
    conn = sqlite3.connect(db)
    units = conn.execute(f'SELECT document_id, start, "end" FROM {table} ORDER BY document_id, start').fetchall()
    rows = conn.execute('SELECT c.document_id, k.path, u.name, c.start, c."end" FROM codings c JOIN codes k ON '
                        'k.id = c.code_id JOIN coders u ON u.id = c.coder_id').fetchall()
    conn.close()
    out = []
    for coder in coders:
        mine = [r for r in rows if r[2] == coder]
        docs = {r[0] for r in mine}
        row = []
        for doc, us, ue in units:
            if doc not in docs:
                row.append(None)
            else:
                row.append(int(any(r[0] == doc and r[1] == code and r[3] < ue and r[4] > us for r in mine)))
        out.append(row)
    return out


def test_random_codings_three_coders_with_missing(tmp_path):
    rng = random.Random(3)
    docs = []
    for d in range(3):
        src = tmp_path / f"d{d}.txt"
        src.write_text("\n".join(f"Line {d}-{i} says something about fees and cards." for i in range(25)) + "\n")
        docs.append(src)
    db = tmp_path / "p.db"
    assert qc("--project", db, "import", *docs).code == 0
    for c in ("Fees", "Cards"):
        assert qc("--project", db, "codebook", "add", c).code == 0
    rows = []
    for coder in ("ann", "ben", "cat"):
        for d in range(3):
            if coder == "cat" and d == 2:
                continue                      # cat never opened d2: missing, not absent
            n = len(qc("--project", db, "text", f"d{d}").out)
            for _ in range(rng.randint(3, 9)):
                s = rng.randrange(0, n - 90)
                rows.append({"document": f"d{d}", "start": s, "end": s + rng.randint(5, 80),
                             "code": rng.choice(["Fees", "Cards"]), "coder": coder})
    f = tmp_path / "codings.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    assert qc("--project", db, "codings", "import", f).code == 0
    for unit, table in (("sentence", "sentences"), ("turn", "turns"), ("paragraph", "paragraphs")):
        out = json.loads(qc("--project", db, "agreement", "--unit", unit, "--json", "--bootstrap", "0").out)
        assert out["coders"] == ["ann", "ben", "cat"]
        for row in out["codes"]:
            data = independent_matrix(db, row["code"], out["coders"], table)
            assert same(row["krippendorff_alpha"], ref.krippendorff_alpha_nominal(data))
            assert same(row["percent_agreement"], ref.percent_agreement(data))
            assert same(row["fleiss_kappa"], ref.fleiss_kappa_from_data(data))
            assert row["cohen_kappa"] is None
            assert row["n_units"] == sum(1 for u in zip(*data) if sum(v is not None for v in u) >= 2)
    # two coders, character level, against the plain matrix
    out = json.loads(qc("--project", db, "agreement", "--coders", "ann,ben", "--unit", "character", "--json",
                        "--bootstrap", "50").out)
    conn = sqlite3.connect(db)
    texts = dict(conn.execute("SELECT id, text FROM documents ORDER BY position"))
    ids = {n: i for i, n in conn.execute("SELECT id, name FROM documents")}
    cods = conn.execute('SELECT c.document_id, k.path, u.name, c.start, c."end" FROM codings c JOIN codes k ON '
                        'k.id = c.code_id JOIN coders u ON u.id = c.coder_id').fetchall()
    conn.close()
    for row in out["codes"]:
        data = []
        for coder in ("ann", "ben"):
            line = []
            for doc_id, text in texts.items():
                marks = [0] * len(text)
                for d, code, who, s, e in cods:
                    if d == doc_id and code == row["code"] and who == coder:
                        marks[s:e] = [1] * (e - s)
                line.extend(marks)
            data.append(line)
        assert same(row["cohen_kappa"], ref.cohen_kappa(*data))
        assert same(row["krippendorff_alpha"], ref.krippendorff_alpha_nominal(data))


def test_uncoded_document_is_missing_not_absent(tmp_path):
    db = sentence_project(tmp_path)
    src = tmp_path / "second.txt"
    src.write_text("Another text.\nWith two sentences.\n", encoding="utf-8")
    assert qc("--project", db, "import", src).code == 0
    assert qc("--project", db, "--coder", "A", "code", "second", "0", "5", "Other").code == 0
    out = json.loads(qc("--project", db, "agreement", "--json", "--bootstrap", "0", "--code", "Fees").out)
    assert out["codes"][0]["n_units"] == 10          # B never coded `second`: its units drop out
    assert round(out["codes"][0]["krippendorff_alpha"], 3) == 0.095


def test_disagreement_list(tmp_path):
    db = sentence_project(tmp_path)
    r = qc("--project", db, "agreement", "--disagreements", "--json")
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [(x["index"], x["applied_by"], x["not_applied_by"]) for x in rows] == [
        (0, ["B"], ["A"]), (2, ["B"], ["A"]), (5, ["B"], ["A"]), (8, ["A"], ["B"])]
    assert rows[0]["text"] == SENTENCES[0]
    target = tmp_path / "dis.csv"
    assert qc("--project", db, "agreement", "--disagreements", "-o", target).code == 0
    with open(target, encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and table[3]["applied_by"] == "A" and "decision" in table[0]
    xlsx = tmp_path / "dis.xlsx"
    assert qc("--project", db, "agreement", "--disagreements", "-o", xlsx).code == 0
    from openpyxl import load_workbook
    ws = load_workbook(xlsx).active
    assert ws.max_row == 5 and ws["I2"].value == SENTENCES[0]
    chars = json.loads(qc("--project", db, "agreement", "--disagreements", "--unit", "character", "--json").out)
    assert len(chars) == 4 and all(x["end"] - x["start"] == 10 for x in chars)


def test_bootstrap_is_reproducible(tmp_path):
    db = sentence_project(tmp_path)
    a = qc("--project", db, "agreement", "--json", "--bootstrap", "300", "--seed", "5").out
    b = qc("--project", db, "agreement", "--json", "--bootstrap", "300", "--seed", "5").out
    assert a == b
    assert json.loads(qc("--project", db, "agreement", "--json", "--bootstrap", "0").out)["codes"][0]["ci"] == {}


def test_user_errors(tmp_path, project):
    r = qc("--project", project, "agreement")
    assert r.code == 1 and "at least two coders" in r.err
    db = sentence_project(tmp_path)
    for args in (["--coders", "A,nobody"], ["--unit", "word"], ["--code", "Nope"], ["-o", tmp_path / "x.csv"],
                 ["--disagreements", "-o", tmp_path / "x.pdf"]):
        r = qc("--project", db, "agreement", *args)
        assert r.code == 1 and r.err.startswith("error:"), (args, r.err)
