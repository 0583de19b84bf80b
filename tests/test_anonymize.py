"""Anonymisation: consistent pseudonyms across documents, codings on the same words, the key
outside the project, and no real name left anywhere in the database file or its WAL."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest

from support import file_digest, qc

FG01 = """---
type: focus_group
city: Baku
speakers:
  Moderator: {role: moderator}
  AYTAN: {role: participant, gender: female, name: Aytan Mammadova}
  P2: {role: participant, name: Leyla Aliyeva}
---
Moderator: Welcome. Aytan, tell us about the transfers from Moscow.

AYTAN: My son sends money through Kapital Bank. Leyla knows, her brother works with him. Mrs Huseynova at the bank helps us.

P2: Yes, Aytan's son and my brother Elvin share a flat. My name is Leyla, I live in Baku.
"""
EI01 = """Interviewer: Do you know Aytan Mammadova?

Respondent: Yes, Aytan Mammadova came to the bank in March. Mr Rashidov opened her account. Elvin was there too, from Moscow.
"""
REAL = ["Aytan", "AYTAN", "Mammadova", "Leyla", "Aliyeva", "Huseynova", "Rashidov", "Elvin"]


def build(tmp_path: Path, files: dict | None = None, transfers: bool = True) -> tuple[Path, Path]:
    """A project in proj/ (from files: name → text), and a separate folder for the key (as on an
    encrypted drive)."""
    proj, secure = tmp_path / "proj", tmp_path / "secure"
    proj.mkdir()
    secure.mkdir()
    files = files or {"FG01.md": FG01, "EI01.txt": EI01}
    for name, text in files.items():
        (proj / name).write_text(text, encoding="utf-8")
    db = proj / "p.db"
    assert qc("--project", db, "import", *(proj / name for name in files)).code == 0
    if transfers:
        assert qc("--project", db, "codebook", "add", "Transfers").code == 0
        assert qc("--project", db, "codebook", "add", "People", "--description", "Who helps: Mrs Huseynova").code == 0
    else:
        assert qc("--project", db, "codebook", "add", "People").code == 0
    return db, secure


def text(db: Path, doc: str) -> str:
    return qc("--project", db, "text", doc).out


def code(db: Path, doc: str, quote: str, code_name: str, nth: int = 0, memo: str | None = None) -> None:
    t = text(db, doc)
    start = -1
    for _ in range(nth + 1):
        start = t.index(quote, start + 1)
    args = ["--project", db, "code", doc, start, start + len(quote), code_name] + (["--memo", memo] if memo else [])
    assert qc(*args).code == 0


def codings(db: Path) -> list[dict]:
    return json.loads(qc("--project", db, "codings", "export", "--json").out)


def anonymize(db: Path, *args) -> object:
    return qc("--project", db, "anonymize", *args)


# --- the main promise ----------------------------------------------------------------------------

def test_names_are_replaced_consistently_across_documents(tmp_path):
    db, secure = build(tmp_path)
    names = tmp_path / "names.txt"
    names.write_text("# people\nElvin => Participant 99\n", encoding="utf-8")
    r = anonymize(db, "--names", names, "--key", secure / "key.json")
    assert r.code == 0, r.err
    fg, ei = text(db, "FG01"), text(db, "EI01")
    for real in REAL:
        assert real not in fg and real not in ei
    # the same person, the same pseudonym, in both documents and in every spelling
    assert fg.startswith("Moderator: Welcome. Participant 1, tell us")
    assert "PARTICIPANT 1: My son sends money" in fg and "Participant 1's son" in fg
    assert "Do you know Participant 1?" in ei and "Yes, Participant 1 came to the bank" in ei
    assert "my brother Participant 99" in fg and "Participant 99 was there too" in ei
    assert "Participant 2 knows" in fg and "My name is Participant 2" in fg
    assert "Mrs Participant 3" in fg and "Mr Participant 4" in ei
    assert "Moscow" in fg and "Baku" in fg      # places only on request
    docs = {d["name"]: d for d in json.loads(qc("--project", db, "documents", "--json").out)}
    assert docs["FG01"]["speakers"] == ["Moderator", "PARTICIPANT 1", "P2"]
    turns = json.loads(qc("--project", db, "turns", "FG01", "--json").out)
    assert [fg[t["start"]:t["start"] + 13] for t in turns][1] == "PARTICIPANT 1"
    book = json.loads(qc("--project", db, "codebook", "show", "--json").out)
    assert next(c for c in book if c["name"] == "People")["description"] == "Who helps: Mrs Participant 3"
    key = json.loads((secure / "key.json").read_text(encoding="utf-8"))
    mapping = {e["real"]: e["pseudonym"] for e in key["entries"]}
    assert mapping["Aytan Mammadova"] == "Participant 1" and mapping["Elvin"] == "Participant 99"
    assert mapping["Leyla Aliyeva"] == "Participant 2"
    assert stat.S_IMODE(os.stat(secure / "key.json").st_mode) == 0o600


def test_codings_stay_on_the_same_words(tmp_path):
    db, secure = build(tmp_path)
    code(db, "FG01", "Aytan, tell us about the transfers", "Transfers")          # starts on a name
    code(db, "FG01", "My son sends money through Kapital Bank.", "Transfers")    # after a name
    code(db, "FG01", "ytan's son", "People")                                   # cuts into a name
    code(db, "EI01", "opened her account", "Transfers", memo="Rashidov again")  # memo mentions a name
    code(db, "EI01", "Elvin", "People")                                        # exactly a name
    before = {c["id"]: c for c in codings(db)}
    assert anonymize(db, "--key", secure / "key.json").code == 0
    after = {c["id"]: c for c in codings(db)}
    quotes = {before[i]["text"]: after[i]["text"] for i in after}
    assert quotes == {"Aytan, tell us about the transfers": "Participant 1, tell us about the transfers",
                      "My son sends money through Kapital Bank.": "My son sends money through Kapital Bank.",
                      "ytan's son": "Participant 1's son",
                      "opened her account": "opened her account",
                      "Elvin": "Participant 4"}
    texts = {d: text(db, d) for d in ("FG01", "EI01")}
    for c in after.values():   # offsets index the new text exactly
        assert texts[c["document"]][c["start"]:c["end"]] == c["text"]
    memo = next(c for c in after.values() if c["text"] == "opened her account")["memo"]
    assert memo == "Participant 5 again"
    # turns and sentences still fall on the text they did
    from qualcode.store.project import open_project
    with open_project(db) as p:
        for row in p.query("SELECT d.text, s.start, s.\"end\" FROM sentences s JOIN documents d ON d.id = s.document_id"):
            sentence = row["text"][row["start"]:row["end"]]
            assert sentence == sentence.strip() and sentence
        contexts = p.query("SELECT c.context_before, c.context_after, c.start, c.\"end\", d.text FROM codings c "
                           "JOIN documents d ON d.id = c.document_id")
        for c in contexts:
            assert c["text"][:c["start"]].endswith(c["context_before"])
            assert c["text"][c["end"]:].startswith(c["context_after"])


def test_no_real_name_is_left_in_the_database_wal_or_backups(tmp_path):
    from qualcode.anonymize import apply_plan, plan_anonymisation, read_list
    from qualcode.store import backup
    from qualcode.store.project import open_project

    db, secure = build(tmp_path)
    code(db, "EI01", "Aytan Mammadova came", "People", memo="ask Leyla")
    with open_project(db) as p:
        backup.rotate(p, reason="before a test")      # a backup holds the real names too
    assert backup.list_backups(db)
    names = tmp_path / "names.txt"
    names.write_text("Elvin\n", encoding="utf-8")
    entries, _ = read_list(names)
    with open_project(db) as p:
        report = apply_plan(p, plan_anonymisation(p, entries), secure / "key.json")
        assert report.purge["file_rewritten"] and report.purge["backups_removed"] == 1
        # while the connection is still open: the WAL is empty, the file holds no name
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        for f in files:
            data = f.read_bytes() if f.exists() else b""
            for real in REAL:
                assert real.encode() not in data, (f.name, real)
    assert not backup.list_backups(db)
    for f in [db, *db.parent.rglob("*")]:
        if f.is_file():
            data = f.read_bytes()
            if f.suffix in (".md", ".txt"):
                continue   # the original transcripts are the researcher's to keep or delete
            for real in REAL:
                assert real.encode() not in data, (f, real)
    assert not list(db.parent.glob("*key*"))
    history = json.loads(qc("--project", db, "history", "--json").out)
    assert history[0]["summary"].startswith("Purged the undo history")
    assert qc("--project", db, "undo").out.strip() == "Nothing to undo"
    status = json.loads(qc("--project", db, "anonymize", "--status", "--json").out)
    assert status["anonymised"] and status["history_purged"] and status["changed_documents"] == []


def test_dry_run_changes_nothing_and_shows_the_plan(tmp_path):
    db, secure = build(tmp_path)
    before = file_digest(db)
    r = anonymize(db, "--dry-run")
    assert r.code == 0, r.err
    assert "Participant 1    ← Aytan Mammadova" in r.out and "Nothing changed" in r.out
    assert "Huseynova" in r.out and "Rashidov" in r.out
    plan = json.loads(anonymize(db, "--dry-run", "--json").out)
    assert {e["real"] for e in plan["entities"]} >= {"Aytan Mammadova", "Leyla Aliyeva", "Huseynova", "Rashidov",
                                                      "Elvin"}
    assert not any(p["word"] == "Moscow" for p in plan["possible_names"])   # in the stop list
    assert file_digest(db) == before
    assert not (secure / "key.json").exists()


def test_possible_names_are_listed_not_replaced(tmp_path):
    db, secure = build(tmp_path)
    src = tmp_path / "EI02.txt"
    src.write_text("Respondent: We went to Qaraçuxur, then Gulnara said no. Korona was closed.\n\n"
                   "Interviewer: And Gulnara?\n\nRespondent: She stayed.\n", encoding="utf-8")
    assert qc("--project", db, "import", src).code == 0
    plan = json.loads(anonymize(db, "--dry-run", "--json").out)
    possible = {p["word"] for p in plan["possible_names"]}
    assert {"Qaraçuxur", "Gulnara"} <= possible          # shown to the researcher …
    assert "Gulnara" not in {e["real"] for e in plan["entities"]}
    names = tmp_path / "names.txt"
    names.write_text("Gulnara\n!Qaraçuxur\n", encoding="utf-8")
    plan = json.loads(anonymize(db, "--dry-run", "--json", "--names", names).out)
    assert "Gulnara" in {e["real"] for e in plan["entities"]}     # … replaced once listed
    assert "Qaraçuxur" not in {p["word"] for p in plan["possible_names"]}   # … or silenced


def test_report_lists_every_replacement_outside_the_project(tmp_path):
    db, secure = build(tmp_path)
    original = {d: text(db, d) for d in ("FG01", "EI01")}
    r = anonymize(db, "--key", secure / "key.json", "--report", secure / "report.csv")
    assert r.code == 0, r.err
    new = {d: text(db, d) for d in ("FG01", "EI01")}
    with open(secure / "report.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == sum(1 for _ in rows) > 5
    for row in rows:
        start, length, new_start = int(row["start"]), int(row["length"]), int(row["new_start"])
        assert original[row["document"]][start:start + length] == row["original"]
        assert new[row["document"]][new_start:new_start + len(row["pseudonym"])] == row["pseudonym"]
    refused = anonymize(db, "--key", secure / "key2.json", "--report", db.parent / "report.csv")
    assert refused.code == 1 and "outside the project's folder" in refused.err
    stdout = anonymize(db, "--dry-run", "--names", _names(tmp_path, "Moscow"), "--report", "-")
    assert stdout.out.startswith("document,start,length,new_start,pseudonym,original")


def _names(tmp_path: Path, *lines: str) -> Path:
    f = tmp_path / "list.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f


def test_places_and_organisations_on_request(tmp_path):
    db, secure = build(tmp_path)
    places = tmp_path / "places.txt"
    places.write_text("Moscow\nBaku => Capital City\n", encoding="utf-8")
    orgs = tmp_path / "orgs.txt"
    orgs.write_text("Kapital Bank\n", encoding="utf-8")
    assert anonymize(db, "--places", places, "--orgs", orgs, "--key", secure / "k.json").code == 0
    fg = text(db, "FG01")
    assert "transfers from Place A." in fg and "I live in Capital City." in fg
    assert "money through Bank A." in fg and "from Place A." in text(db, "EI01")
    docs = json.loads(qc("--project", db, "documents", "--json").out)
    assert docs[0]["attributes"]["city"] == "Capital City"


def test_key_is_reused_so_new_documents_get_the_same_pseudonyms(tmp_path, monkeypatch):
    from qualcode.anonymize import require_anonymised
    from qualcode.errors import QualcodeError
    from qualcode.store.project import open_project

    db, secure = build(tmp_path)
    key = secure / "key.json"
    assert anonymize(db, "--key", key).code == 0
    monkeypatch.setenv("QUALCODE_REQUIRE_ANONYMISED", "1")
    with open_project(db) as p:
        require_anonymised(p)                                 # anonymised: exports may run
    later = tmp_path / "EI02.txt"
    later.write_text("Interviewer: Did Aytan Mammadova call?\n\nRespondent: Leyla did. And Elvin.\n", encoding="utf-8")
    assert qc("--project", db, "import", later).code == 0
    with open_project(db) as p, pytest.raises(QualcodeError, match="EI02"):
        require_anonymised(p)                                 # a new document: not yet
    assert anonymize(db, "--key", key).code == 0
    assert text(db, "EI02") == ("Interviewer: Did Participant 1 call?\n\n"
                                "Respondent: Participant 2 did. And Participant 4.")
    with open_project(db) as p:
        require_anonymised(p)


def test_require_anonymised_by_setting_or_environment(tmp_path, monkeypatch):
    from qualcode.anonymize import require_anonymised
    from qualcode.errors import QualcodeError
    from qualcode.store.project import open_project

    db, _ = build(tmp_path)
    monkeypatch.delenv("QUALCODE_REQUIRE_ANONYMISED", raising=False)
    with open_project(db) as p:
        require_anonymised(p)                                 # not required: nothing to check
        with pytest.raises(QualcodeError, match="must be anonymised"):
            require_anonymised(p, force=True)
    assert anonymize(db, "--require").code == 0
    with open_project(db) as p, pytest.raises(QualcodeError, match="must be anonymised"):
        require_anonymised(p)
    assert json.loads(anonymize(db, "--status", "--json").out)["required"] is True
    assert anonymize(db, "--no-require").code == 0
    monkeypatch.setenv("QUALCODE_REQUIRE_ANONYMISED", "1")
    with open_project(db) as p, pytest.raises(QualcodeError, match="must be anonymised"):
        require_anonymised(p)


def test_keep_history_lets_undo_restore_then_purge(tmp_path):
    db, secure = build(tmp_path)
    code(db, "FG01", "Leyla knows", "People")
    original = {d: text(db, d) for d in ("FG01", "EI01")}
    before_codings = codings(db)
    key = secure / "key.json"
    r = anonymize(db, "--key", key, "--keep-history")
    assert r.code == 0 and "still holds the real names" in r.out
    assert b"Mammadova" in db.read_bytes() + (Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else b"")
    assert qc("--project", db, "undo").code == 0                  # one change: one undo restores it all
    assert {d: text(db, d) for d in ("FG01", "EI01")} == original
    assert codings(db) == before_codings
    assert json.loads(anonymize(db, "--status", "--json").out)["anonymised"] is False
    assert qc("--project", db, "redo").code == 0
    assert "Participant 1" in text(db, "EI01")
    r = anonymize(db, "--purge-history", "--key", key)
    assert r.code == 0 and "Purged" in r.out
    assert b"Mammadova" not in db.read_bytes()
    assert qc("--project", db, "undo").out.strip() == "Nothing to undo"


def test_a_trained_pipeline_is_used_when_installed(tmp_path, monkeypatch):
    """No trained pipeline is installed here, so build a tiny one (an entity ruler) and point
    QUALCODE_NER_PIPELINE at it: the same code path a real en_core_web_sm would take."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Nigar"},
                                               {"label": "GPE", "pattern": "Moscow"},
                                               {"label": "ORG", "pattern": "Kapital Bank"}])
    nlp.to_disk(tmp_path / "pipeline")
    db, secure = build(tmp_path)
    src = tmp_path / "EI02.txt"
    src.write_text("Respondent: Nigar sent it from Moscow.\n", encoding="utf-8")
    assert qc("--project", db, "import", src).code == 0
    refused = anonymize(db, "--dry-run", "--detect-places")
    assert refused.code == 1 and "trained spaCy pipeline" in refused.err
    monkeypatch.setenv("QUALCODE_NER_PIPELINE", str(tmp_path / "pipeline"))
    plan = json.loads(anonymize(db, "--dry-run", "--json", "--detect-places", "--detect-orgs").out)
    kinds = {e["real"]: (e["kind"], e["sources"]) for e in plan["entities"]}
    assert kinds["Nigar"] == ("person", ["ner"]) and kinds["Moscow"] == ("place", ["ner"])
    assert kinds["Kapital Bank"] == ("org", ["ner"])
    assert plan["possible_names"] == []       # with a pipeline, no capitalisation guesses


