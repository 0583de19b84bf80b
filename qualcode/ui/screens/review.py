"""The review queue: open suggestions across the corpus, most useful first; accept, reject, open."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from qualcode.errors import QualcodeError
from qualcode.suggestions import accept_suggestion, open_suggestions, reject_suggestion
from qualcode.ui.screens.base import SectionScreen
from qualcode.ui.suggestion_runs import suggest_in_background
from qualcode.ui.widgets.sidebar import evidence_text, reliability_text, score_meaning
from qualcode.ui.widgets.work_progress import WorkProgress

QUEUE_LIMIT = 2000


class ReviewTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open")]


class ReviewScreen(SectionScreen):
    SECTION = "review"
    BINDINGS = [
        Binding("a", "decide(True)", "Accept"),
        Binding("r", "decide(False)", "Reject"),
        Binding("n", "next", "Next"),
        Binding("g", "suggest_all", "Suggest all"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict] = []
        self.texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static("", id="review-summary")
        yield ReviewTable(id="review", cursor_type="row")
        yield Static("", id="review-detail")
        yield WorkProgress(id="review-work")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one(ReviewTable).focus()

    def refresh_from_store(self) -> None:
        project = self.app.project
        table = self.query_one(ReviewTable)
        keep = table.cursor_row if table.row_count else 0
        self.items = open_suggestions(project, limit=QUEUE_LIMIT)
        doc_ids = {s["document_id"] for s in self.items}
        self.texts = {r["id"]: r["text"] for r in project.query(
            f"SELECT id, text FROM documents WHERE id IN ({','.join('?' * len(doc_ids))})", list(doc_ids))} \
            if doc_ids else {}
        table.clear(columns=True)
        table.add_column(Text("Score", justify="right"), key="score")
        table.add_column("Code", key="code")
        table.add_column("Document", key="doc")
        table.add_column("Text", key="text")
        # the code and document columns are clipped so the text keeps most of the width
        width = max(20, self.size.width - (CODE_WIDTH + DOC_WIDTH + 16))
        for i, s in enumerate(self.items):
            quote = " ".join(self.texts.get(s["document_id"], "")[s["start"]:s["end"]].split())
            table.add_row(Text(f"{s['score']:.2f}", justify="right"), Text(_clip_start(s["code"], CODE_WIDTH)),
                          Text(s["document"] if len(s["document"]) <= DOC_WIDTH
                               else s["document"][:DOC_WIDTH - 1] + "…"),
                          Text(quote[:width] + ("…" if len(quote) > width else "")), key=str(i))
        if self.items:
            table.move_cursor(row=min(keep, len(self.items) - 1))
        summary = Text()
        if self.items:
            summary.append(f"{len(self.items)} open suggestion{'s' * (len(self.items) != 1)}", style="bold")
            summary.append(", highest score first. Accepting makes a coding by ", style="dim")
            summary.append(self.app.coder)
            summary.append("; both answers teach the suggester.", style="dim")
        else:
            summary.append("No open suggestions. Press g to ask for suggestions on every document "
                           "(the suggester learns from the codings you made).", style="dim")
        self.query_one("#review-summary", Static).update(summary)
        self._detail()

    def current(self) -> dict | None:
        table = self.query_one(ReviewTable)
        if not self.items or table.cursor_row is None or table.cursor_row >= len(self.items):
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _detail(self) -> None:
        s = self.current()
        out = Text(overflow="fold")
        if s is not None:
            text = self.texts.get(s["document_id"], "")
            out.append(f"{s['document']} {s['start']}–{s['end']} · ", style="dim")
            out.append("● ", style=s.get("color") or "grey50")
            out.append(s["code"], style="bold")
            out.append(f" · score {s['score']:.2f}\n", style="dim")
            out.append(" ".join(text[s["start"]:s["end"]].split()))
            out.append("\n")
            out.append(reliability_text(self.app.project, s["code"], s["evidence"]))
            out.append("\n")
            meaning = score_meaning(self.app.project, s["score"])
            if meaning:
                out.append("score: ", style="dim")
                out.append(meaning + "\n")
            out.append(evidence_text(s["evidence"]))
        self.query_one("#review-detail", Static).update(out)

    @on(DataTable.RowSelected)
    def _open(self) -> None:
        s = self.current()
        if s is not None:
            self.app.open_document(s["document_id"], suggestion_id=s["id"])

    def action_decide(self, accept: bool) -> None:
        s = self.current()
        if s is None:
            return
        try:
            (accept_suggestion if accept else reject_suggestion)(self.app.project, s["id"], self.app.coder)
        except QualcodeError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.app.note_change()
        self._seen_generation = self.app.generation
        self.refresh_from_store()

    def action_next(self) -> None:
        table = self.query_one(ReviewTable)
        if self.items:
            table.move_cursor(row=((table.cursor_row or 0) + 1) % len(self.items))

    def action_suggest_all(self) -> None:
        if suggest_in_background(self, None, self._progress, self._done):
            self.query_one(WorkProgress).start("Suggesting codes for every document…")
        else:
            self.notify("Still suggesting — the results appear here when it finishes.", timeout=3)

    def _progress(self, fraction, note: str) -> None:
        self.query_one(WorkProgress).step(fraction, note)

    def _done(self, n: int | None, error: str) -> None:
        self.query_one(WorkProgress).stop()
        if n is None:
            self.notify(error, severity="error", markup=False)
            return
        self.app.note_change()
        self.store_changed()
        self.notify(f"{n} open suggestions", timeout=3)


CODE_WIDTH = 30
DOC_WIDTH = 18


def _clip_start(text: str, n: int) -> str:
    """Keep the end of a code path or document name (the leaf says the most): `…/Savings`."""
    return text if len(text) <= n else "…" + text[-(n - 1):]
