"""Finding the names of people in a project, for anonymisation.

Four sources, from surest to least sure:
1. the speaker legend: speaker labels that are names (`AYTAN:`, not `P3:` or `Moderator:`), and
   speaker or document attributes whose key says "name" (`name:`, `surname:`, `interviewee:`);
2. a list the researcher gives (read in anonymize.py);
3. a trained spaCy pipeline's entities, when one is installed (never downloaded);
4. otherwise a capitalisation rule. A capitalised word in the middle of a sentence is far more
   often a place or a brand than a person (in the demo corpus: Russia, Moscow, Korona, Baku…),
   so the rule only *replaces* a word when something says it is a person — a title (`Mr`,
   `Dr`), a kinship word (`my neighbour Leyla`), an honorific (`Gülnarə xanım`), an
   introduction (`my name is Sevda`), a patronymic (`Alievich`, `Əli qızı`) or a first
   name followed by a surname (`Aytan Mammadova`). Every other capitalised word that is never
   written in lower case is only *listed* in the preview as a possible name.
Words in the codebook, in the stop list, in attribute values (city: Baku) and in the user's
place and organisation lists are never taken for names by rules 3 and 4.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field

from qualcode.ingest.turns import _ROLE_WORDS

_ROLE_LABEL = re.compile(
    rf"(?:{_ROLE_WORDS}|All|Both|Group|Several|Everyone|Many|Others?|Men|Women|Man|Woman|Male|Female|Child|"
    r"Children|Voices?|Inaudible|Crosstalk|Unidentified|Unclear|Audience|Team|Interpreter|Transcriber|"
    r"Husband|Wife|Son|Daughter|Mother|Father|Participants|Respondents|Director|Officer|Head|Manager|Specialist|"
    r"Expert|Official|Chief|Deputy|Analyst|Economist|Lawyer|Teacher|Doctor|Nurse|Driver|Agent|Clerk|Accountant|"
    r"Secretary|Chair|Chairman|Chairwoman|Chairperson|Representative|Coordinator|Volunteer|Staff|Employee|"
    r"Worker|Student|Host|Guest|Owner|Cashier|Banker|Official|Migrant|Guide|Elder|Leader|Journalist)"
    r"(?:[ ._-]*\d{1,3}|\s+[A-Z])?|[A-Z]{1,2}\d{0,3}|\d+", re.I)

# keys whose values are people's names, in speaker and document attributes
_NAME_KEY = re.compile(r"(?:(?:full|first|given|last|family|real|sur|nick|middle|maiden|birth|father'?s?|"
                       r"mother'?s?)[ _-]?name|name|surname|patronymic|alias|interviewee|interviewer|respondent|"
                       r"participant|moderator|facilitator|informant|transcriber|ad|soyad|ata adı|имя|фамилия|"
                       r"отчество)|.*[ _-](?:name|surname)", re.I)

STOP_WORDS = set("""
I I'm I've I'll I'd OK Okay Ok Mr Mrs Ms Miss Dr Prof Sir Madam God Allah Inshallah Mashallah Amin Amen
Salam Hello Yes No Oh Ah Well So And But Or The A An This That These Those There Here Thank Thanks Please
Internet TV Wi-Fi Covid COVID Soviet Union Republic State Ministry Bank Central National
January February March April May June July August September October November December
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Sundays Novruz Ramadan Qurban Bayram Christmas Easter Eid
Mama Mum Mom Mother Papa Dad Father Ata Ana Nənə Baba Bala Xala Dayı Əmi Bacı Qardaş Canım Babushka
English Russian Russians Azerbaijani Azerbaijanis Turkish Turks Kazakh Uzbek Uzbeks Tajik Tajiks Kyrgyz Georgian
Georgians Armenian Ukrainian Belarusian Polish German Germans French Chinese Indian Iranian Arab Arabic
American European Europeans Asian Asians Latin Cyrillic Muslim Christian Jewish Talysh Lezgin
Russia Azerbaijan Türkiye Turkey Kazakhstan Uzbekistan Tajikistan Kyrgyzstan Turkmenistan Georgia Armenia
Ukraine Belarus Moldova Poland Germany France Italy Spain Britain England UK USA America Canada Israel Iran
Iraq Syria Egypt China India Pakistan Bangladesh Nepal Japan Korea Emirates UAE Dubai Qatar Europe Asia
Africa Caucasus Siberia Baku Moscow Istanbul Ankara Tbilisi Kyiv Minsk London Berlin Paris
WhatsApp Telegram Facebook Instagram YouTube Google Visa Mastercard MoneyGram PayPal Excel Android iPhone
""".split())

_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Mister|Madam|Madame|Sir|Lady|Uncle|Aunt|Auntie|Grandma|Grandpa|Granny)\.?"
_KIN = (r"(?:my|his|her|our|their|your)\s+(?:neighbou?r|friend|cousin|son|daughter|husband|wife|brother|sister|"
        r"uncle|aunt|nephew|niece|grandson|granddaughter|colleague|boss|mother-in-law|father-in-law|"
        r"daughter-in-law|son-in-law|sister-in-law|brother-in-law|fiancée?|classmate)")
_INTRO = (r"(?:my name is|his name is|her name is|his name was|her name was|name's|меня зовут|его зовут|её зовут|"
          r"mənim adım|adım|benim adım|ismim)")
_HONORIFIC = r"(?:xanım|xanim|bəy|bey|müəllim|müəllimə|hanım|hanim|ağa|oğlu|qızı|kızı|ogly|kyzy)"
_NAME = r"([^\W\d_][\w'’-]*)"
_SURNAME = r"([^\W\d_][\w'’-]*(?:ova|eva|yeva|ov|ev|yev|zadə|zade|oğlu|lı|li|lu|lü|enko|yan|shvili|dze|skiy|skaya|sky|ski))"

STRONG_CUES = [
    re.compile(rf"(?<!\w){_TITLE}\s+{_NAME}"),
    re.compile(rf"(?<!\w)(?i:{_KIN})\s+{_NAME}"),
    re.compile(rf"(?<!\w)(?i:{_INTRO})\s+{_NAME}"),
    re.compile(rf"{_NAME}\s+(?i:{_HONORIFIC})(?!\w)"),
    re.compile(r"(?<!\w)([^\W\d_]\w*(?:ovich|evich|ovna|evna|ivna|ovych|ович|евич|овна|евна))(?!\w)"),
    re.compile(rf"(?<!\w){_NAME}\s+{_SURNAME}(?!\w)"),
]
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass
class Found:
    text: str
    kind: str                 # person | place | org
    source: str               # legend | attribute | ner | rule
    where: list[str] = field(default_factory=list)
    speaker: str | None = None   # names of one speaker (label, name:, nickname:) are one person


def is_role_label(label: str) -> bool:
    return bool(_ROLE_LABEL.fullmatch(label.strip()))


def is_name_key(key: str) -> bool:
    return bool(_NAME_KEY.fullmatch(key.strip()))


def split_names(value: str) -> list[str]:
    """An attribute value may hold several names: `Aytan Mammadova; Leyla Aliyeva`."""
    return [p.strip() for p in re.split(r"[;,\n]|\s+and\s+|\s+və\s+|\s+и\s+", value) if p.strip()]


def legend_names(project) -> list[Found]:
    """People named by the speaker legend and by name-like attributes."""
    found: list[Found] = []
    lower = lowercase_words(project)
    named = {r["speaker_id"] for r in project.query("SELECT speaker_id, key FROM speaker_attributes") if is_name_key(r["key"])}
    for r in project.query("SELECT s.id, s.label, d.name AS doc FROM speakers s JOIN documents d "
                           "ON d.id = s.document_id ORDER BY d.position, s.rowid"):
        label = r["label"].strip()
        if not label or is_role_label(label) or sum(ch.isalpha() for ch in label) < 2:
            continue
        # a label whose words all occur in lower case (Officer, Director) is a role, unless the
        # legend also gives that speaker a name
        if r["id"] in named or not all(w.casefold() in lower for w in _WORD.findall(label)):
            found.append(Found(label, "person", "legend", [r["doc"]], r["id"]))
    for r in project.query("SELECT s.id, a.key, a.value, d.name AS doc FROM speaker_attributes a JOIN speakers s "
                           "ON s.id = a.speaker_id JOIN documents d ON d.id = s.document_id ORDER BY d.position, a.rowid"):
        if r["value"] and is_name_key(r["key"]) and r["key"].lower() != "role":
            names = [n for n in split_names(r["value"]) if not is_role_label(n)]
            speaker = r["id"] if len(names) == 1 else None
            found.extend(Found(n, "person", "legend", [r["doc"]], speaker) for n in names)
    for r in project.query("SELECT a.key, a.value, d.name AS doc FROM document_attributes a JOIN documents d "
                           "ON d.id = a.document_id ORDER BY d.position, a.rowid"):
        if r["value"] and is_name_key(r["key"]):
            found.extend(Found(n, "person", "attribute", [r["doc"]]) for n in split_names(r["value"])
                         if not is_role_label(n))
    return found


def lowercase_words(project) -> set[str]:
    """Every word the texts write in lower case (casefolded): such a word is rarely only a name."""
    words: set[str] = set()
    for d in project.query("SELECT text FROM documents"):
        words.update(w.casefold() for w in _WORD.findall(d["text"]) if w[0].islower())
    return words


def known_words(project) -> set[str]:
    """Words that are not people: the codebook's, and the values of attributes that are not names."""
    words: set[str] = set(STOP_WORDS)
    import json

    for r in project.query("SELECT name, keywords FROM codes"):
        words.update(_WORD.findall(r["name"]))
        for kw in json.loads(r["keywords"] or "[]"):
            words.update(_WORD.findall(str(kw)))
    for table, join in (("document_attributes", ""), ("speaker_attributes", "")):
        for r in project.query(f"SELECT key, value FROM {table}"):
            if r["value"] and not is_name_key(r["key"]):
                words.update(_WORD.findall(r["value"]))
    return words


