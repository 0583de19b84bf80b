"""Per-code reliability measured when it is missing or out of date, and told in words."""

from __future__ import annotations

from support import file_digest
from test_suggest import TOPICS, build_project, code_sentences

from qualcode.nlp import model as modelmod
from qualcode.nlp import reliability
from qualcode.nlp.evaluate import SUMMARY_SETTING, evaluate
from qualcode.nlp.suggest import RELIABILITY_SETTING, THRESHOLD_SETTING
from qualcode.store.project import Project


def events(p: Project, kind: str) -> int:
    return p.one("SELECT COUNT(*) AS n FROM events WHERE kind = ? AND state = 'done'", (kind,))["n"]


def test_measured_once_in_one_evaluate_change_and_again_only_after_enough_new_coding(tmp_path):
    path = build_project(tmp_path, docs=5, coded=3)
    p = Project(path)
    try:
        codings, documents = reliability.coded(p)
        assert documents == 3 and codings > 0
        assert reliability.needs_measuring(p)                  # nothing measured yet
        key = modelmod.training_key(p, "sentence")
        folds = []
        result = reliability.measure(p, progress=lambda done, total: folds.append((done, total)))
        assert result is not None and folds[-1] == (3, 3)
        # one "evaluate" event holds the figures and what they were measured on; the model's key is unchanged
        assert events(p, "evaluate") == 1
        assert modelmod.training_key(p, "sentence") == key
        stored = p.setting(RELIABILITY_SETTING)
        assert set(TOPICS) <= set(stored)
        assert all({"precision", "recall", "f1", "n"} <= set(v) for v in stored.values())
        assert p.setting(reliability.MEASURED_SETTING) == {"codings": codings, "documents": 3, "key": key,
                                                           "unit": "sentence",
                                                           "codebook": reliability.codebook_fingerprint(p)}
        assert p.setting(SUMMARY_SETTING)["key"] == key and 0.1 <= p.setting(THRESHOLD_SETTING) <= 0.7
        assert not reliability.needs_measuring(p)
        assert all(v["right"] <= v["suggested"] and v["right"] <= v["n"] for v in stored.values())
        # the measurement is bookkeeping: undo steps over it to the researcher's last coding
        undone = p.undo()
        assert undone["kind"] != "evaluate" and p.setting(RELIABILITY_SETTING) == stored
        p.redo()
    finally:
        p.close()
    # a few codings more: not worth re-measuring; a document's worth more: it is
    from qualcode.coding import apply_code
    p = Project(path)
    try:
        apply_code(p, "I04", 0, 10, "Cards", "tester")
        assert not reliability.needs_measuring(p)
    finally:
        p.close()
    code_sentences(path, "I05")
    p = Project(path)
    try:
        assert reliability.coded(p)[0] >= codings + reliability.MIN_NEW
        assert reliability.needs_measuring(p)
    finally:
        p.close()


def test_one_coded_document_is_not_measured_and_says_what_it_needs(tmp_path):
    path = build_project(tmp_path, docs=3, coded=1)
    before = file_digest(path)
    p = Project(path)
    try:
        assert not reliability.needs_measuring(p)
        assert reliability.measure(p) is None
        assert reliability.for_code(p, "Cards") is None
        assert reliability.not_measured(p) == "not measured yet — needs codings in 2 documents"
    finally:
        p.close()
    assert file_digest(path) == before


def test_a_measurement_by_qualcode_evaluate_counts_until_the_coding_changes(tmp_path):
    path = build_project(tmp_path, docs=4, coded=2)
    p = Project(path)
    try:
        evaluate(p, curve=False)                      # as `qualcode evaluate` does
        assert p.setting(reliability.MEASURED_SETTING)["codings"] == reliability.coded(p)[0]
        assert not reliability.needs_measuring(p)
        code_sentences(path, "I03")
        assert reliability.needs_measuring(p)
    finally:
        p.close()


def test_figures_for_another_unit_or_codebook_are_measured_again(tmp_path):
    """Figures are kept by code path and unit: after a rename, or `evaluate --unit paragraph`
    overwriting them, the app's sentence figures are measured again."""
    from qualcode.codebook import rename_code

    path = build_project(tmp_path, docs=4, coded=2)
    p = Project(path)
    try:
        reliability.measure(p)
        assert not reliability.needs_measuring(p)
        evaluate(p, "paragraph", curve=False)
        assert reliability.needs_measuring(p, "sentence") and not reliability.needs_measuring(p, "paragraph")
        reliability.measure(p)
        rename_code(p, "Cards", "Card payments", "tester")
        assert reliability.needs_measuring(p)
        reliability.measure(p)
        assert reliability.for_code(p, "Card payments") is not None and not reliability.needs_measuring(p)
    finally:
        p.close()


def test_figures_are_looked_up_now_before_the_copy_in_the_evidence(tmp_path):
    path = build_project(tmp_path, docs=3, coded=2)
    p = Project(path)
    try:
        old = {"precision": 0.5, "recall": 0.5, "f1": 0.5, "n": 4}
        assert reliability.for_code(p, "Cards", {"reliability": old}) == old     # only the copy so far
        assert reliability.not_measured(p).startswith("not measured yet — it is measured in the background")
        reliability.measure(p)
        now = p.setting(RELIABILITY_SETTING)["Cards"]
        assert reliability.for_code(p, "Cards", {"reliability": old}) == now
        assert reliability.for_code(p, "No such code", {}) is None
        assert "had no codings" in reliability.not_measured(p)
    finally:
        p.close()


def test_figures_in_words():
    words = reliability.describe({"precision": 0.7, "recall": 0.6, "f1": 0.65, "n": 10})
    assert words == ("6 of 9 past suggestions right (precision 0.70), "
                     "found 6 of 10 coded sentences (recall 0.60), F1 0.65")
    words = reliability.describe({"precision": 0.0, "recall": 0.0, "f1": 0.0, "n": 1}, "turn")
    assert words == "no past suggestion right (precision 0.00), found 0 of 1 coded turn (recall 0.00), F1 0.00"
    assert "no coded sentences to find yet" in reliability.describe({"precision": 0, "recall": 0, "f1": 0, "n": 0})


def test_a_score_is_told_by_how_often_such_scores_were_right_when_tested(tmp_path):
    path = build_project(tmp_path, docs=4, coded=2)
    p = Project(path)
    try:
        assert reliability.score_meaning(p, 0.9) is None              # nothing tested yet
        reliability.measure(p)
        bins = p.setting(SUMMARY_SETTING)["calibration"]
        low = next(b for b in bins if b["bin"] == "0.0-0.2")
        said = reliability.score_meaning(p, 0.05)
        assert said.startswith("suggestions scored 0.0–0.2 were right")
        assert f"of {low['n']})" in said and f"{low['observed']:.0%}" in said
        assert reliability.score_meaning(p, 1.0) is None or "0.8–1.0" in reliability.score_meaning(p, 1.0)
    finally:
        p.close()
