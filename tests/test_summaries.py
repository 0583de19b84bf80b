"""Grounded theme summaries: every number in the paragraph is recomputed from the codings, every
evidence span and quote is checked against the transcript text, and tampering is caught."""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest

from support import qc
from test_frequencies import PLANTED, build_study


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    return build_study(tmp_path_factory.mktemp("summaries"))


@pytest.fixture(scope="module")
def summaries(study):
    res = qc("--project", study, "summarize", "--json")
    assert res.code == 0, res.err
    return json.loads(res.out)


def _facts(db: Path):
    conn = sqlite3.connect(db)
    texts = dict(conn.execute("SELECT name, text FROM documents"))
    types = dict(conn.execute("SELECT name, type FROM documents"))
    codings = conn.execute('SELECT d.name, k.path, c.start, c."end", u.name FROM codings c '
                           "JOIN documents d ON d.id = c.document_id JOIN codes k ON k.id = c.code_id "
                           "JOIN coders u ON u.id = c.coder_id").fetchall()
    conn.close()
    return texts, types, codings


def test_contract_shape_and_one_summary_per_theme(summaries, study):
    conn = sqlite3.connect(study)
    themes = [r[0] for r in conn.execute("SELECT path FROM codes WHERE parent_id IS NULL")]
    conn.close()
    assert sorted(s["code"] for s in summaries) == sorted(themes)
    for s in summaries:
        assert {"code", "summary", "evidence"} <= set(s)
        assert isinstance(s["summary"], str) and s["summary"]
        for e in s["evidence"]:
            assert {"document", "start", "end", "text"} <= set(e)
        assert s["verified"] is True


def test_every_span_is_verbatim_and_every_claim_has_evidence(summaries, study):
    texts, _, _ = _facts(study)
    for s in summaries:
        for e in s["evidence"]:
            assert texts[e["document"]][e["start"]:e["end"]] == e["text"] != ""
        for q in s["quotes"]:
            assert texts[q["document"]][q["start"]:q["end"]] == q["text"]
            assert s["evidence"][q["evidence"]]["text"] == q["text"]
        for c in s["claims"]:
            assert c["evidence"], c
            assert all(0 <= i < len(s["evidence"]) for i in c["evidence"])
        # the paragraph is the claims' sentences, nothing else
        assert s["summary"] == " ".join(c["text"] for c in s["claims"] if c["kind"] != "quotes")


def test_numbers_in_the_paragraph_match_the_codings(summaries, study):
    texts, types, codings = _facts(study)
    n_docs = len(texts)
    type_total = defaultdict(int)
    for t in types.values():
        type_total[t] += 1
    for s in summaries:
        mine = [c for c in codings if c[1] == s["code"] or c[1].startswith(s["code"] + "/")]
        docs = {c[0] for c in mine}
        first = s["claims"][0]["text"]
        assert first.startswith(f"{s['name']} was coded {len(mine)} time")
        assert f"in {len(docs)} of {n_docs} documents" in first
        assert len(s["claims"][0]["evidence"]) == len(docs)
        # every document counted is cited once, and the cited spans are codings of this theme
        cited = {s["evidence"][i]["document"] for i in s["claims"][0]["evidence"]}
        assert cited == docs
        spans = {(c[0], c[2], c[3]) for c in mine}
        assert all((s["evidence"][i]["document"], s["evidence"][i]["start"], s["evidence"][i]["end"]) in spans
                   for i in s["claims"][0]["evidence"])
        groups = next(c["text"] for c in s["claims"] if c["kind"] == "groups")
        for n, label in re.findall(r"(\d+) of (\d+ (?:focus groups|expert interviews))", groups):
            kind = "focus_group" if "focus" in label else "expert_interview"
            with_theme = len({d for d in docs if types[d] == kind})
            assert int(n) == with_theme and label.startswith(str(type_total[kind]))
        subs = defaultdict(int)
        for c in mine:
            if c[1] != s["code"]:
                subs[c[1]] += 1
        assert s["counts"]["sub_codes"] == dict(subs) or sorted(s["counts"]["sub_codes"].values()) == sorted(subs.values())


