"""The bundled demo: 45 expert interviews, 21 focus groups, the codebook and the demo coding."""

import json
import re
from collections import defaultdict

import pytest

from support import REPO, qc
from qualcode.demo import CODINGS, TRANSCRIPTS, transcript_files
from qualcode.ingest.importer import parse_file


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    r = qc("demo", "--no-tui", path)
    assert r.code == 0, r.err
    return path


def test_demo_builds_the_study(demo):
    docs = json.loads(qc("--project", demo, "documents", "--json").out)
    types = defaultdict(int)
    for d in docs:
        types[d["type"]] += 1
    assert types == {"expert_interview": 45, "focus_group": 21}
    codes = json.loads(qc("--project", demo, "codebook", "show", "--json").out)
    assert len(codes) >= 40 and all(c["description"] for c in codes)
    codings = json.loads(qc("--project", demo, "codings", "export", "--json").out)
    coders = {c["coder"] for c in codings}
    assert coders == {"aysel", "rashad"}
    coded_docs = {c["document"] for c in codings}
    assert len(coded_docs) >= 18                       # about a third of 66
    by_doc = defaultdict(set)
    for c in codings:
        by_doc[c["document"]].add(c["coder"])
    assert sum(1 for s in by_doc.values() if len(s) == 2) >= 4   # overlap for agreement


def test_focus_groups_have_participants_with_attributes(demo):
    from qualcode.store.project import Project

    p = Project(demo)
    rows = p.query("""SELECT d.name, COUNT(DISTINCT s.id) AS n FROM documents d JOIN speakers s ON s.document_id = d.id
                      JOIN speaker_attributes a ON a.speaker_id = s.id AND a.key = 'gender'
                      WHERE d.type = 'focus_group' GROUP BY d.id""")
    assert len(rows) == 21 and all(6 <= r["n"] <= 9 for r in rows)
    cities = {r["value"] for r in p.query("SELECT a.value FROM document_attributes a JOIN documents d ON d.id = a.document_id "
                                          "WHERE a.key = 'city' AND d.type = 'focus_group'")}
    assert cities == {"Baku", "Lankaran"}


def test_every_demo_coding_quote_is_at_its_offsets(demo):
    texts = {}
    for line in CODINGS.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["document"] not in texts:
            texts[r["document"]] = qc("--project", demo, "text", r["document"]).out
        assert texts[r["document"]][r["start"]:r["end"]] == r["text"]


def test_no_sentence_of_more_than_eight_words_appears_in_two_transcripts():
    seen = defaultdict(set)
    for path in transcript_files():
        doc = parse_file(path, segment=True)
        for s, e, _ in doc.sentences:
            words = re.findall(r"[\w'’-]+", doc.text[s:e].lower())
            if len(words) > 8:
                seen[" ".join(words)].add(path.name)
    repeated = {s: f for s, f in seen.items() if len(f) > 1}
    assert not repeated, list(repeated.items())[:3]


def test_lengths_are_realistic():
    for path in transcript_files():
        doc = parse_file(path, segment=False)
        words = len(doc.text.split())
        if doc.type == "expert_interview":
            assert 900 <= words <= 2200, (path.name, words)
        else:
            assert 1800 <= words <= 3700, (path.name, words)


def test_the_corpus_says_it_is_fictional():
    readme = (TRANSCRIPTS / "README.md").read_text(encoding="utf-8").lower()
    assert "fictional" in readme and "real participant data" in readme
