"""Known names found inflected (qualcode.name_matching, qualcode.name_endings): Azerbaijani and
Turkish endings with vowel harmony, apostrophes, Russian case endings; and words that only begin
with a name left alone. All names here are made up for the tests."""

from __future__ import annotations

import pytest

from qualcode.anonymize import PERSON, Entity
from qualcode.name_matching import Matcher, variants


def matcher(*names: tuple[str, str], excluded=()) -> Matcher:
    return Matcher([Entity(real, PERSON, pseudo, forms=variants(real)) for real, pseudo in names], excluded)


@pytest.mark.parametrize("written,leyla,numbered", [
    ("Aytanın", "Leylanın", "Participant 1'ın"),          # genitive
    ("Aytanı", "Leylanı", "Participant 1'ı"),             # accusative
    ("Aytana", "Leylaya", "Participant 1'a"),             # dative
    ("Aytanda", "Leylada", "Participant 1'da"),           # locative
    ("Aytandan", "Leyladan", "Participant 1'dan"),        # ablative
    ("Aytanla", "Leylayla", "Participant 1'la"),          # with (ilə)
    ("Aytannan", "Leylaynan", "Participant 1'nan"),       # with, as spoken
    ("Aytanlar", "Leylalar", "Participant 1'lar"),        # plural
    ("Aytanların", "Leylaların", "Participant 1'ların"),  # plural + genitive
    ("Aytangilə", "Leylagilə", "Participant 1'gilə"),     # to Aytan's family
    ("Aytandır", "Leyladır", "Participant 1'dır"),        # it is Aytan
    ("Aytanin", "Leylanin", "Participant 1'in"),          # typed without ı
    ("Aytan'ın", "Leyla'nın", "Participant 1'ın"),        # apostrophes (Turkish spelling)
    ("Aytan’a", "Leyla’ya", "Participant 1’a"),
    ("AYTANIN", "LEYLANIN", "PARTICIPANT 1'IN"),
])
def test_azerbaijani_endings_are_kept_on_the_pseudonym(written, leyla, numbered):
    text = f"Dünən {written} evində idik."
    assert matcher(("Aytan", "Leyla")).sub(text) == f"Dünən {leyla} evində idik."
    assert matcher(("Aytan", "Participant 1")).sub(text) == f"Dünən {numbered} evində idik."


def test_vowel_harmony_front_and_after_a_vowel():
    m = matcher(("Elvin", "Participant 2"), ("Leyla", "Participant 3"), ("Mehmet", "Kerem"))
    assert m.sub("Elvinin, Elvinə, Elvinlə, Elvindən, Elvinlərin") == \
        "Participant 2'in, Participant 2'ə, Participant 2'lə, Participant 2'dən, Participant 2'lərin"
    assert m.sub("Leylanın, Leylaya, Leylanı, Leylayla") == \
        "Participant 3'nın, Participant 3'ya, Participant 3'nı, Participant 3'yla"
    assert m.sub("Mehmet'ten Mehmet'e Mehmetin") == "Kerem'den Kerem'e Keremin"   # Turkish spelling kept


def test_russian_case_endings():
    m = matcher(("Айтан", "Participant 1"), ("Лейла", "Сабина"), ("Игорь", "Participant 4"))
    assert m.sub("Айтан, Айтаны, Айтаной, Айтане, Айтану.") == \
        "Participant 1, Participant 1-ы, Participant 1-ой, Participant 1-е, Participant 1-у."
    assert m.sub("с Лейлой, у Лейлы, Лейлин брат") == "с Сабиной, у Сабины, Сабинин брат"
    assert m.sub("Игоря и Игорем") == "Participant 4-я и Participant 4-ем"
    assert m.sub("ЛЕЙЛОЙ") == "САБИНОЙ"


def test_a_full_name_with_an_ending():
    m = matcher(("Aytan Məmmədova", "Participant 1"), ("Лейла Алиева", "Participant 2"))
    assert m.sub("Aytan Məmmədovanın sözləri") == "Participant 1'nın sözləri"
    assert m.sub("с Лейла Алиевой") == "с Participant 2-ой"     # parts alone: see test_anonymize.py


@pytest.mark.parametrize("word", ["Alim", "Alice", "Aliyev", "Aliyeva", "Aliya", "Alida", "Alina", "Alisa", "Ali_",
                                  "Alibaba"])
def test_words_that_only_begin_with_a_name_are_left_alone(word):
    text = f"{word} gəldi."
    out = matcher(("Ali", "Participant 5")).sub(text)
    assert out == (text if word != "Ali_" else "Participant 5_ gəldi.")


def test_an_excluded_word_is_not_taken_for_an_inflected_name():
    m = matcher(("Nur", "Participant 6"), excluded={"Nura"})
    assert m.sub("Nurun qızı Nura") == "Participant 6'un qızı Nura"
    assert matcher(("Nur", "Participant 6")).sub("Nura") == "Participant 6'a"


def test_short_names_take_no_endings():
    # two letters and an ending is too often a word of its own (Ay: "moon"; Ayda: "in a month")
    assert matcher(("Ay", "Participant 7")).sub("Ay gəldi, Ayda qaldı.") == "Participant 7 gəldi, Ayda qaldı."


def test_hits_cover_the_whole_word():
    m = matcher(("Aytan", "Participant 1"))
    text = "Aytanın dostu və Aytan'ın anası"
    hits = list(m.finditer(text))
    assert [(text[h.start:h.end], h.ending.text) for h in hits] == [("Aytanın", "ın"), ("Aytan'ın", "'ın")]
    assert [text[h.start:h.stem_end] for h in hits] == ["Aytan", "Aytan"]


def test_plain_latin_endings_only_where_the_project_has_azerbaijani_or_turkish_text():
    """In an English-language project, Ann is not in Anna nor Ben in Benin; endings with letters
    only those alphabets have (Aytanın) and apostrophes (Aytan'a) still count."""
    english = Matcher([Entity(r, PERSON, p, forms=variants(r)) for r, p in
                       (("Ann", "Participant 1"), ("Ben", "Participant 2"), ("Aytan", "Participant 3"))],
                      plain_endings=False)
    assert english.sub("Anna met Ben in Benin.") == "Anna met Participant 2 in Benin."
    assert english.sub("Aytanın anası, Aytan'a, Aytana") == "Participant 3'ın anası, Participant 3'a, Aytana"
    assert matcher(("Aytan", "Leyla")).sub("Aytana") == "Leylaya"      # in Azerbaijani text, as before


def test_the_project_decides_by_its_texts(tmp_path):
    from support import qc

    from qualcode.anonymize import plan_anonymisation
    from qualcode.store.project import Project

    for text, expected in (("Interviewer: Did Anna call?\nRespondent: Ann did.\n", {"Ann"}),
                           ("Interviewer: Anna gəldi?\nRespondent: Anna gəldi, Ann yox.\n", {"Ann", "Anna"})):
        db = tmp_path / f"p{len(expected)}.db"
        f = tmp_path / f"t{len(expected)}.txt"
        f.write_text(text, encoding="utf-8")
        assert qc("--project", db, "import", f).code == 0
        with Project(db) as p:
            plan = plan_anonymisation(p, names=["Ann"], detect=False)
            got = {r.original for reps in plan.replacements.values() for r in reps}
            assert got & {"Ann", "Anna"} == expected