def test_preview_api_for_the_app(tmp_path):
    from qualcode.anonymize import preview
    from qualcode.store.project import open_project

    db, _ = build(tmp_path)
    before = file_digest(db)
    with open_project(db) as p:
        shown = preview(p, names=["Elvin"], places=[("Moscow", "City M")])
    assert {e["pseudonym"] for e in shown["entities"]} >= {"City M", "Participant 1"}
    assert shown["replacements"] > 5 and shown["documents"] == 2
    assert file_digest(db) == before


@pytest.mark.parametrize("args,expect", [
    ([], "--key FILE is required"),
    (["--key", "KEY_IN_PROJECT"], "outside the project's folder"),
    (["--names", "MISSING", "--key", "KEY"], "does not exist"),
    (["--no-detect", "--key", "KEY", "--names", "EMPTY"], "no names to replace"),
    (["--names", "BAD", "--key", "KEY"], "is not a name"),
    (["--purge-history", "--key", "KEY"], "nothing to purge"),
])
def test_bad_requests_change_nothing(tmp_path, args, expect):
    db, secure = build(tmp_path)
    tmp_path.joinpath("empty.txt").write_text("# nobody\n", encoding="utf-8")
    tmp_path.joinpath("bad.txt").write_text("=> Participant 1\n", encoding="utf-8")
    # a project with no names at all in the legend
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "x.txt").write_text("Interviewer: hello.\n\nRespondent: fine.\n", encoding="utf-8")
    target = db
    if "EMPTY" in args:
        target = bare / "p.db"
        assert qc("--project", target, "import", bare / "x.txt").code == 0
    subst = {"KEY_IN_PROJECT": target.parent / "key.json", "MISSING": tmp_path / "nope.txt",
             "EMPTY": tmp_path / "empty.txt", "BAD": tmp_path / "bad.txt", "KEY": secure / "key.json"}
    before = file_digest(target)
    r = anonymize(target, *[subst.get(a, a) for a in args])
    assert r.code == 1 and r.err.startswith("error:") and r.err.count("\n") == 1, r.err
    assert expect in r.err, r.err
    assert file_digest(target) == before
    assert not (target.parent / "key.json").exists()


