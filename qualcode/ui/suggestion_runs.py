"""Running the suggester from the app: in a worker thread, on its own connection.

`qualcode.nlp.suggest.generate_suggestions` may or may not store what it proposes; when it
only returns them, they are stored here through the write path so they can be reviewed.
`run_learning` brings the model (and the per-code reliability) up to date in the background.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Callable

from qualcode.errors import QualcodeError
from qualcode.store.project import Project, new_id, now


def load_generator():
    """The suggester, or a one-line reason why it is not available."""
    try:
        from qualcode.nlp.suggest import generate_suggestions
    except (ImportError, AttributeError) as exc:
        raise QualcodeError(f"suggestions are not available yet ({exc})") from None
    return generate_suggestions


def run_suggestions(path: Path, documents: list[str] | None, coder: str,
                    progress: Callable[[float | None, str], None]) -> int:
    """Generate suggestions for some documents (None = all); returns how many are open for them."""
    generate = load_generator()
    project = Project(path)    # this thread's own connection
    try:
        def report(*args, **kwargs):
            progress(*_progress_args(args, kwargs))

        results = generate(project, documents=documents, unit="sentence", top=3, progress=report) or []
        _store_missing(project, results, coder)
        sql = "SELECT COUNT(*) AS n FROM suggestions s JOIN documents d ON d.id = s.document_id WHERE s.status = 'open'"
        params: list = []
        if documents:
            sql += f" AND d.name IN ({','.join('?' * len(documents))})"
            params = list(documents)
        return project.one(sql, params)["n"]
    finally:
        project.close()


def _progress_args(args: tuple, kwargs: dict) -> tuple[float | None, str]:
    """Accept the shapes a progress callback is commonly given: (done, total), (fraction), (text)."""
    numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
    texts = [str(a) for a in args if isinstance(a, str)] + [str(v) for v in kwargs.values() if isinstance(v, str)]
    fraction = None
    if len(numbers) >= 2 and numbers[1]:
        fraction = numbers[0] / numbers[1]
    elif len(numbers) == 1 and 0 <= numbers[0] <= 1:
        fraction = float(numbers[0])
    return fraction, " ".join(texts)


def _store_missing(project: Project, results: list[dict], coder: str) -> None:
    docs = {r["name"]: r["id"] for r in project.query("SELECT id, name FROM documents")}
    codes = {r["path"]: r["id"] for r in project.query("SELECT id, path FROM codes")}
    have = {(r["document_id"], r["code_id"], r["start"], r["end"]) for r in project.query(
        "SELECT document_id, code_id, start, \"end\" FROM suggestions")}
    rows = []
    for r in results:
        doc_id, code_id = docs.get(r.get("document")), codes.get(r.get("code"))
        if not doc_id or not code_id:
            continue
        key = (doc_id, code_id, int(r["start"]), int(r["end"]))
        if key in have:
            continue
        have.add(key)
        rows.append({"id": new_id(), "document_id": doc_id, "code_id": code_id, "start": key[2], "end": key[3],
                     "unit": r.get("unit", "sentence"), "score": float(r.get("score", 0.0)),
                     "evidence": json.dumps(r.get("evidence") or {}, ensure_ascii=False),
                     "model_version": r.get("model_version"), "status": "open", "created_at": now()})
    if rows:
        with project.change("suggestion", f"Stored {len(rows)} suggestions", coder) as ch:
            ch.insert_many("suggestions", rows)


class Stopped(Exception):
    """The app is closing: background learning gives up at its next step."""


def run_learning(path: Path, unit: str, phase: Callable[[str], None], stop: threading.Event) -> dict:
    """Retrain the cached model, then re-measure reliability if it is missing or out of date.

    Returns {"trained": bool, "key": training key learned, "measured": bool}. `phase` is told
    "learning" and "measuring"; once `stop` is set the next progress step raises Stopped (the
    model cache is replaced atomically and the measurement is one transaction: nothing half-done
    is left behind)."""
    from qualcode.nlp import model as modelmod
    from qualcode.nlp import reliability

    def check(*_):
        if stop.is_set():
            raise Stopped()

    project = Project(path)    # this thread's own connection
    try:
        if project.one("SELECT 1 FROM codings LIMIT 1") is None:
            return {"trained": False, "key": None, "measured": False}
        key = modelmod.training_key(project, unit)
        phase("learning")
        modelmod.ensure_model(project, unit, progress=check)
        check()
        measured = False
        # a measurement is bookkeeping: undo and redo step over it, the redo history stays
        if reliability.needs_measuring(project, unit):
            phase("measuring")
            measured = reliability.measure(project, unit, progress=check) is not None
        return {"trained": True, "key": key, "measured": measured}
    finally:
        project.close()


def suggest_in_background(screen, documents: list[str] | None, progress: Callable, done: Callable) -> bool:
    """Suggest for some documents (None = all) from a screen: a daemon thread on its own connection,
    awaited by an async worker, so quitting never waits for it (what it stores is one transaction).
    `progress(fraction, note)` and `done(open_count | None, error)` run on the event loop. Returns
    False, doing nothing, while an earlier run is still going."""
    from qualcode.ui.learning import in_daemon_thread

    app = screen.app
    if app.suggesting:
        return False
    app.suggesting = True
    path, coder = app.project.path, app.coder

    def report(fraction, note) -> None:
        try:
            app.call_from_thread(progress, fraction, note)
        except RuntimeError:      # the app has closed
            pass

    async def work() -> None:
        try:
            n = await in_daemon_thread(lambda: run_suggestions(path, documents, coder, report), "qualcode-suggest")
        except Exception as exc:  # a failing suggester ends as a message, not a crash
            done(None, str(exc) or type(exc).__name__)
            return
        finally:
            app.suggesting = False
        done(n, "")

    screen.run_worker(work(), group="suggest", exit_on_error=False)
    return True
