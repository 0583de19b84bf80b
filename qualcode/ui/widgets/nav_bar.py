"""The top line: where you are, where the function keys go, and who is coding."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

SECTIONS = [("f2", "documents", "Documents"), ("f3", "transcript", "Transcript"), ("f4", "quotes", "Quotes"),
            ("f5", "reports", "Reports"), ("f6", "review", "Review")]


class NavBar(Horizontal):
    def __init__(self, current: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.current = current

    def compose(self) -> ComposeResult:
        yield Static(self._sections(), id="nav-sections")
        yield Static("", id="nav-status")

    def _sections(self) -> Text:
        out = Text(" ", no_wrap=True, overflow="ellipsis")
        for key, mode, title in SECTIONS:
            click = Style.from_meta({"@click": f"app.go('{mode}')"})
            if mode == self.current:
                out.append(f"{key.upper()} {title}", style=Style(bold=True, reverse=True) + click)
            else:
                out.append(key.upper(), style=Style(dim=True) + click)
                out.append(f" {title}", style=click)
            out.append(" ")
        return out

    def set_status(self, text: str) -> None:
        self.query_one("#nav-status", Static).update(Text(text, no_wrap=True, overflow="ellipsis",
                                                          justify="right"), layout=False)