def test_names_in_document_names_memos_and_suggestions_are_replaced(tmp_path):
    from qualcode.store.project import new_id, now, open_project

    db, secure = build(tmp_path)
    src = tmp_path / "Interview_Aytan.txt"
    src.write_text("Respondent: Aytan Mammadova sends it monthly.\n", encoding="utf-8")
    assert qc("--project", db, "import", src).code == 0
    assert qc("--project", db, "memo", "document", "EI01", "Call Aytan about the consent form").code == 0
    with open_project(db) as p:
        doc = p.one("SELECT id, text FROM documents WHERE name = 'EI01'")
        code_id = p.one("SELECT id FROM codes WHERE name = 'Transfers'")["id"]
        start = doc["text"].index("opened her account")
        with p.change("suggest", "a suggestion") as ch:
            ch.insert("suggestions", {"id": new_id(), "document_id": doc["id"], "code_id": code_id, "start": start,
                                      "end": start + 18, "score": 0.8, "created_at": now(),
                                      "evidence": json.dumps({"nearest": ["Aytan Mammadova sends it"],
                                                              "terms": {"Rashidov": 1}})})
    r = anonymize(db, "--key", secure / "key.json")
    assert r.code == 0 and "Document 'Interview_Aytan' is now 'Interview_Participant 1'" in r.out, r.out
    assert text(db, "Interview_Participant 1") == "Respondent: Participant 1 sends it monthly."
    memo = json.loads(qc("--project", db, "memo", "document", "EI01", "--json").out)
    assert memo[0]["text"] == "Call Participant 1 about the consent form"
    with open_project(db) as p:
        s = p.one("SELECT s.start, s.\"end\", s.evidence, d.text FROM suggestions s JOIN documents d "
                  "ON d.id = s.document_id")
        assert s["text"][s["start"]:s["end"]] == "opened her account"
        assert json.loads(s["evidence"]) == {"nearest": ["Participant 1 sends it"], "terms": {"Participant 5": 1}}
        assert p.one("SELECT source_name FROM documents WHERE name = 'Interview_Participant 1'")[0] == \
            "Interview_Participant 1.txt"


