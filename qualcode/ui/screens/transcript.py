"""The coding screen: one transcript with its codings, the codebook beside it, suggestions under review."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea

from qualcode.codebook import all_codes
from qualcode.errors import QualcodeError
from qualcode.ui.screens.base import SectionScreen
from qualcode.ui.screens.coding_actions import CodingActions
from qualcode.ui.transcript_data import TranscriptData
from qualcode.ui.widgets.code_panel import CodePanel
from qualcode.ui.widgets.sidebar import CursorCodings, SuggestionCard
from qualcode.ui.widgets.transcript_view import TranscriptView
from qualcode.ui.widgets.work_progress import WorkProgress


class TranscriptScreen(CodingActions, SectionScreen):
    SECTION = "transcript"
    SELECT = Binding.Group("Select")
    REVIEW = Binding.Group("Suggestion", compact=True)
    BINDINGS = [
        Binding("1", "apply_favourite(1)", "Code", key_display="1-9"),
        *[Binding(str(n), f"apply_favourite({n})", f"Code with favourite {n}", show=False) for n in range(2, 10)],
        Binding("c", "pick_code", "Code with…"),
        Binding("x,delete", "remove_code", "Remove"),
        Binding("m", "memo", "Memo"),
        Binding("s", "select_unit('sentence')", "Select sentence (again: extend)", group=SELECT),
        Binding("t", "select_unit('turn')", "Select turn (again: extend)", group=SELECT),
        Binding("w", "select_unit('word')", "Select word (again: extend)", show=False),
        Binding("escape", "clear_selection", "Clear selection / stop reviewing", show=False),
        Binding("j", "move_sentence(1)", "Next sentence", show=False),
        Binding("k", "move_sentence(-1)", "Previous sentence", show=False),
        Binding("J,right_square_bracket", "move_turn(1)", "Next turn", show=False),
        Binding("K,left_square_bracket", "move_turn(-1)", "Previous turn", show=False),
        Binding("u,ctrl+z", "undo", "Undo"),
        Binding("U,ctrl+y", "redo", "Redo", show=False),
        Binding("i", "in_vivo", "New code from the selection (in vivo)", show=False),
        Binding("F", "pick_favourite", "Set a favourite number…", show=False),
        Binding("g", "suggest", "Suggest"),
        Binding("a", "accept_suggestion", "Accept suggestion", group=REVIEW),
        Binding("r", "reject_suggestion", "Reject suggestion", group=REVIEW),
        Binding("n", "next_suggestion(1)", "Next suggestion", group=REVIEW),
        Binding("N", "next_suggestion(-1)", "Previous suggestion", show=False),
        Binding("o", "app.toggle_others", "Show/hide other coders' codings", show=False),
        Binding("C", "app.switch_coder", "Switch coder…", show=False),
        Binding("b", "toggle_sidebar", "Show/hide the code panel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: TranscriptData | None = None
        self.codes: list[dict] = []
        self.favourites: dict[int, dict] = {}
        self.suggestion_index: int | None = None
        self._title = Text()
        self._note = Text()
        self._pending: tuple | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static("", id="title-line")
        with Horizontal(id="transcript-body"):
            yield TranscriptView(id="transcript")
            with Vertical(id="sidebar"):
                yield CodePanel(id="codes")
                yield CursorCodings("", id="here")
                yield SuggestionCard("", id="suggestion")
                yield WorkProgress(id="work")
        yield Static(Text("No document open. Press F2 for the document list and enter to open one.",
                          style="dim"), id="no-document")
        yield self.footer(palette=False)

    @property
    def view(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    def on_mount(self) -> None:
        self.query_one("#transcript-body").display = False
        self.query_one(SuggestionCard).display = False
        self._ready = True
        if self._pending is not None:
            self.request_document(*self._pending)

    def request_document(self, doc_id: str, select: tuple[int, int] | None = None,
                         suggestion_id: str | None = None) -> None:
        """Open a document now, or as soon as this screen is mounted."""
        if not self._ready:
            self._pending = (doc_id, select, suggestion_id)
            return
        self._pending = None
        try:
            self.load_document(doc_id, select, suggestion_id)
        except QualcodeError as exc:
            self.app.notify(str(exc), severity="error", markup=False)

    def on_resize(self) -> None:
        # a narrow terminal keeps most of its width for the text
        width = self.size.width
        self.query_one("#sidebar").styles.width = 30 if width < 90 else 36 if width < 130 else 44

    # --- loading ---------------------------------------------------------------------------

    def load_document(self, doc_id: str, select: tuple[int, int] | None = None,
                      suggestion_id: str | None = None) -> None:
        data = TranscriptData(self.app.project, doc_id)
        self.data = data
        self.suggestion_index = None
        self.query_one("#no-document").display = False
        self.query_one("#transcript-body").display = True
        view = self.view
        view.coder, view.show_others = self.app.coder, self.app.show_others
        self._load_codes()
        view.show_document(data)
        if select:
            view.select_span(*select)
            self.call_after_refresh(view.scroll_cursor_visible, center=True)
        if suggestion_id:
            ids = [s.id for s in data.suggestions]
            if suggestion_id in ids:
                self.suggestion_index = ids.index(suggestion_id)
                self.show_suggestion()
        self.say("j k sentence · J K turn · ? keys")
        self._update_title()
        self.update_side()
        view.focus()
        self._refresh_footer()

    def _load_codes(self) -> None:
        self.codes = all_codes(self.app.project)
        self.favourites = {c["shortcut"]: c for c in self.codes if c.get("shortcut")}
        self.query_one(CodePanel).show_codes(self.codes)

    def refresh_from_store(self) -> None:
        if self.data is None:
            return
        project = self.app.project
        row = project.one("SELECT text FROM documents WHERE id = ?", (self.data.id,))
        if row is None:
            self.data = None
            self.query_one("#transcript-body").display = False
            self.query_one("#no-document").display = True
            return
        if row["text"] != self.data.text:   # re-imported in a corrected version
            self.load_document(self.data.id)
            return
        self._load_codes()
        self.data.reload(project)
        view = self.view
        view.coder, view.show_others = self.app.coder, self.app.show_others
        if self.suggestion_index is not None and self.suggestion_index >= len(self.data.suggestions):
            self.suggestion_index = len(self.data.suggestions) - 1 if self.data.suggestions else None
        s = self.current_suggestion()
        view.focus_span = (s.start, s.end) if s else None
        view.restyle()
        self._update_title()
        self.update_side()
        self._refresh_footer()

    def _refresh_footer(self) -> None:
        """Redraw the footer only when the keys that matter changed (it is rebuilt each time)."""
        state = (self.data is not None, bool(self.data and self.data.suggestions),
                 self.current_suggestion() is not None)
        if state != getattr(self, "_footer_state", None):
            self._footer_state = state
            self.refresh_bindings()

    def after_change(self, note: str) -> None:
        """After a write of ours: re-read, and tell the other screens the project moved on."""
        self.app.note_change()
        self._seen_generation = self.app.generation
        self.refresh_from_store()
        self.say(note)

    # --- read-outs -------------------------------------------------------------------------

    def say(self, note: str, error: bool = False) -> None:
        """A short line about the last action, at the right of the title line."""
        self._note = Text(note, style="bold red" if error else "italic", no_wrap=True, overflow="ellipsis")
        self._show_title_line()

    def _show_title_line(self) -> None:
        grid = Table.grid(expand=True)
        grid.add_column(ratio=3, no_wrap=True, overflow="ellipsis")
        if self._note.plain:
            grid.add_column(ratio=2, no_wrap=True, overflow="ellipsis", justify="right")
            grid.add_row(self._title, self._note)
        else:
            grid.add_row(self._title)
        self.query_one("#title-line", Static).update(grid, layout=False)

    def _update_title(self) -> None:
        d = self.data
        if d is None:
            return
        visible = d.visible_codings(self.app.coder, self.app.show_others)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(d.name, style="bold")
        out.append(f"  {d.coded_share(visible):.0%} coded", style="dim")
        if not self.app.show_others:
            out.append(f" by {self.app.coder}", style="dim")
        details = [(d.type or "").replace("_", " ")] + [v for k, v in d.attributes.items() if k in ("city", "sector")]
        out.append(" · " + " · ".join(x for x in details if x), style="dim")
        self._title = out
        self._show_title_line()

    def update_side(self) -> None:
        if self.data is None:
            return
        view = self.view
        here = self.codings_here()
        span = view.selected_span
        offset = span[0] if span else view.cursor_offset
        speaker = self.data.speaker_at(offset)
        where = ("Selection" if span else "Cursor") + (f" · {speaker}" if speaker else "")
        self.query_one(CursorCodings).show(here, self.app.coder, where)
        s = self.current_suggestion()
        self.query_one(SuggestionCard).show(s, (self.suggestion_index or 0) + 1, len(self.data.suggestions))

    @on(TextArea.SelectionChanged)
    def _cursor_moved(self) -> None:
        self.update_side()

    # --- moving and selecting --------------------------------------------------------------

    def action_move_sentence(self, step: int) -> None:
        if self.data is None:
            return
        here = self.view.cursor_offset
        target = self.data.next_sentence(here) if step > 0 else self.data.previous_sentence(here)
        if target:
            self.view.move_to(target[0])

    def action_move_turn(self, step: int) -> None:
        if self.data is None:
            return
        here = self.view.cursor_offset
        target = self.data.next_turn(here) if step > 0 else self.data.previous_turn(here)
        if target:
            self.view.move_to(target[0])

    def action_select_unit(self, unit: str) -> None:
        """Select the word/sentence/turn at the cursor; pressed again, extend by one more."""
        if self.data is None:
            return
        view = self.view
        span = view.selected_span
        if span:
            start, end = self.data.extend(span[0], span[1], unit)
        else:
            here = view.cursor_offset
            found = {"word": self.data.word_at, "sentence": self.data.sentence_at,
                     "turn": self.data.turn_span_at}[unit](here)
            if not found:
                return
            start, end = found
        view.select_span(start, end)

    def action_clear_selection(self) -> None:
        if self.data is None:
            return
        if self.view.selected_span:
            self.view.move_to(self.view.cursor_offset)
        elif self.suggestion_index is not None:
            self.suggestion_index = None
            self.show_suggestion()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display

    # --- the code panel --------------------------------------------------------------------

    @on(CodePanel.CodeChosen)
    def _code_chosen(self, event: CodePanel.CodeChosen) -> None:
        if self.data is None:
            return
        if event.by_mouse and not self.view.selected_span:
            return      # a click only applies to text you selected; browsing the tree is safe
        path = next((c["path"] for c in self.codes if c["id"] == event.code_id), None)
        if path:
            self.apply(path)

    @on(CodePanel.FavouriteRequested)
    def _favourite(self, event: CodePanel.FavouriteRequested) -> None:
        self.set_favourite(event.code_id)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("accept_suggestion", "reject_suggestion"):
            return self.current_suggestion() is not None
        if action == "next_suggestion" and parameters == (1,):
            return bool(self.data and self.data.suggestions)
        if action == "suggest":
            return self.data is not None and not (self.data.suggestions)
        return True

    def reload_for_coder(self) -> None:
        """The coder or the show-others switch changed."""
        if self.data is not None:
            self.refresh_from_store()

