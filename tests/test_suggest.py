"""Suggested codes: cold start from the codebook, learning from codings and decisions, the contract."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from support import file_digest, qc

CODEBOOK = """
name: Test codebook
codes:
  - name: Barriers
    description: What stops or costs people when they send or receive money.
    keywords: [problem]
    children:
      - name: Fees
        description: Commissions, charges and bad exchange rates on transfers.
        examples: ["The commission ate a tenth of the money."]
        keywords: [fee, commission, komissiya, charge]
        children: []
  - name: Cards
    description: Receiving money on bank cards and card-to-card transfers.
    keywords: [card, kart, karta]
    children: []
  - name: Family
    description: How the family spends the money at home, on food, school and the house.
    keywords: [school, food, house]
    children: []
"""

TOPICS = {
    "Barriers/Fees": ["The fee for the transfer was too high for us.",
                      "They took a big commission on every transfer.",
                      "The charge at the office grew again this year.",
                      "We lose money on the fee and the rate each month."],
    "Cards": ["Now he sends the money straight to my bank card.",
              "I receive it on the card and take it from the machine.",
              "Card to card is fast, it arrives in a minute.",
              "My son opened a card for me at the bank."],
    "Family": ["We spend it on food and the school books for the children.",
               "Most of it goes to repairs of the house.",
               "The children need clothes for school every autumn.",
               "We bought a cow and paid the gas for the house."],
}
QUESTIONS = {"Barriers/Fees": "How much does a transfer cost you?", "Cards": "How does the money arrive?",
             "Family": "What do you spend the money on?"}


def transcript(seed: int) -> str:
    lines = ["---", "type: expert_interview", "speakers:", "  Interviewer: {role: interviewer}",
             "  Respondent: {role: respondent}", "---"]
    order = list(TOPICS)
    order = order[seed % 3:] + order[:seed % 3]
    for k, topic in enumerate(order):
        lines.append(f"Interviewer: {QUESTIONS[topic]}")
        lines.append("")
        a, b = TOPICS[topic][(seed + k) % 4], TOPICS[topic][(seed + k + 1) % 4]
        lines.append(f"Respondent: {a} {b} It is like that for everyone here.")
        lines.append("")
    return "\n".join(lines) + "\n"


def code_sentences(path: Path, doc: str, coder: str = "tester") -> int:
    """Code every answer sentence of DOC with its topic's code, through `codings import`."""
    text = qc("--project", path, "text", doc).out
    rows = []
    for code, sentences in TOPICS.items():
        for s in sentences:
            start = text.find(s)
            if start >= 0:
                rows.append({"document": doc, "start": start, "end": start + len(s), "code": code, "coder": coder})
    jsonl = path.with_name(f"{doc}.codings.jsonl")
    jsonl.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert qc("--project", path, "codings", "import", jsonl).code == 0
    return len(rows)


def build_project(tmp_path: Path, docs: int = 6, coded: int = 4) -> Path:
    path = tmp_path / "s.db"
    files = []
    for i in range(docs):
        f = tmp_path / f"I{i + 1:02d}.md"
        f.write_text(transcript(i), encoding="utf-8")
        files.append(f)
    assert qc("--project", path, "import", *files).code == 0
    cb = tmp_path / "codebook.yaml"
    cb.write_text(CODEBOOK, encoding="utf-8")
    assert qc("--project", path, "codebook", "import", cb).code == 0
    for i in range(coded):
        code_sentences(path, f"I{i + 1:02d}")
    return path


@pytest.fixture
def coded(tmp_path) -> Path:
    return build_project(tmp_path)


