"""A one-line progress read-out for work running in a background thread."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static


class WorkProgress(Horizontal):
    """Hidden when idle; shows what is running and how far it got (or a pulse when unknown)."""

    def compose(self) -> ComposeResult:
        yield Static("", classes="work-label")
        yield ProgressBar(total=None, show_eta=False, show_percentage=True, classes="work-bar")

    def on_mount(self) -> None:
        self.display = False

    def start(self, label: str) -> None:
        self.display = True
        self.query_one(Static).update(Text(label, no_wrap=True, overflow="ellipsis"))
        self.query_one(ProgressBar).update(total=None, progress=0)

    def step(self, fraction: float | None, note: str = "") -> None:
        bar = self.query_one(ProgressBar)
        if fraction:      # until there is real progress the bar pulses (e.g. while a model trains)
            bar.update(total=100, progress=max(0.0, min(1.0, fraction)) * 100)
        if note:
            self.query_one(Static).update(Text(note, no_wrap=True, overflow="ellipsis"))

    def stop(self) -> None:
        self.display = False
