"""The suggester learns in the background after changes, and the Review card shows measured reliability."""

from __future__ import annotations

import json
import threading

import pytest

from qualcode.nlp import cache
from qualcode.nlp import model as modelmod
from qualcode.store.project import Project, new_id, now
from qualcode.ui.app import QualcodeApp
from qualcode.ui.learning import LEARNING, UP_TO_DATE
from qualcode.ui.screens.transcript import TranscriptScreen

pytestmark = pytest.mark.anyio

SIZE = (120, 30)
QUICK = 0.05        # seconds of quiet before learning, in tests


def model_file(path):
    with Project(path) as p:
        return modelmod.models_dir(p) / "suggest-sentence.pickle"


def learned(app, key: str) -> bool:
    return cache.load(model_file(app.project.path), key, modelmod.MODEL_FORMAT) is not None


def status(app) -> str:
    return str(app.screen.query_one("#nav-status").render())


async def settle_learning(pilot, limit: int = 1200):
    """Until no learning is waiting or running (bounded, in steps of the event loop)."""
    app = pilot.app
    for _ in range(limit):
        await pilot.pause(0.05)
        if not app.learning.running and app.learning._timer is None:
            await pilot.pause()
            return
    raise AssertionError("background learning did not finish")


async def open_document(pilot, name: str = "EI01_bank") -> TranscriptScreen:
    app = pilot.app
    doc = app.project.one("SELECT id FROM documents WHERE name = ?", (name,))
    app.open_document(doc["id"])
    await pilot.pause()
    assert isinstance(app.screen, TranscriptScreen) and app.screen.data.name == name
    return app.screen


def code(path, doc: str, phrase: str, code_path: str) -> None:
    """A coding made by another program (the CLI)."""
    from qualcode.coding import apply_code
    p = Project(path)
    try:
        text = p.one("SELECT text FROM documents WHERE name = ?", (doc,))["text"]
        s = text.index(phrase)
        apply_code(p, doc, s, s + len(phrase), code_path, "tester")
    finally:
        p.close()


def open_suggestion(path, doc: str, phrase: str, code_path: str, evidence: dict) -> None:
    p = Project(path)
    try:
        d = p.one("SELECT id, text FROM documents WHERE name = ?", (doc,))
        c = p.one("SELECT id FROM codes WHERE path = ?", (code_path,))
        s = d["text"].index(phrase)
        with p.change("suggest", "a suggestion to review") as ch:
            ch.insert("suggestions", {"id": new_id(), "document_id": d["id"], "code_id": c["id"], "start": s,
                                      "end": s + len(phrase), "unit": "sentence", "score": 0.8,
                                      "evidence": json.dumps(evidence), "model_version": "test", "status": "open",
                                      "created_at": now()})
    finally:
        p.close()