def _sentence_starts(project, doc_id: str, text: str) -> set[int]:
    starts = {0}
    for r in project.query("SELECT start FROM sentences WHERE document_id = ? UNION "
                           "SELECT text_start FROM turns WHERE document_id = ?", (doc_id, doc_id)):
        starts.add(r[0])
    starts.update(m.end() for m in re.finditer(r"\n", text))
    return starts


def _at_sentence_start(text: str, pos: int, starts: set[int]) -> bool:
    """Only punctuation (quotes, brackets, dashes, a timestamp) between a sentence start and pos."""
    j = pos
    while j > 0 and j not in starts and not text[j - 1].isalnum() and text[j - 1] != "\n":
        j -= 1
    return j in starts or pos in starts


def rule_names(project, excluded: set[str]) -> tuple[list[Found], list[dict]]:
    """(names the rule is sure of, possible names to show but not replace)."""
    known = known_words(project) | excluded
    known_lower = {w.casefold() for w in known}
    docs = project.query("SELECT id, name, text FROM documents ORDER BY position, name")
    lower_seen = lowercase_words(project)
    strong: dict[str, Found] = {}
    weak: Counter = Counter()
    weak_docs: dict[str, set[str]] = {}
    examples: dict[str, str] = {}

    def usable(word: str) -> bool:
        return (len(word) >= 2 and word[0].isupper() and not word.isupper() and word.casefold() not in known_lower
                and word.rstrip("'’s").casefold() not in known_lower and not is_role_label(word))

    for d in docs:
        text = d["text"]
        for cue in STRONG_CUES:
            for m in cue.finditer(text):
                words = [g for g in m.groups() if g]
                if all(usable(w) for w in words):
                    name = " ".join(words) if len(words) > 1 else words[0]
                    strong.setdefault(name, Found(name, "person", "rule")).where.append(d["name"])
        starts = _sentence_starts(project, d["id"], text)
        for m in _WORD.finditer(text):
            w = re.sub(r"['’]s$", "", m.group())
            if usable(w) and w.casefold() not in lower_seen and not _at_sentence_start(text, m.start(), starts):
                weak[w] += 1
                weak_docs.setdefault(w, set()).add(d["name"])
                examples.setdefault(w, text[max(0, m.start() - 40):m.end() + 30].replace("\n", " "))
    sure = {part for f in strong.values() for part in f.text.split()}
    possible = [{"word": w, "count": n, "documents": sorted(weak_docs[w]), "example": examples[w]}
                for w, n in weak.most_common() if w not in sure]
    return list(strong.values()), possible


