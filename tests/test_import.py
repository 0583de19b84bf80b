"""Importers: encodings, layouts of speaker turns, front matter, .docx/.odt, re-import."""

import json
import zipfile

import pytest

from support import SHARED, qc
from qualcode.ingest.importer import parse_file, parse_text
from qualcode.store.project import Project

RUSSIAN = "Интервьюер: Как получают деньги?\n\nРеспондент: Через Золотую Корону. Комиссия большая.\n"
WESTERN = "Interviewer: Café owners pay the fee?\n\nRespondent: Oui — the naïve view is “no”.\n"
AZERI = "Moderator: Pul necə gəlir?\n\nP1: Kartla gəlir. Məzənnə pisdir, şikayət edirik.\n"


@pytest.mark.parametrize("encoding,text", [
    ("utf-8", AZERI), ("utf-8-sig", AZERI), ("utf-16", AZERI), ("utf-16-le", AZERI),
    ("cp1251", RUSSIAN), ("cp1252", WESTERN),
])
def test_encodings_decode_to_the_same_text(tmp_path, encoding, text):
    f = tmp_path / f"doc-{encoding}.txt"
    f.write_bytes(text.encode(encoding))
    doc = parse_file(f)
    assert doc.text == text.strip("\n")
    assert len(doc.turns) == 2


def test_claimed_encoding_is_enforced(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_bytes("Interviewer: ok\n".encode() + b"\xff\xfe\xfa broken")
    r = qc("--project", tmp_path / "p.db", "import", "--encoding", "utf-8", f)
    assert r.code == 1 and r.err.startswith("error:") and "not valid utf-8" in r.err
    assert not (tmp_path / "p.db").exists()


@pytest.mark.parametrize("body,labels", [
    ("Interviewer: Hello.\nRespondent: Hi there.", ["Interviewer", "Respondent"]),
    ("Moderator: Welcome.\n\nP3: Thank you.\n\nP12: Yes.", ["Moderator", "P3", "P12"]),
    ("P3 (female, 52): I collect it.\nP4 (male, 60): Me too.", ["P3", "P4"]),
    ("[00:12:31] Speaker 1: So.\n[00:12:40] Speaker 2: Well.", ["Speaker 1", "Speaker 2"]),
    ("00:01:02 Interviewer: Start.\n00:01:09 Respondent: Fine.", ["Interviewer", "Respondent"]),
    ("Q: Who sends?\nA: My son.\nQ: How often?\nA: Monthly.", ["Q", "A", "Q", "A"]),
    ("AYTAN: Let us begin.\nGULNARA: I am first.", ["AYTAN", "GULNARA"]),
])
def test_speaker_layouts(body, labels):
    doc = parse_text(body, "d", "d.txt", "txt", segment=False)
    assert [t.label for t in doc.turns] == labels
    for t in doc.turns:   # the speech starts after the label
        assert not doc.text[t.text_start:t.end].startswith(":")


def test_details_in_brackets_become_speaker_attributes():
    doc = parse_text("P3 (female, 52): I collect it.", "d", "d.txt", "txt", segment=False)
    assert doc.speakers["P3"] == {"gender": "female", "age": "52"}


def test_a_text_without_labels_is_one_speaker():
    doc = parse_text("Just a memo written by the field team.\nSecond line here.", "d", "d.txt", "txt", segment=False)
    assert len(doc.turns) == 1 and doc.turns[0].label is None


def test_urls_and_times_are_not_speakers():
    doc = parse_text("Interviewer: See https://example.org today.\nThe meeting is at 10:30 sharp.", "d", "d.txt", "txt",
                     segment=False)
    assert [t.label for t in doc.turns] == ["Interviewer"]


def test_when_only_questions_are_labelled_the_lines_between_are_the_respondents():
    # think-aloud sessions (SERDIF) and question-only transcripts: the unlabelled lines are not the moderator's
    text = ("1 Read the Home tab.\nMODERATOR: Would you answer aloud please?\nSo, I got an overall picture.\n"
            "It had typos.\nMODERATOR: Anything else?\nNo.")
    doc = parse_text(text, "d", "d.txt", "txt", segment=False)
    got = [(t.label, text[t.text_start:t.end]) for t in doc.turns]
    assert got == [(None, "1 Read the Home tab."), ("MODERATOR", "Would you answer aloud please?"),
                   (None, "So, I got an overall picture.\nIt had typos."), ("MODERATOR", "Anything else?"),
                   (None, "No.")]
    # a label on a line of its own: the question is the line after it
    text = "MODERATOR:\nWhat do you see here?\n\nI see a login button.\n\nMODERATOR:\nAnd now?\n\nNothing happens."
    doc = parse_text(text, "d", "d.txt", "txt", segment=False)
    assert [(t.label, text[t.text_start:t.end].strip()) for t in doc.turns] == [
        ("MODERATOR", "What do you see here?"), (None, "I see a login button."), ("MODERATOR", "And now?"),
        (None, "Nothing happens.")]
    # with both sides labelled, a turn still runs over several lines until the next label
    text = "Interviewer: Why?\nResp: First.\nSecond.\nInterviewer: And?"
    doc = parse_text(text, "d", "d.txt", "txt", segment=False)
    assert [text[t.text_start:t.end] for t in doc.turns] == ["Why?", "First.\nSecond.", "And?"]


def test_front_matter_sets_attributes_and_speaker_attributes(tmp_path):
    f = tmp_path / "FG01.md"
    f.write_text("---\ntype: focus_group\ncity: Lankaran\nparticipants:\n  P1: {gender: female, age: 52, relation: mother}\n"
                 "  Moderator: {role: moderator}\n---\nModerator: Hello.\n\nP1: Salam. My son is in Moscow.\n",
                 encoding="utf-8")
    project = tmp_path / "p.db"
    assert qc("--project", project, "import", f).code == 0
    docs = json.loads(qc("--project", project, "documents", "--json").out)
    assert docs[0]["type"] == "focus_group" and docs[0]["attributes"] == {"city": "Lankaran"}
    assert set(docs[0]["speakers"]) == {"P1", "Moderator"}
    p = Project(project)
    attrs = {r["key"]: r["value"] for r in p.query(
        "SELECT a.key, a.value FROM speaker_attributes a JOIN speakers s ON s.id = a.speaker_id WHERE s.label = 'P1'")}
    assert attrs == {"gender": "female", "age": "52", "relation": "mother"}
    assert qc("--project", project, "text", "FG01").out == "Moderator: Hello.\n\nP1: Salam. My son is in Moscow."


def test_sentences_are_stored_within_turns(tmp_path):
    doc = parse_text("Interviewer: One. Two?\n\nRespondent: Three! Four and five.", "d", "d.txt", "txt", lang="en")
    sents = [doc.text[s:e] for s, e, _ in doc.sentences]
    assert sents == ["One.", "Two?", "Three!", "Four and five."]
    assert [ti for _, _, ti in doc.sentences] == [0, 0, 1, 1]


@pytest.mark.parametrize("lang", ["en", "az", "ru", "tr", "xx-unknown"])
def test_sentence_pipelines_for_languages(lang):
    doc = parse_text("P1: Birinci cümlə. İkinci cümlə.", "d", "d.txt", "txt", lang=lang)
    assert len(doc.sentences) == 2


def _docx(path, paragraphs=(), table=None):
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=0, cols=2)
        for a, b in table:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = a, b
    d.save(path)


