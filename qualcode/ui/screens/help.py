"""Every key binding, read from the screens themselves so the list cannot drift from the code."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

INTRO = ("qualcode codes transcripts with the keyboard. F2 lists the documents; enter opens one. Move by "
         "sentence with j/k or by turn with J/K; s selects the sentence (press again to extend), t the turn, "
         "w a word. A favourite number 1-9 codes the selection, or the sentence under the cursor when nothing "
         "is selected; c picks any code. Everything is saved the moment you do it; u undoes. ctrl+p finds "
         "any action by name. The mouse works too: drag to select, click a code to apply it to the selection.")


def _sections():
    from qualcode.ui.app import QualcodeApp
    from qualcode.ui.screens.documents import DocumentsScreen, DocumentTable
    from qualcode.ui.screens.quotes import QuotesScreen, QuoteTable
    from qualcode.ui.screens.reports import ReportsScreen
    from qualcode.ui.screens.review import ReviewScreen, ReviewTable
    from qualcode.ui.screens.transcript import TranscriptScreen
    from qualcode.ui.widgets.code_panel import CodePanel
    from qualcode.ui.widgets.transcript_view import TranscriptView

    return [
        (None, "Everywhere", [QualcodeApp.BINDINGS, [Binding("ctrl+p", "", "Command palette: every action by name")]]),
        ("documents", "Documents (F2)", [DocumentTable.BINDINGS, DocumentsScreen.BINDINGS]),
        ("transcript", "Transcript (F3)", [TranscriptScreen.BINDINGS]),
        ("transcript", "Transcript: moving and selecting", [TranscriptView.BINDINGS]),
        ("transcript", "Code panel (tab to reach it)", [CodePanel.BINDINGS]),
        ("quotes", "Quotes (F4)", [QuoteTable.BINDINGS, QuotesScreen.BINDINGS]),
        ("reports", "Reports (F5)", [ReportsScreen.BINDINGS]),
        ("review", "Review suggestions (F6)", [ReviewTable.BINDINGS, ReviewScreen.BINDINGS]),
        (None, "In a list or dialog", [[Binding("up,down", "", "Move"), Binding("enter", "", "Choose"),
                                        Binding("escape", "", "Cancel / close"), Binding("tab", "", "Next panel")]]),
    ]


def sections_for(current: str | None) -> list[tuple[str, list]]:
    """(title, binding lists): the keys of the screen you are on first, then the rest."""
    everything = _sections()
    first = [s for s in everything if s[0] == current and current]
    return [(title, groups) for _, title, groups in first + [s for s in everything if s not in first]]


def binding_rows(bindings) -> list[tuple[str, str]]:
    """(keys, description) per action, keys of one action joined; the tooltip, if any, describes."""
    rows: dict[str, tuple[list[str], str]] = {}
    for b in bindings:
        if isinstance(b, tuple):
            b = Binding(*b)
        if not b.description:
            continue
        keys = b.key_display if b.key_display and "," not in b.key else " ".join(_key(k) for k in b.key.split(","))
        # the footer has room for a word or two; a binding's tooltip says it in full
        entry = rows.setdefault(b.action + b.description, ([], b.tooltip or b.description))
        entry[0].append(keys)
    return [(" / ".join(keys), description) for keys, description in rows.values()]


def _key(key: str) -> str:
    names = {"question_mark": "?", "enter": "enter", "space": "space", "slash": "/", "left_square_bracket": "[", "right_square_bracket": "]",
             "escape": "esc", "delete": "del"}
    if key in names:
        return names[key]
    return key.upper() if key.startswith("f") and key[1:].isdigit() else key


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close help")]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help-dialog"):
            yield Label(Text("Keys", style="bold"), classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(Text(INTRO), classes="help-intro")
                for title, groups in sections_for(self.current):
                    table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
                    table.add_column(style="bold", width=16, no_wrap=True)
                    table.add_column()
                    for keys, description in binding_rows([b for g in groups for b in g]):
                        table.add_row(Text(keys), Text(description))
                    yield Static(Text(title, style="bold underline"), classes="help-section")
                    yield Static(table)
            yield Static(Text("esc close · ↑↓ scroll", style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()