def test_exports_refuse_a_project_that_must_be_anonymised(project, tmp_path, monkeypatch):
    from support import file_digest

    monkeypatch.setenv("QUALCODE_REQUIRE_ANONYMISED", "1")
    for args in (["export", "quotes", "--format", "csv", "-o", tmp_path / "q.csv"],
                 ["export", "qdpx", tmp_path / "p.qdpx"], ["codings", "export", "--json"],
                 ["summarize", "--json"], ["report", "-o", tmp_path / "r.docx"]):
        before = file_digest(project)
        r = qc("--project", project, *args)
        assert r.code == 1 and "anonymised" in r.err, (args, r.err)
        assert file_digest(project) == before


# --- inflected names ---------------------------------------------------------------------------------

FG_AZ = """---
type: focus_group
speakers:
  Moderator: {role: moderator}
  AYTAN: {role: participant, name: Aytan Məmmədova}
---
Moderator: Aytanın fikri nədir? Aytana sual verək.

AYTAN: Pulu Aytandan yox, Elvinlə göndəririk. Aytan'ın qardaşı Moskvadadır, Məmmədovalar orada qalır.
"""
EI_RU = "Interviewer: Вы знаете Айтан?\n\nRespondent: Да, с Айтаной мы работали. У Айтаны брат в Москве.\n"