def test_contrast_wording_when_groups_differ(tmp_path):
    """A theme coded in every focus group and one interview reads 'in 3 of 3 focus groups but 1 of 3'."""
    db = build_study(tmp_path, n_codings=0)
    conn = sqlite3.connect(db)
    texts = dict(conn.execute("SELECT name, text FROM documents"))
    conn.close()
    lines = []
    for doc in ("FG01", "FG02", "FG03", "EI01"):
        start = texts[doc].index("\n\n") + 2
        lines.append(json.dumps({"document": doc, "start": start, "end": start + 40, "code": "Channels/Banks"}))
    for doc in ("EI02", "EI03"):  # every document coded with something
        lines.append(json.dumps({"document": doc, "start": 0, "end": 30, "code": "Migrant profile"}))
    f = tmp_path / "c.jsonl"
    f.write_text("\n".join(lines))
    assert qc("--project", db, "codings", "import", f).code == 0
    data = json.loads(qc("--project", db, "summarize", "--code", "Channels", "--json").out)
    groups = next(c["text"] for c in data[0]["claims"] if c["kind"] == "groups")
    assert groups == "It appears in 3 of 3 focus groups but 1 of 3 expert interviews."


def test_partly_coded_projects_count_out_of_the_coded_documents(tmp_path):
    db = build_study(tmp_path, n_codings=0)  # only the planted codings, in FG01, EI01 and FG03
    data = json.loads(qc("--project", db, "summarize", "--code", "Gender", "--json").out)[0]
    assert data["claims"][0]["text"].startswith(
        "Gender was coded 3 times in 3 of the 3 documents coded so far (6 in the project)")
    groups = next(c["text"] for c in data["claims"] if c["kind"] == "groups")
    assert groups == "It appears in 1 of 1 coded expert interview and 2 of 2 coded focus groups."


def test_distinctive_terms_find_the_planted_words(summaries):
    by_code = {s["code"]: s for s in summaries}
    for theme, word in PLANTED.items():
        terms = [t["term"] for t in by_code[theme]["terms"]]
        assert word in terms, (theme, terms)
        t = next(t for t in by_code[theme]["terms"] if t["term"] == word)
        assert all(by_code[theme]["evidence"][i]["text"].lower() == word for i in t["evidence"])


def test_quotes_are_representative_and_mutually_different(summaries):
    for s in summaries:
        qs = s["quotes"]
        if s["counts"]["documents"] >= 3:
            assert 3 <= len(qs) <= 5, s["code"]
        spans = [(q["document"], q["start"], q["end"]) for q in qs]
        for i, a in enumerate(spans):
            for b in spans[i + 1:]:
                assert not (a[0] == b[0] and a[1] < b[2] and b[1] < a[2]), "quotes overlap"
        assert len({q["text"] for q in qs}) == len(qs)
        if s["counts"]["documents"] >= 3:
            assert len({q["document"] for q in qs}) >= 3, "quotes come from different documents"
        for q in qs:
            assert 40 <= len(q["text"]) <= 420 and "\n" not in q["text"]
            assert q["code"] == s["code"] or q["code"].startswith(s["code"] + "/")


def test_verify_catches_tampering(study, summaries):
    from qualcode.analysis.summaries import verify
    from qualcode.store.project import open_project

    bad = copy.deepcopy(summaries)
    bad[0]["evidence"][0]["text"] = bad[0]["evidence"][0]["text"] + " (and more)"
    bad[1]["quotes"][0]["start"] += 1
    bad[2]["claims"][0]["evidence"] = [10_000]
    with open_project(study) as project:
        assert verify(project, summaries) == []
        problems = verify(project, bad)
    assert len(problems) == 3
    assert "not verbatim" in problems[0] and "quote" in problems[1] and "unknown evidence" in problems[2]


def test_subcode_summary_and_formats(study, tmp_path):
    import docx

    data = json.loads(qc("--project", study, "summarize", "--code", "Barriers/Trust", "--json").out)
    assert [s["code"] for s in data] == ["Barriers/Trust"]
    assert all(q["code"] == "Barriers/Trust" for q in data[0]["quotes"])
    assert qc("--project", study, "summarize", "--code", "Gender", "-o", tmp_path / "s.md").code == 0
    md = (tmp_path / "s.md").read_text()
    assert md.startswith("# Theme summaries") and "## Gender" in md and "> " in md
    assert qc("--project", study, "summarize", "-o", tmp_path / "s.docx").code == 0
    d = docx.Document(str(tmp_path / "s.docx"))
    heads = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert "Barriers" in heads and "Gender" in heads
    quotes = [p.text for p in d.paragraphs if p.style.name == "Quote"]
    texts, _, _ = _facts(study)
    assert quotes and all(any(q in t for t in texts.values()) for q in quotes)
    res = qc("--project", study, "summarize", "--format", "docx")
    assert res.code == 1 and "needs -o" in res.err


def test_uncoded_theme_is_said_to_be_uncoded(tmp_path):
    db = build_study(tmp_path, n_codings=0)
    data = json.loads(qc("--project", db, "summarize", "--code", "Migrant profile", "--json").out)
    assert data[0]["summary"] == "Migrant profile has not been coded yet."
    assert data[0]["evidence"] == [] and data[0]["quotes"] == []