# --- trained pipelines (optional) ---------------------------------------------------------------

_NER_LABELS = {"person": {"PERSON", "PER"}, "place": {"GPE", "LOC", "FAC"}, "org": {"ORG"}}


def ner_pipeline(lang: str):
    """A trained pipeline with an entity recogniser for the language, or None.

    QUALCODE_NER_PIPELINE names one (a package or a folder); otherwise the trained pipelines
    qualcode.nlp.pipeline knows are tried. Nothing is downloaded.
    """
    if os.environ.get("QUALCODE_TRAINED_PIPELINES", "1") == "0":
        return None
    from qualcode.nlp.pipeline import _TRAINED, language_code

    names = [os.environ["QUALCODE_NER_PIPELINE"]] if os.environ.get("QUALCODE_NER_PIPELINE") else \
        _TRAINED.get(language_code(lang), [])
    for name in names:
        nlp = _load(name)
        if nlp is not None and {"ner", "entity_ruler"} & set(nlp.pipe_names):
            return nlp
    return None


_LOADED: dict[str, object] = {}


def _load(name: str):
    if name not in _LOADED:
        import importlib.util

        try:
            installed = os.path.exists(name) or importlib.util.find_spec(name.replace("-", "_")) is not None
        except (ImportError, ValueError):
            installed = False
        if not installed:    # no need to import spaCy to find that out
            _LOADED[name] = None
            return None
        try:
            import spacy
            _LOADED[name] = spacy.load(name, exclude=["parser", "lemmatizer", "tagger"])
        except (OSError, ImportError, ValueError):
            _LOADED[name] = None
    return _LOADED[name]