def suggest(path, *args) -> list[dict]:
    r = qc("--project", path, "suggest", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_cold_start_uses_the_codebook_alone(tmp_path):
    path = build_project(tmp_path, docs=3, coded=0)
    out = suggest(path, "--min-score", "0")
    assert out
    text = qc("--project", path, "text", "I01").out
    for s in out:
        assert set(s) >= {"document", "start", "end", "code", "score", "evidence"}
        assert 0.0 <= s["score"] <= 1.0
        assert s["evidence"]["source"] == "codebook"
        assert s["model_version"]
    fee = text.find("The fee for the transfer")
    hit = [s for s in out if s["document"] == "I01" and s["start"] <= fee < s["end"] and s["code"] == "Barriers/Fees"]
    assert hit and "fee" in [t.lower() for t in hit[0]["evidence"]["matched_terms"]]
    best = max((s for s in out if s["document"] == "I01" and s["start"] <= fee < s["end"]), key=lambda s: s["score"])
    assert best["code"] == "Barriers/Fees"


def test_learned_suggestions_for_uncoded_documents(coded):
    out = suggest(coded, "I05", "I06", "--top", "1")
    assert {s["document"] for s in out} <= {"I05", "I06"}
    text = qc("--project", coded, "text", "I05").out
    right = 0
    for s in out:
        quote = text[s["start"]:s["end"]] if s["document"] == "I05" else None
        if quote and quote in TOPICS.get(s["code"], []):
            right += 1
        assert s["evidence"]["source"] == ("model" if s["code"] in TOPICS else "codebook")
    assert right >= 4
    fees = [s for s in out if s["code"] == "Barriers/Fees"]
    assert fees and fees[0]["evidence"]["theme"] == "Barriers"       # a sub-code implies its theme
    assert all(s["code"] != "Barriers" for s in out if (s["document"], s["start"]) in
               {(f["document"], f["start"]) for f in fees})
    examples = fees[0]["evidence"]["examples"]
    assert examples and examples[0]["document"] in {"I01", "I02", "I03", "I04"}
    assert examples[0]["text"] in TOPICS["Barriers/Fees"]


def test_suggestions_are_stored_replaced_and_never_repeat_decisions(coded):
    from qualcode.store.project import Project
    from qualcode.suggestions import accept_suggestion, open_suggestions, reject_suggestion

    suggest(coded, "I05")
    p = Project(coded)
    doc = p.one("SELECT id FROM documents WHERE name = 'I05'")["id"]
    first = open_suggestions(p, doc)
    assert first and all(s["status"] == "open" for s in first)
    accepted, rejected = first[0], first[1]
    accept_suggestion(p, accepted["id"])
    reject_suggestion(p, rejected["id"])
    version_before = first[0]["model_version"]
    p.close()
    out = suggest(coded, "I05")
    p = Project(coded)
    rows = p.query("SELECT status, code_id, start, \"end\", model_version FROM suggestions WHERE document_id = ?", (doc,))
    statuses = [r["status"] for r in rows]
    assert statuses.count("accepted") == 1 and statuses.count("rejected") == 1
    assert statuses.count("open") == len(out)
    keys = {(r["code_id"], r["start"], r["end"]) for r in rows if r["status"] == "open"}
    assert (rejected["code_id"], rejected["start"], rejected["end"]) not in keys
    # the accepted code is now a coding: never proposed again on that span
    assert not any(s["code"] == accepted["code"] and s["start"] < accepted["end"] and s["end"] > accepted["start"]
                   for s in out)
    # the decisions changed the training data, so the model was retrained
    assert {r["model_version"] for r in rows if r["status"] == "open"} != {version_before}
    p.close()


def test_never_suggests_a_code_already_applied(coded):
    text = qc("--project", coded, "text", "I05").out
    s = TOPICS["Cards"][0] if TOPICS["Cards"][0] in text else next(t for t in TOPICS["Cards"] if t in text)
    start = text.find(s)
    assert qc("--project", coded, "code", "I05", start, start + len(s), "Cards").code == 0
    out = suggest(coded, "I05", "--min-score", "0")
    assert not any(x["code"] == "Cards" and x["start"] < start + len(s) and x["end"] > start for x in out)


def test_rejections_teach_the_model(coded):
    from qualcode.nlp.model import ensure_model
    from qualcode.store.project import Project
    from qualcode.suggestions import reject_suggestion

    suggest(coded, "I05", "I06")
    p = Project(coded)
    key_before = ensure_model(p, "sentence").version
    rows = p.query("SELECT id FROM suggestions WHERE status = 'open' ORDER BY score DESC LIMIT 3")
    for r in rows:
        reject_suggestion(p, r["id"])
    model = ensure_model(p, "sentence")
    assert model.version != key_before
    p.close()


def test_model_is_cached_beside_the_project(coded, monkeypatch):
    from qualcode.nlp import model as modelmod
    from qualcode.store.project import Project

    suggest(coded, "I05")
    models = coded.with_name(coded.name + ".models")
    assert (models / "suggest-sentence.pickle").exists()
    modelmod._memory.clear()

    def no_training(*a, **k):
        raise AssertionError("retrained although nothing changed")

    monkeypatch.setattr(modelmod, "train", no_training)
    p = Project(coded)
    assert modelmod.ensure_model(p, "sentence").code_ids
    p.close()


def test_turn_unit_on_request(coded):
    out = suggest(coded, "I05", "--unit", "turn", "--top", "2")
    text = qc("--project", coded, "text", "I05").out
    turns = json.loads(qc("--project", coded, "turns", "I05", "--json").out)
    ends = {t["end"] for t in turns}
    assert out and all(s["unit"] == "turn" and s["end"] in ends for s in out)
    assert all(text[s["start"]:s["end"]].strip() for s in out)


def test_bad_input_leaves_the_project_unchanged(coded):
    before = file_digest(coded)
    r = qc("--project", coded, "suggest", "NoSuchDoc", "--json")
    assert r.code == 1 and r.err.startswith("error:") and "NoSuchDoc" in r.err
    r = qc("--project", coded, "suggest", "--top", "0")
    assert r.code == 1 and r.err.startswith("error:")
    r = qc("--project", coded, "suggest", "--min-score", "2")
    assert r.code == 1 and r.err.startswith("error:")
    assert file_digest(coded) == before


def test_suggestion_path_never_touches_the_network(coded, monkeypatch):
    from qualcode.nlp import model as modelmod

    modelmod._memory.clear()

    def refuse(*a, **k):
        raise AssertionError("network access during suggestion")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert suggest(coded, "I05", "I06")


def test_progress_is_reported_and_app_entry_point_works(coded):
    from qualcode.nlp.suggest import generate_suggestions
    from qualcode.store.project import Project

    seen = []
    p = Project(coded)
    out = generate_suggestions(p, ["I05"], unit="sentence", top=2, progress=lambda d, t: seen.append((d, t)))
    assert out and seen[-1][0] == seen[-1][1]
    assert all(s["document"] == "I05" and s["model_version"] for s in out)
    p.close()


def test_background_retrain_uses_its_own_connection(coded):
    from qualcode.nlp import model as modelmod

    modelmod._memory.clear()
    t = modelmod.retrain_in_background(coded, "sentence")
    t.join(timeout=120)
    assert not t.is_alive()
    assert (coded.with_name(coded.name + ".models") / "suggest-sentence.pickle").exists()


def test_cache_files_others_could_change_are_not_loaded(coded):
    """A pickle runs code when loaded: a cache file writable by others is ignored and rebuilt."""
    import os

    from qualcode.nlp import cache
    from qualcode.nlp import model as modelmod
    from qualcode.store.project import Project

    suggest(coded, "I05")
    models = coded.with_name(coded.name + ".models")
    cached = models / "suggest-sentence.pickle"
    assert oct(models.stat().st_mode & 0o777) == "0o700" and oct(cached.stat().st_mode & 0o777) == "0o600"
    assert cache.trusted_file(cached)
    os.chmod(cached, 0o666)
    assert not cache.trusted_file(cached)
    modelmod._memory.clear()
    p = Project(coded)
    key = modelmod.training_key(p, "sentence")
    assert cache.load(cached, key, modelmod.MODEL_FORMAT) is None
    assert modelmod.ensure_model(p, "sentence").code_ids          # retrained instead
    p.close()


def test_a_cache_write_cut_short_leaves_no_lasting_temporary_file(tmp_path):
    import os
    import time

    from qualcode.nlp import cache

    path = tmp_path / "p.db.models" / "suggest-sentence.pickle"
    path.parent.mkdir()
    stale = path.parent / "suggest-sentence.tmp999-1"       # a process killed while writing
    fresh = path.parent / "suggest-sentence.tmp998-1"       # another process writing right now
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - cache.STALE_SECONDS - 60
    os.utime(stale, (old, old))
    cache.save(path, "k", 1, {"a": 1})
    assert cache.load(path, "k", 1) == {"a": 1}
    assert not stale.exists() and fresh.exists()


def test_top_k_finds_each_rows_largest_values_also_among_ties_and_zeros():
    import numpy as np

    from qualcode.nlp.neighbours import top_k

    rng = np.random.default_rng(1)
    for c in (12, 120, 2000, 5003):
        for k in (1, 3, 10):
            s = rng.standard_normal((40, c)).astype(np.float32)
            s[:, ::3] = 0                                    # word-space similarities are mostly zeros
            got = np.sort(np.take_along_axis(s, top_k(s, k), 1), 1)
            assert np.array_equal(got, np.sort(s, 1)[:, -k:])
            assert all(len(set(row)) == k for row in top_k(s, k).tolist())


def test_a_model_trained_while_the_project_changed_is_not_cached(coded, monkeypatch):
    """A change landing mid-training (another connection) must not be baked into a model saved
    under the key from before it: after an undo the project would return to that key."""
    from qualcode.coding import apply_code
    from qualcode.nlp import model as modelmod
    from qualcode.store.project import Project

    real_train = modelmod.train

    def train_and_change(project, unit="sentence", **kw):
        out = real_train(project, unit, **kw)
        with Project(coded) as other:            # someone codes while we were training
            doc = other.one("SELECT name FROM documents ORDER BY name")["name"]
            code = other.one("SELECT path FROM codes ORDER BY path")["path"]
            apply_code(other, doc, 0, 5, code, "someone")
        return out

    modelmod._memory.clear()
    monkeypatch.setattr(modelmod, "train", train_and_change)
    with Project(coded) as p:
        key = modelmod.training_key(p, "sentence")
        modelmod.ensure_model(p, "sentence")
        assert modelmod.cache.load(modelmod.models_dir(p) / "suggest-sentence.pickle", key,
                                   modelmod.MODEL_FORMAT) is None
        assert (str(p.path), "model", "sentence") not in modelmod._memory