def test_inflected_names_keep_their_endings_and_codings_their_words(tmp_path):
    db, secure = build(tmp_path, {"FG_AZ.md": FG_AZ, "EI_RU.txt": EI_RU}, transfers=False)
    for doc, quote in (("FG_AZ", "Aytanın fikri nədir?"), ("FG_AZ", "Aytana sual verək"),
                       ("FG_AZ", "Pulu Aytandan yox"), ("FG_AZ", "qardaşı Moskvadadır"),
                       ("FG_AZ", "Elvinlə"), ("EI_RU", "с Айтаной мы работали")):
        code(db, doc, quote, "People")
    names = _names(tmp_path, "Elvin", "Айтан => Айнур")
    plan = json.loads(anonymize(db, "--dry-run", "--json", "--names", names).out)
    assert {(r["word"], r["becomes"]) for r in plan["inflected"]} >= {("Aytanın", "Participant 1'ın"),
                                                                       ("Айтаной", "Айнурой")}
    assert not {"Aytanın", "Aytana", "Aytandan"} & {p["word"] for p in plan["possible_names"]}
    before = {c["id"]: c for c in codings(db)}
    r = anonymize(db, "--names", names, "--key", secure / "key.json", "--report", secure / "report.csv")
    assert r.code == 0, r.err
    assert "inflected form(s) of names are replaced too" in r.out
    fg, ei = text(db, "FG_AZ"), text(db, "EI_RU")
    assert fg == ("Moderator: Participant 1'ın fikri nədir? Participant 1'a sual verək.\n\n"
                  "PARTICIPANT 1: Pulu Participant 1'dan yox, Participant 2'lə göndəririk. Participant 1'ın qardaşı "
                  "Moskvadadır, Participant 1'lar orada qalır.")
    assert ei == "Interviewer: Вы знаете Айнур?\n\nRespondent: Да, с Айнурой мы работали. У Айнуры брат в Москве."
    after = {c["id"]: c for c in codings(db)}
    assert {before[i]["text"]: after[i]["text"] for i in after} == {
        "Aytanın fikri nədir?": "Participant 1'ın fikri nədir?", "Aytana sual verək": "Participant 1'a sual verək",
        "Pulu Aytandan yox": "Pulu Participant 1'dan yox", "qardaşı Moskvadadır": "qardaşı Moskvadadır",
        "Elvinlə": "Participant 2'lə", "с Айтаной мы работали": "с Айнурой мы работали"}
    texts = {"FG_AZ": fg, "EI_RU": ei}
    for c in after.values():   # offsets index the new text exactly
        assert texts[c["document"]][c["start"]:c["end"]] == c["text"]
    from qualcode.store.project import open_project
    with open_project(db) as p:
        for c in p.query('SELECT c.context_before, c.context_after, c.start, c."end", d.text FROM codings c '
                         "JOIN documents d ON d.id = c.document_id"):
            assert c["text"][:c["start"]].endswith(c["context_before"])
            assert c["text"][c["end"]:].startswith(c["context_after"])
    with open(secure / "report.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    endings = {row["original"]: row["ending"] for row in rows if row["ending"]}
    assert endings == {"Aytanın": "ın", "Aytana": "a", "Aytandan": "dan", "Elvinlə": "lə", "Aytan'ın": "'ın",
                       "Məmmədovalar": "lar", "Айтаной": "ой", "Айтаны": "ы"}
    for row in rows:
        doc = texts[row["document"]]
        assert doc[int(row["new_start"]):int(row["new_start"]) + len(row["pseudonym"])] == row["pseudonym"]