def ner_names(project, kinds: set[str], excluded: set[str]) -> tuple[list[Found], set[str]]:
    """Entities of the wanted kinds from trained pipelines, and the languages that had none."""
    from qualcode.ingest.limits import mask_long_runs

    wanted = {label: kind for kind in kinds for label in _NER_LABELS[kind]}
    # the stop list and attribute values (Baku, Russia) are not people, but may be the places wanted
    not_people = {w.casefold() for w in known_words(project) | excluded}
    not_wanted = {w.casefold() for w in excluded}
    found: dict[tuple[str, str], Found] = {}
    missing: set[str] = set()
    for d in project.query("SELECT id, name, text, language FROM documents ORDER BY position, name"):
        nlp = ner_pipeline(d["language"])
        if nlp is None:
            missing.add(d["language"])
            continue
        text = mask_long_runs(d["text"])
        paragraphs = [text[r["start"]:r["end"]] for r in project.query(
            'SELECT start, "end" FROM paragraphs WHERE document_id = ? ORDER BY start', (d["id"],))]
        for doc in nlp.pipe(paragraphs, batch_size=64):
            for ent in doc.ents:
                kind = wanted.get(ent.label_)
                name = ent.text.strip(" \t\n'\"’.,;:!?()[]")
                known = not_people if kind == "person" else not_wanted
                if kind and name and name.casefold() not in known and any(ch.isupper() for ch in name[:1]):
                    found.setdefault((kind, name), Found(name, kind, "ner")).where.append(d["name"])
    return list(found.values()), missing