def test_docx_paragraphs_and_speaker_table(tmp_path):
    f = tmp_path / "table.docx"
    _docx(f, ["---", "type: focus_group", "city: Baku", "---", "Transcript of group 3"],
          [("Moderator", "Who receives the money?"), ("P1", "I do. By card."), ("P2", "My husband's mother.")])
    doc = parse_file(f)
    assert doc.type == "focus_group" and doc.attributes["city"] == "Baku"
    assert [t.label for t in doc.turns] == [None, "Moderator", "P1", "P2"]
    assert "P1: I do. By card." in doc.text


def _odt(path, body_xml):
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:text>'
               f'{body_xml}</office:text></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)


def test_odt_with_spaces_tabs_and_table(tmp_path):
    f = tmp_path / "g.odt"
    _odt(f, '<text:p>Interviewer: Two<text:s text:c="2"/>spaces<text:tab/>tab.</text:p>'
            '<text:p>Respondent: Fine <text:span>styled</text:span> words.</text:p>'
            '<table:table><table:table-row><table:table-cell><text:p>P1</text:p></table:table-cell>'
            '<table:table-cell><text:p>From the table.</text:p></table:table-cell></table:table-row></table:table>')
    doc = parse_file(f)
    assert doc.text == "Interviewer: Two  spaces\ttab.\nRespondent: Fine styled words.\nP1: From the table."
    assert [t.label for t in doc.turns] == ["Interviewer", "Respondent", "P1"]


