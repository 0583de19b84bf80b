"""The suggester learns in the background: after changes it learns from, once coding pauses.

Every change the app makes or notices (coding, decisions on suggestions, codebook edits, undo,
the CLI) calls `Learner.changed`. If the model's training key moved, a retrain is scheduled a
few quiet seconds later; never two at once, and one more afterwards if a change landed meanwhile.
The work runs on its own connection in a daemon thread that an async worker awaits: a Textual
thread worker would keep the app from closing until training finished, this one is dropped
when the app quits (a stop flag ends it at its next step; the model cache is replaced
atomically and a measurement is one transaction, so nothing is left half-written).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

LEARN_SECONDS = 3.0
UNIT = "sentence"          # what the app suggests on (see suggestion_runs.run_suggestions)

LEARNING = "learning from your coding…"
MEASURING = "measuring how reliable suggestions are…"
UP_TO_DATE = "suggestions up to date"
SHORT = {LEARNING: "learning…", MEASURING: "measuring…", UP_TO_DATE: "up to date"}   # for narrow windows


class Learner:
    """Schedules background learning for one app and says how far it is (`state`)."""

    def __init__(self, app, delay: float | None = LEARN_SECONDS) -> None:
        self.app = app
        self.delay = delay          # seconds of quiet before learning; None: never learn in the background
        self.state = ""             # a few words for the status line ("" = nothing to say)
        self.running = False
        self.again = False          # a change landed while learning: learn once more afterwards
        self.runs = 0
        self.learned_key: str | None = None
        self._seen_key: str | None = None
        self._timer = None
        self._stop = threading.Event()

    # --- scheduling (event loop) ---------------------------------------------------------------

    def changed(self) -> None:
        """The project changed: if the model learns from what changed, learn after a quiet spell."""
        if self.delay is None or self._stop.is_set():
            return
        from qualcode.nlp.model import training_key
        try:
            key = training_key(self.app.project, UNIT)
        except Exception:        # a locked or damaged file: the next change tries again
            return
        if key == self._seen_key:
            return               # e.g. our own measurement, or suggestions stored: nothing to learn
        self._seen_key = key
        if self._timer is not None:
            self._timer.stop()
        if not self.running and not self._has_codings():
            self._timer = None
            self._set("")        # nothing to learn from: the codebook alone speaks
            return
        self._timer = self.app.set_timer(self.delay, self._due, name="learn")
        self._set(self.state if self.running else LEARNING)

    def _due(self) -> None:
        self._timer = None
        if self.running:
            self.again = True
            return
        if not self._has_codings():
            self._set("")
            return
        if self._seen_key is not None and self._seen_key == self.learned_key:
            self._set(UP_TO_DATE)     # changed and changed back (an undo): already learned
            return
        self._start()

    def _start(self) -> None:
        self.running, self.again = True, False
        self.runs += 1
        self._set(LEARNING)
        self.app.run_worker(self._work(), name="learning", group="learn", exit_on_error=False)

    async def _work(self) -> None:
        from qualcode.ui.suggestion_runs import run_learning

        loop = asyncio.get_running_loop()

        def phase(name: str) -> None:     # called in the learning thread
            try:
                loop.call_soon_threadsafe(self._set, MEASURING if name == "measuring" else LEARNING)
            except RuntimeError:          # the app has closed
                pass

        path = self.app.project.path
        try:
            outcome = await in_daemon_thread(lambda: run_learning(path, UNIT, phase, self._stop), "qualcode-learn")
        except asyncio.CancelledError:
            self._stop.set()              # the app is closing: the thread stops at its next step
            raise
        except Exception as exc:          # a failed retrain ends as a message, never a crash
            self.running = False
            self._seen_key = None         # the next change of any kind tries again
            self._set("")
            if not self._stop.is_set():
                self.app.notify(f"Suggestions could not learn from the latest changes ({exc or type(exc).__name__}).",
                                severity="warning", markup=False, timeout=6)
                if self.again and self._timer is None:     # a change landed meanwhile: try once more for it
                    self.again = False
                    self._timer = self.app.set_timer(self.delay, self._due, name="learn")
            return
        finally:
            self.running = False
        if self._stop.is_set():
            return
        if outcome.get("trained"):
            self.learned_key = outcome.get("key")
        self.app.check_for_outside_changes()     # a new measurement shows at once
        if self._timer is not None:
            self.again = False                   # a change is still settling: its timer starts the next round
        elif self.again:
            self._due()
        else:
            self._set(UP_TO_DATE if outcome.get("trained") else "")

    def stop(self) -> None:
        """The app is closing: no more learning, and a running one ends at its next step."""
        self._stop.set()
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    # --- helpers ---------------------------------------------------------------------------------

    def _has_codings(self) -> bool:
        try:
            return self.app.project.one("SELECT 1 FROM codings LIMIT 1") is not None
        except Exception:
            return False

    def _set(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if not self._stop.is_set():       # after closing there is nothing left to tell
                self.app.learning_state_changed()


async def in_daemon_thread(fn: Callable, name: str):
    """Run fn in a daemon thread and await its result. Unlike a thread worker (run in the event
    loop's executor, which the app joins on exit), a daemon thread never holds up quitting."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(ok: bool, value) -> None:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)

    def run() -> None:
        try:
            result, ok = fn(), True
        except BaseException as exc:      # handed to the awaiting side
            result, ok = exc, False
        try:
            loop.call_soon_threadsafe(settle, ok, result)
        except RuntimeError:              # the loop has closed: nobody is waiting any more
            pass

    threading.Thread(target=run, name=name, daemon=True).start()
    return await future
