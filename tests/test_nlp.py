"""Units with their context, per-language segmentation and keyword matching, and emerging themes."""

from __future__ import annotations

import json

from support import qc
from test_suggest import CODEBOOK, build_project


def _units(path, unit="sentence", doc=None):
    from qualcode.nlp.units import load_units
    from qualcode.store.project import Project

    p = Project(path)
    ids = None
    if doc:
        ids = [p.one("SELECT id FROM documents WHERE name = ?", (doc,))["id"]]
    units = load_units(p, unit, ids)
    p.close()
    return units


def test_units_carry_their_context_and_labels(tmp_path):
    path = build_project(tmp_path, docs=2, coded=1)
    units = _units(path, doc="I01")
    text = qc("--project", path, "text", "I01").out
    assert all(text[u.start:u.end] == u.text for u in units)
    question = next(u for u in units if u.text.endswith("?"))
    assert question.role == "asker" and question.first
    answers = [u for u in units if u.role == "respondent"]
    assert answers and all(u.prompt and u.prompt.endswith("?") for u in answers)
    first_answer = answers[0]
    assert first_answer.first and not answers[1].first
    assert first_answer.prev == question.text and first_answer.next == answers[1].text
    assert first_answer.turn and answers[1].text in first_answer.turn
    labelled = [u for u in units if u.labels]
    assert len(labelled) == 6 and all(u.role == "respondent" for u in labelled)
    # paragraphs and turns are units too, on request
    paragraphs = _units(path, "paragraph", "I01")
    turns = json.loads(qc("--project", path, "turns", "I01", "--json").out)
    assert len(paragraphs) == len(turns) and {u.end for u in paragraphs} == {t["end"] for t in turns}


def test_a_coding_counts_for_a_unit_when_it_covers_half():
    from qualcode.nlp.units import covers

    assert covers(0, 10, 0, 5)           # half the unit
    assert covers(0, 100, 40, 50)        # the whole coding lies inside the unit
    assert not covers(0, 100, 95, 300)   # a sliver of the unit and of the coding
    assert not covers(0, 10, 10, 20)     # touching is not overlapping


def test_recurring_protocol_lines_are_prompts(tmp_path):
    files = []
    for i in range(3):
        f = tmp_path / f"S{i}.txt"
        f.write_text(f"1 Read the home tab information.\nI read it and it was clear {i}.\n"
                     f"2 Submit a query with the inputs.\nThe query took long to load {i}.\n"
                     f"3 Export the data table.\nThe file came down at once {i}.\n", encoding="utf-8")
        files.append(f)
    path = tmp_path / "p.db"
    assert qc("--project", path, "import", *files).code == 0
    units = _units(path, "paragraph", "S1")
    answer = next(u for u in units if u.text.startswith("The query took long"))
    assert answer.prompt.startswith("1 Read the home tab") and answer.prompt.endswith("inputs.")
    assert answer.prompt_key == "2 submit a query with the inputs"
    assert next(u for u in units if u.text.startswith("The file came")).prompt_key == "3 export the data table"


def test_russian_and_azerbaijani_have_their_own_pipelines(tmp_path):
    from qualcode.nlp.codebook_match import KeywordMatcher, translit
    from qualcode.nlp.pipeline import analyser, sentencizer

    assert sentencizer("ru").lang == "ru" and sentencizer("az").lang == "az"
    lemmas = [t.lemma_ for t in analyser("ru")("Они отправили деньги переводами.")]
    assert "перевод" in lemmas
    assert translit("Комиссия") == "komissiya"
    profiles = [{"id": "f", "path": "Barriers/Fees", "name": "Fees", "definition": "", "examples": [],
                 "keywords": ["komissiya", "perevod", "fee"]}]
    m = KeywordMatcher(profiles)
    ru = "Комиссия за переводами большая."
    found = {t for _, _, _, t in m.match(ru, "ru")}
    assert found == {"Комиссия", "переводами"}          # by transliteration, and by lemma
    az = "Komissiya çox baha idi. Pul kartla gəlir."
    assert {t for _, _, _, t in m.match(az, "az")} == {"Komissiya"}


def test_suggestions_work_per_language(tmp_path):
    ru = tmp_path / "R1.txt"
    ru.write_text("Интервьюер: Сколько стоит перевод?\n\nРеспондент: Комиссия очень большая. Деньги приходят на "
                  "карту. Мы покупаем еду для семьи.\n", encoding="utf-8")
    az = tmp_path / "A1.txt"
    az.write_text("Müsahibəçi: Pul necə gəlir?\n\nRespondent: Pul karta gəlir. Komissiya çox baha idi.\n",
                  encoding="utf-8")
    path = tmp_path / "p.db"
    assert qc("--project", path, "import", ru, "--lang", "ru").code == 0
    assert qc("--project", path, "import", az, "--lang", "az").code == 0
    cb = tmp_path / "cb.yaml"
    cb.write_text(CODEBOOK, encoding="utf-8")
    assert qc("--project", path, "codebook", "import", cb).code == 0
    ru_units = _units(path, doc="R1")
    assert {u.lang for u in ru_units} == {"ru"} and len(ru_units) >= 4        # segmented in Russian
    assert {u.lang for u in _units(path, doc="A1")} == {"az"}
    out = json.loads(qc("--project", path, "suggest", "--json", "--min-score", "0").out)
    ru_text = qc("--project", path, "text", "R1").out
    fee = [s for s in out if s["document"] == "R1" and s["code"] == "Barriers/Fees"
           and ru_text[s["start"]:s["end"]].startswith("Комиссия")]
    assert fee and "Комиссия" in fee[0]["evidence"]["matched_terms"]
    card = [s for s in out if s["document"] == "A1" and s["code"] == "Cards" and "karta" in s["evidence"]["matched_terms"]]
    assert card


def test_emerging_themes_come_from_uncoded_text(tmp_path):
    path = build_project(tmp_path, docs=6, coded=2)
    r = qc("--project", path, "themes", "--json", "--topics", "3")
    assert r.code == 0, r.err
    themes = json.loads(r.out)
    assert 1 <= len(themes) <= 3
    texts = {d: qc("--project", path, "text", d).out for d in ("I01", "I02", "I03", "I04", "I05", "I06")}
    for t in themes:
        assert t["terms"] and t["units"] > 0 and t["nearest_code"]
        for ex in t["examples"]:
            assert texts[ex["document"]][ex["start"]:ex["end"]] == ex["text"]
            assert ex["document"] not in ("I01", "I02") or "everyone" in ex["text"] or "?" in ex["text"]
    r = qc("--project", path, "themes")
    assert r.code == 0 and "1." in r.out