FIXTURES = SHARED / "fixtures" / "docx"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.docx")) if FIXTURES.exists() else ["absent"])
def test_real_world_docx_files_import_or_fail_cleanly(tmp_path, name):
    if not FIXTURES.exists():
        pytest.skip("../shared/fixtures is absent")
    project = tmp_path / "p.db"
    r = qc("--project", project, "import", FIXTURES / name)
    if r.code:
        assert r.err.startswith("error:") and r.err.count("\n") == 1, r.err
    else:
        assert qc("--project", project, "text", name[:-5]).out.strip()


def test_iso_strict_docx_imports():
    f = FIXTURES / "strict.docx"
    if not f.exists():
        pytest.skip("../shared/fixtures is absent")
    assert parse_file(f).text.strip()


def test_renamed_main_part_is_found():
    f = FIXTURES / "renamed_document_xml.docx"
    if not f.exists():
        pytest.skip("../shared/fixtures is absent")
    assert parse_file(f).text.strip()


@pytest.mark.parametrize("name", ["ID1.docx", "ID2.odt", "transcript.txt"])
def test_qualcoder_samples(tmp_path, name):
    f = SHARED / "fixtures" / "qualcoder" / name
    if not f.exists():
        pytest.skip("../shared/fixtures is absent")
    assert qc("--project", tmp_path / "p.db", "import", f).code == 0


def test_reimport_unchanged_does_nothing_and_says_so(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Interviewer: Hello.\n\nRespondent: Hi.\n", encoding="utf-8")
    project = tmp_path / "p.db"
    qc("--project", project, "import", f)
    events = Project(project).one("SELECT COUNT(*) FROM events")[0]
    r = qc("--project", project, "import", f)
    assert r.code == 0 and "unchanged" in r.out
    assert Project(project).one("SELECT COUNT(*) FROM events")[0] == events


def test_changed_file_is_refused_without_replace_and_reanchored_with_it(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Interviewer: Hello there.\n\nRespondent: The fees at the bank are too high for us.\n\n"
                 "Interviewer: And the card?\n\nRespondent: The card is easy to use every single day.\n", encoding="utf-8")
    project = tmp_path / "p.db"
    qc("--project", project, "import", f)
    qc("--project", project, "codebook", "add", "Fees")
    qc("--project", project, "codebook", "add", "Cards")
    qc("--project", project, "codebook", "add", "Greeting")
    text = qc("--project", project, "text", "a").out
    s1 = text.index("The fees"); e1 = text.index("for us.") + len("for us.")
    s2 = text.index("The card is"); e2 = text.index("single day.") + len("single day.")
    qc("--project", project, "code", "a", s1, e1, "Fees")
    qc("--project", project, "code", "a", s2, e2, "Cards")
    qc("--project", project, "code", "a", 13, 25, "Greeting")
    f.write_text("Interviewer: Good morning, welcome.\n\nRespondent: Honestly, the fees at the bank are too high for us.\n\n"
                 "Interviewer: And the card?\n\nRespondent: The card is easy to use every single day.\n", encoding="utf-8")
    before = Project(project).one("SELECT COUNT(*) FROM events")[0]
    r = qc("--project", project, "import", f)
    assert r.code == 1 and "--replace" in r.err
    assert Project(project).one("SELECT COUNT(*) FROM events")[0] == before
    r = qc("--project", project, "import", "--replace", f)
    assert r.code == 0, r.err
    assert "could not place" in r.err           # the greeting was rewritten
    new = qc("--project", project, "text", "a").out
    rows = {c["code"]: c for c in json.loads(qc("--project", project, "codings", "export", "--json").out)}
    assert set(rows) == {"Fees", "Cards"}
    for c in rows.values():
        assert new[c["start"]:c["end"]] == c["text"]
    assert rows["Fees"]["text"].startswith("the fees at the bank are too high")
    qc("--project", project, "undo")
    assert qc("--project", project, "text", "a").out == text


def test_import_json_lists_created_documents(tmp_path):
    f = tmp_path / "x.md"
    f.write_text("Interviewer: A.\n\nRespondent: B.\n", encoding="utf-8")
    r = qc("--project", tmp_path / "p.db", "import", "--json", "--type", "expert_interview", "--attr", "city=Baku", f)
    docs = json.loads(r.out)
    assert docs[0]["name"] == "x" and docs[0]["type"] == "expert_interview" and docs[0]["attributes"]["city"] == "Baku"