async def test_a_coding_in_the_app_is_learned_after_a_quiet_spell(project_path):
    app = QualcodeApp(project_path, "tester", poll=0, learn_delay=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        await open_document(pilot)
        assert app.learning.state == "" and not model_file(project_path).exists()
        await pilot.press("j", "j", "1")                 # code the respondent's first sentence
        assert app.project.one("SELECT COUNT(*) AS n FROM codings")["n"] == 1
        # learning starts at once (the pilot may already have waited for it to finish)
        assert app.learning.state in (LEARNING, UP_TO_DATE) and app.learning.state in status(app)
        await settle_learning(pilot)
        first = modelmod.training_key(app.project, "sentence")
        assert learned(app, first)
        assert app.learning.state == UP_TO_DATE and UP_TO_DATE in status(app)
        assert app.learning.runs == 1
        # the next coding makes a new key, and the model file follows it
        await pilot.press("j", "2")
        await settle_learning(pilot)
        second = modelmod.training_key(app.project, "sentence")
        assert second != first and learned(app, second) and not learned(app, first)
        assert app.learning.runs == 2
        # one document coded: nothing to measure, and the project gained no measurement
        assert app.project.one("SELECT COUNT(*) AS n FROM events WHERE kind = 'evaluate'")["n"] == 0


async def test_without_codings_nothing_is_learned(project_path):
    app = QualcodeApp(project_path, "tester", poll=0, learn_delay=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await open_document(pilot)
        await pilot.press("j", "j", "1", "u")            # code, and undo it within the quiet spell
        assert app.project.one("SELECT COUNT(*) AS n FROM codings")["n"] == 0
        await settle_learning(pilot)
        assert app.learning.runs == 0 and app.learning.state == ""
        assert not model_file(project_path).exists()


async def test_reliability_is_measured_in_the_background_and_shown_on_the_review_card(project_path):
    code(project_path, "EI01_bank", "The fees at the bank are high", "Barriers/Fees")
    open_suggestion(project_path, "FG01_lankaran", "The commission is small.", "Barriers/Fees",
                    {"matched_terms": ["commission"]})
    app = QualcodeApp(project_path, "tester", poll=0.05, learn_delay=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        detail = lambda: str(app.screen.query_one("#review-detail").render())   # noqa: E731
        assert "Barriers/Fees" in detail()
        assert "not measured yet — needs codings in 2 documents" in detail()
        # the CLI codes a second document; the app notices, learns, measures, and the card shows it
        code(project_path, "FG01_lankaran", "My husband sends it from Russia every month.", "Barriers/Fees")
        await pilot.pause(0.3)
        await settle_learning(pilot)
        assert app.learning.runs == 1 and app.learning.state == UP_TO_DATE
        stored = app.project.setting("suggest.reliability")
        assert "Barriers/Fees" in stored
        fees = stored["Barriers/Fees"]
        assert "past suggestions right" in detail() or "no past suggestion right" in detail()
        assert f"(precision {fees['precision']:.2f})" in detail()
        assert f"of {fees['n']} coded sentence" in detail() and f"F1 {fees['f1']:.2f}" in detail()
        assert app.project.setting("suggest.reliability_measured")["documents"] == 2
        assert "score: suggestions scored 0.8–1.0 were right" in detail()     # what a score of 0.8 has meant
        # the measurement changed nothing the model learns from: no second round
        await pilot.pause(0.3)
        await settle_learning(pilot)
        assert app.learning.runs == 1


async def test_a_change_while_learning_is_learned_afterwards_never_two_at_once(project_path):
    app = QualcodeApp(project_path, "tester", poll=0, learn_delay=QUICK)
    async with app.run_test(size=SIZE) as pilot:
        await open_document(pilot)
        with modelmod._lock:                          # training waits for this lock: it is "still training"
            await pilot.press("j", "j", "1")
            for _ in range(200):
                await pilot.pause(0.05)
                if app.learning.running:
                    break
            assert app.learning.running and app.learning.runs == 1
            await pilot.press("j", "2")               # lands while the first round trains
            await pilot.pause(QUICK * 6)
            assert app.learning.runs == 1 and app.learning.again
        await settle_learning(pilot)
        assert app.learning.runs == 2
        assert learned(app, modelmod.training_key(app.project, "sentence"))


async def test_quitting_while_learning_neither_waits_nor_leaves_anything_half_written(project_path):
    release = threading.Timer(60, lambda: modelmod._lock.locked() and modelmod._lock.release())
    modelmod._lock.acquire()                          # training is held "in progress"
    try:
        release.start()                               # if the app waited for training, free it eventually
        app = QualcodeApp(project_path, "tester", poll=0, learn_delay=QUICK)
        async with app.run_test(size=SIZE) as pilot:
            await open_document(pilot)
            await pilot.press("j", "j", "1")
            for _ in range(200):
                await pilot.pause(0.05)
                if app.learning.running:
                    break
            assert app.learning.running
        threads = [t for t in threading.enumerate() if t.name == "qualcode-learn"]
        assert threads and threads[0].is_alive()       # the app closed while training was still going
    finally:
        release.cancel()
        if modelmod._lock.locked():
            modelmod._lock.release()
    threads[0].join(60)
    assert not threads[0].is_alive()                   # it stopped at its next step
    assert not model_file(project_path).exists()
    assert not [f for f in model_file(project_path).parent.glob("*.tmp*")]      # no half-written cache file
    p = Project(project_path)
    try:
        assert p.one("PRAGMA integrity_check")[0] == "ok"
        assert p.one("SELECT COUNT(*) AS n FROM codings")["n"] == 1
        assert p.one("SELECT COUNT(*) AS n FROM events WHERE kind = 'evaluate'")["n"] == 0
    finally:
        p.close()


def test_background_learning_keeps_the_redo_history(project_path):
    from qualcode.ui.suggestion_runs import run_learning

    code(project_path, "EI01_bank", "The fees at the bank are high", "Barriers/Fees")
    code(project_path, "FG01_lankaran", "The commission is small.", "Barriers/Fees")
    code(project_path, "FG01_lankaran", "My son uses a transfer app.", "Channels/Cards")
    p = Project(project_path)
    try:
        undone = p.undo()
        phases = []
        out = run_learning(project_path, "sentence", phases.append, threading.Event())
        assert out["trained"] and out["measured"] and phases == ["learning", "measuring"]
        assert p.setting("suggest.reliability")
        assert p.redo()["seq"] == undone["seq"]          # redo still there, the measurement stepped over
        # and undo takes back the researcher's coding, not the measurement made after it
        assert p.undo()["seq"] == undone["seq"]
        assert p.setting("suggest.reliability")
    finally:
        p.close()


async def test_a_stale_model_is_brought_up_to_date_when_the_app_opens(project_path):
    # coded with the CLI while the app was closed: the app learns without waiting for a change
    code(project_path, "EI01_bank", "The fees at the bank are high", "Barriers/Fees")
    app = QualcodeApp(project_path, "tester", poll=0, learn_delay=QUICK, learn_at_start=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(1.2)
        await settle_learning(pilot)
        assert learned(app, modelmod.training_key(app.project, "sentence")) and app.learning.runs == 1
