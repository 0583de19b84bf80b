"""Emerging themes: topics in the text nobody has coded yet, offered as candidate new codes.

Found in a daemon thread on its own connection (`qualcode.nlp.themes`, NMF over the uncoded
sentences), so the app stays responsive and quitting never waits. `a` adds the highlighted
topic to the codebook (its top terms become the code's keywords, so suggestions can find it at
once); `enter` opens the transcript at the topic's strongest example.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

TERMS_SHOWN = 6


class EmergingThemes(ModalScreen):
    BINDINGS = [Binding("escape,q", "dismiss", "Close"),
                Binding("a", "add_code", "Add as code"),
                Binding("enter", "open_example", "Open example", show=False)]
    DEFAULT_CSS = """
    EmergingThemes { align: center middle; }
    EmergingThemes > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    EmergingThemes #themes-table { height: 1fr; }
    EmergingThemes #themes-detail { height: auto; max-height: 12; }
    """

    def __init__(self, project_path: Path):
        super().__init__()
        self.project_path = Path(project_path)
        self.topics: list[dict] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Emerging themes in uncoded text", classes="title")
            yield Static(Text("Finding topics in the sentences nobody has coded yet …", style="dim"), id="themes-note")
            yield DataTable(id="themes-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="themes-detail")
            yield Label(Text("a add as a code · enter open the strongest example · esc close", style="dim"))

    def on_mount(self) -> None:
        self.run_worker(self._find(), group="themes", exit_on_error=False)

    async def _find(self) -> None:
        from qualcode.ui.learning import in_daemon_thread

        def find() -> list[dict]:
            from qualcode.nlp.themes import emerging_themes
            from qualcode.store.project import Project

            with Project(self.project_path) as project:
                return emerging_themes(project)

        try:
            topics = await in_daemon_thread(find, "qualcode-themes")
        except Exception as exc:   # shown, never raised into the app
            self._note(Text(f"Could not find themes: {exc or type(exc).__name__}", style="red"))
            return
        self._show(topics)

    def _note(self, text: Text) -> None:
        self.query_one("#themes-note", Static).update(text)

    def _show(self, topics: list[dict]) -> None:
        self.topics = topics
        if not topics:
            self._note(Text("Not enough uncoded text to find themes (it needs at least 20 uncoded sentences).",
                            style="dim"))
            return
        self._note(Text(f"{len(topics)} topics, strongest first. A topic close to no code is a candidate for a "
                        "new one.", style="dim"))
        table = self.query_one(DataTable)
        table.add_columns("Top terms", "Sentences", "Closest code")
        for i, t in enumerate(topics):
            near = t.get("nearest_code")
            closest = Text(f"{near} ({t.get('nearest_similarity', 0):.2f})") if near else Text("—", style="dim")
            table.add_row(Text(", ".join(t["terms"][:TERMS_SHOWN])), str(t["units"]), closest, key=str(i))
        table.focus()
        self._detail()

    def current(self) -> dict | None:
        table = self.query_one(DataTable)
        if not self.topics or table.cursor_row is None or table.cursor_row >= len(self.topics):
            return None
        return self.topics[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _detail(self) -> None:
        t = self.current()
        out = Text(overflow="fold")
        if t is not None:
            out.append("terms: ", style="dim")
            out.append(", ".join(t["terms"]) + "\n")
            for ex in t["examples"]:
                out.append(f"{ex['document']}  ", style="dim")
                out.append(" ".join(ex["text"].split())[:200] + "\n")
        self.query_one("#themes-detail", Static).update(out)

    @on(DataTable.RowSelected)
    def action_open_example(self) -> None:
        t = self.current()
        if t is None or not t["examples"]:
            return
        ex = t["examples"][0]
        row = self.app.project.one("SELECT id FROM documents WHERE name = ?", (ex["document"],))
        if row is None:
            return
        self.dismiss()
        self.app.open_document(row["id"], select=(ex["start"], ex["end"]))

    def action_add_code(self) -> None:
        from qualcode.ui.screens.dialogs import PromptScreen

        t = self.current()
        if t is None:
            return
        name = " ".join(w.capitalize() for w in t["terms"][:2])

        def chosen(path: str | None) -> None:
            if not path:
                return
            from qualcode.codebook import add_code
            from qualcode.errors import QualcodeError

            try:
                add_code(self.app.project, path, self.app.coder,
                         description=f"Emerging theme found in uncoded text: {', '.join(t['terms'][:TERMS_SHOWN])}.",
                         keywords=list(t["terms"][:TERMS_SHOWN]))
            except QualcodeError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.app.note_change()
            self.notify(f"Added code {path} (its top terms are its keywords; u undoes it)", markup=False, timeout=4)

        self.app.push_screen(PromptScreen("New code for this theme (write Theme/Name to place it)", name), chosen)
