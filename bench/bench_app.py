"""The app's speed on the demo project, against Textual's minimal app in the same run.

1. Time to first paint: a fresh process on a pseudo-terminal (80×24), from spawn until the
   first screen's text arrives on the terminal. Baseline: a minimal Textual app (one Static).
2. Time to open the longest demo transcript: from the request until the frame showing it is
   rendered (headless). Baseline: the same text loaded into a plain TextArea in a minimal app.
3. Key to screen for applying a code: from pressing a favourite number until the frame with the
   new coding is rendered (headless), median of 25. Baseline: a minimal app whose key updates a label.

Targets: first paint < 1 s, open < 200 ms, key to screen < 50 ms (median).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import record  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RUNS = 5

MINIMAL_APP = """
import sys
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("Hello from the baseline")
Minimal().run()
"""

QUALCODE_APP = """
import sys
from pathlib import Path
from qualcode.ui.app import run
run(Path(sys.argv[1]), "bench")
"""


# --- 1. first paint on a real pseudo-terminal ---------------------------------------------------

def first_paint(code: str, args: list[str], marker: bytes) -> float:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    env.pop("TEXTUAL", None)
    started = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-c", code, *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=REPO, start_new_session=True)
    os.close(slave)
    seen = b""
    elapsed = None
    try:
        while time.perf_counter() - started < 30:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in seen.replace(b"\x1b", b""):
                    elapsed = time.perf_counter() - started
                    break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        os.close(master)
    if elapsed is None:
        raise RuntimeError(f"never saw {marker!r} on the terminal")
    return elapsed


# --- 2 and 3. headless: request -> rendered frame ----------------------------------------------

class FrameClock:
    """Timestamps of rendered frames (Textual calls App._display once per screen update)."""

    def __init__(self) -> None:
        import textual.app as textual_app
        self.frames: list[float] = []
        original = textual_app.App._display
        clock = self

        def display(app, screen, renderable):
            if renderable is not None:
                clock.frames.append(time.perf_counter())
            return original(app, screen, renderable)

        textual_app.App._display = display

    def after(self, t: float) -> float | None:
        later = [f for f in self.frames if f >= t]
        return later[0] if later else None


async def wait_for_frame(clock: FrameClock, since: float, pilot) -> float:
    for _ in range(400):
        frame = clock.after(since)
        if frame is not None:
            return frame
        await asyncio.sleep(0.002)
    raise RuntimeError("no frame was rendered")


async def measure_open_and_apply(demo: Path, clock: FrameClock) -> dict:
    from qualcode.ui.app import QualcodeApp

    out: dict = {}
    app = QualcodeApp(demo, "bench", poll=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)        # the list is shown and the idle warm-up has run
        longest = app.project.one("SELECT id, name, length(text) AS n FROM documents ORDER BY n DESC LIMIT 1")
        out["longest"] = (longest["name"], longest["n"])
        opens = []
        for i in range(RUNS + 1):
            await pilot.pause(0.1)
            t = time.perf_counter()
            app.open_document(longest["id"])
            opens.append(await wait_for_frame(clock, time.perf_counter(), pilot) - t)
            await pilot.pause(0.1)
            app.action_go("documents")
        out["open_first"], out["open"] = opens[0], statistics.median(opens[1:])

        app.open_document(longest["id"])
        await pilot.pause(0.2)
        screen = app.screen
        number = next(n for n in range(1, 10) if n in screen.favourites)
        finished: list[float] = []
        original = screen.after_change

        def after_change(note):
            original(note)
            finished.append(time.perf_counter())

        screen.after_change = after_change
        keys = []
        for i in range(25):
            await pilot.press("j")
            await pilot.pause(0.05)
            finished.clear()
            t = time.perf_counter()
            await pilot.press(str(number))
            while not finished:
                await asyncio.sleep(0.001)
            keys.append(await wait_for_frame(clock, finished[0], pilot) - t)
        out["key"] = statistics.median(keys)
        out["key_p90"] = sorted(keys)[int(len(keys) * 0.9)]
    return out


async def measure_baselines(text: str, clock: FrameClock) -> dict:
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Static, TextArea

    class Minimal(App):
        BINDINGS = [Binding("1", "bump", "Bump")]

        def __init__(self):
            super().__init__()
            self.n = 0

        def compose(self):
            yield Static("0", id="label")
            yield TextArea("", read_only=True, soft_wrap=True, id="area")

        def action_bump(self):
            self.n += 1
            self.query_one("#label", Static).update(str(self.n))

    out: dict = {}
    app = Minimal()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        opens = []
        for i in range(RUNS):
            area = app.query_one(TextArea)
            t = time.perf_counter()
            area.load_text(text if i % 2 == 0 else text + " ")
            opens.append(await wait_for_frame(clock, time.perf_counter(), pilot) - t)
            await pilot.pause(0.1)
        out["open"] = statistics.median(opens)
        keys = []
        for i in range(25):
            await pilot.pause(0.05)
            t = time.perf_counter()
            await pilot.press("1")      # the label's frame may already be out when press returns
            keys.append(await wait_for_frame(clock, t, pilot) - t)
        out["key"] = statistics.median(keys)
    return out


def main() -> None:
    from qualcode.demo import build_demo
    from qualcode.store.project import Project

    folder = Path(tempfile.mkdtemp(prefix="bench-app-"))
    demo = folder / "demo.db"
    build_demo(demo)
    paint_base = statistics.median(first_paint(MINIMAL_APP, [], b"Hello from the baseline") for _ in range(RUNS))
    paint_app = statistics.median(first_paint(QUALCODE_APP, [str(demo)], b"EI01_migration") for _ in range(RUNS))

    clock = FrameClock()
    app = asyncio.run(measure_open_and_apply(demo, clock))
    with Project(demo) as project:
        text = project.one("SELECT text FROM documents WHERE name = ?", (app["longest"][0],))["text"]
    base = asyncio.run(measure_baselines(text, clock))
    ms = lambda s: f"{s * 1000:.0f}"  # noqa: E731
    load = os.getloadavg()[0]
    record("App", [
        f"Demo project: 66 documents; longest transcript {app['longest'][0]} ({app['longest'][1]:,} characters). "
        f"Load average during the run: {load:.1f} on 2 cores"
        + (" (other work was running; figures are noisy)." if load > 2.5 else "."),
        "",
        "| what | qualcode app | baseline (minimal Textual app) | target |",
        "|---|---:|---:|---:|",
        f"| time to first paint, fresh process on an 80×24 pty | {ms(paint_app)} ms | {ms(paint_base)} ms | < 1000 ms |",
        f"| open the longest transcript (request → rendered frame), median | {ms(app['open'])} ms | "
        f"{ms(base['open'])} ms (plain TextArea.load_text) | < 200 ms |",
        f"| … the first open of a session (builds the transcript screen) | {ms(app['open_first'])} ms | | |",
        f"| key to screen, applying a code with 1–9, median of 25 | {ms(app['key'])} ms "
        f"(p90 {ms(app['key_p90'])} ms) | {ms(base['key'])} ms (key updates a label) | < 50 ms |",
        "",
        f"First paint is {paint_app / paint_base:.1f}× the minimal app's; opening a transcript "
        f"{app['open'] / base['open']:.1f}× a bare TextArea load; a coding reaches the screen "
        f"{app['key'] / base['key']:.1f}× as late as a bare label update (it is written to SQLite first).",
    ])


if __name__ == "__main__":
    main()
