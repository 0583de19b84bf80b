"""Small modal dialogs: a fuzzy picker, a one-line prompt, a memo editor, a favourite number."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

NEW = "\x00new:"   # prefix of the value returned when the typed text should become something new


@dataclass
class Choice:
    value: str
    label: Text
    search: str          # what fuzzy matching looks at


class PickerScreen(ModalScreen[str | None]):
    """Type to narrow a list (fuzzy), arrows to move, enter to take. Returns the value or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(8)", "Page down", show=False),
        Binding("pageup", "move(-8)", "Page up", show=False),
    ]

    def __init__(self, title: str, choices: list[Choice], new_label: str | None = None,
                 placeholder: str = "type to filter", initial: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.new_label = new_label      # e.g. "New code": offer the typed text as a new item
        self.placeholder = placeholder
        self.initial = initial
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Input(value=self.initial, placeholder=self.placeholder, id="picker-input", compact=True)
            yield OptionList(id="picker-options", markup=False)
            yield Static(Text("enter choose · ↑↓ move · esc cancel", style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        self._filter(self.initial)
        self.query_one(Input).focus()

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    def _filter(self, query: str) -> None:
        query = query.strip()
        if query:
            matcher = Matcher(query)
            scored = [(matcher.match(c.search), i, c) for i, c in enumerate(self.choices)]
            ranked = [c for score, _, c in sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))]
        else:
            ranked = list(self.choices)
        options = [Option(c.label) for c in ranked]
        self._shown = [c.value for c in ranked]
        if self.new_label and query and not any(c.search.lower() == query.lower() for c in self.choices):
            options.append(Option(Text.assemble((f"+ {self.new_label}: ", "bold"), query)))
            self._shown.append(NEW + query)
        olist = self.query_one(OptionList)
        olist.set_options(options)
        olist.highlighted = 0 if options else None

    def action_move(self, step: int) -> None:
        olist = self.query_one(OptionList)
        if olist.option_count:
            current = olist.highlighted or 0
            olist.highlighted = max(0, min(olist.option_count - 1, current + step))

    @on(Input.Submitted, "#picker-input")
    def _submitted(self) -> None:
        olist = self.query_one(OptionList)
        if olist.highlighted is not None and self._shown:
            self.dismiss(self._shown[olist.highlighted])

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._shown[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a file name, a code name, a coder)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", hint: str = "enter save · esc cancel") -> None:
        super().__init__()
        self.title_text, self.value, self.hint = title, value, hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Input(value=self.value, id="prompt-input", compact=True)
            yield Static(Text(self.hint, style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class MemoScreen(ModalScreen[str | None]):
    """A memo: several lines of free text. ctrl+s saves, escape leaves it as it was."""

    BINDINGS = [Binding("ctrl+s", "save", "Save memo", priority=True), Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, text: str = "", context: str = "") -> None:
        super().__init__()
        self.title_text, self.text, self.context = title, text, context

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog memo-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            if self.context:
                yield Static(Text(self.context, style="italic dim"), classes="memo-context")
            yield TextArea(self.text, soft_wrap=True, id="memo-text", show_line_numbers=False)
            yield Static(Text("ctrl+s save · esc cancel (an empty memo removes it)", style="dim"),
                         classes="dialog-hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class FavouriteScreen(ModalScreen[int | None]):
    """Press 1–9 to make the code that favourite, 0 to clear it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                *[Binding(str(n), f"pick({n})", f"Favourite {n}", show=False) for n in range(10)]]

    def __init__(self, code_path: str) -> None:
        super().__init__()
        self.code_path = code_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text.assemble("Favourite number for ", (self.code_path, "bold")), classes="dialog-title")
            yield Static(Text("press 1–9 to assign, 0 to clear, esc to cancel", style="dim"), classes="dialog-hint")

    def action_pick(self, n: int) -> None:
        self.dismiss(n)

    def action_cancel(self) -> None:
        self.dismiss(None)
