"""Retrieval: every quote of a code, combined with another code or an attribute; enter jumps to it."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from qualcode.analysis.retrieval import retrieve
from qualcode.codebook import all_codes
from qualcode.errors import QualcodeError
from qualcode.ui.screens.base import SectionScreen
from qualcode.ui.screens.dialogs import Choice, PickerScreen

OPERATORS = [None, "and", "or", "not"]


class QuoteTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Go to quote")]


class QuotesScreen(SectionScreen):
    SECTION = "quotes"
    BINDINGS = [
        Binding("c", "pick_code", "Code…"),
        Binding("o", "cycle_operator", "And/or/not"),
        Binding("w", "pick_other", "With code/attribute…"),
        Binding("backspace", "clear_other", "Drop the second condition", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.code: str | None = None
        self.op: str | None = None
        self.other: str | None = None
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Static("", id="quote-query")
        yield QuoteTable(id="quotes", cursor_type="row")
        yield Static("", id="quote-preview")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one(QuoteTable).focus()

    def refresh_from_store(self) -> None:
        self.run_query()

    def set_query(self, code: str, op: str | None = None, other: str | None = None) -> None:
        self.code, self.op, self.other = code, op, other
        self.run_query()

    def run_query(self) -> None:
        table = self.query_one(QuoteTable)
        table.clear(columns=True)
        table.add_column("Document", key="doc")
        table.add_column("Speaker", key="speaker")
        table.add_column("Code", key="code")
        self.rows = []
        error = ""
        if self.code:
            coder = None if self.app.show_others else self.app.coder
            op, other = (self.op, self.other) if self.op and self.other else (None, None)
            try:
                self.rows = retrieve(self.app.project, self.code, op, other, coder)
            except QualcodeError as exc:
                error = str(exc)
        several = len({r["coder"] for r in self.rows}) > 1
        if several:
            table.add_column("Coder", key="coder")
        table.add_column("Quote", key="quote")
        used = sum(max((len(str(r[k] or "")) for r in self.rows), default=0) + 2
                   for k in ("document", "speaker", *(["coder"] if several else []))) + 20
        width = max(20, self.size.width - used)
        for i, r in enumerate(self.rows):
            quote = " ".join(r["text"].split())
            cells = [Text(r["document"]), Text(r["speaker"] or ""), Text(r["code"].rsplit("/", 1)[-1])]
            if several:
                cells.append(Text(r["coder"] or ""))
            cells.append(Text(quote[:width] + ("…" if len(quote) > width else "")))
            table.add_row(*cells, key=str(i))
        self._show_query(error)
        self._preview()

    def _show_query(self, error: str) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        if not self.code:
            out.append("Press c to choose a code; w adds a second code or an attribute.", style="dim")
        else:
            out.append("Quotes of ", style="dim")
            out.append(self.code, style="bold")
            if self.op:
                out.append(f"  {self.op.upper()}  ", style="bold")
                out.append(self.other or "(press w to choose)", style="bold" if self.other else "dim")
            out.append(f"   {len(self.rows)} quote{'s' * (len(self.rows) != 1)}", style="dim")
            if not self.app.show_others:
                out.append(f" by {self.app.coder}", style="dim")
        if error:
            out = Text(error, style="bold red")
        self.query_one("#quote-query", Static).update(out)

    def current(self) -> dict | None:
        table = self.query_one(QuoteTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)]

    @on(DataTable.RowHighlighted)
    def _preview(self) -> None:
        r = self.current()
        out = Text(overflow="fold")
        if r is not None:
            out.append(f"{r['document']} {r['start']}–{r['end']} · {r['code']} · {r['coder']}\n", style="dim")
            out.append(" ".join(r["text"].split()))
            if r.get("memo"):
                out.append("\n✎ ", style="dim")
                out.append(r["memo"], style="italic")
        self.query_one("#quote-preview", Static).update(out)

    @on(DataTable.RowSelected)
    def _go(self) -> None:
        r = self.current()
        if r is not None:
            self.app.open_document(r["document_id"], select=(r["start"], r["end"]))

    # --- building the query ----------------------------------------------------------------

    def _code_choices(self) -> list[Choice]:
        return [Choice(c["path"], Text.assemble(("● ", c.get("color") or "grey50"), c["path"],
                                                (f"  {c['codings']}" if c["codings"] else "", "dim")), c["path"])
                for c in all_codes(self.app.project)]

    def action_pick_code(self) -> None:
        def chosen(value: str | None) -> None:
            if value:
                self.code = value
                self.run_query()

        self.app.push_screen(PickerScreen("Quotes of which code?", self._code_choices()), chosen)

    def action_cycle_operator(self) -> None:
        self.op = OPERATORS[(OPERATORS.index(self.op) + 1) % len(OPERATORS)]
        if self.op and not self.other:
            self.action_pick_other()
        self.run_query()

    def action_pick_other(self) -> None:
        project = self.app.project
        pairs = {(r["key"], r["value"]) for r in project.query(
            "SELECT key, value FROM document_attributes UNION SELECT key, value FROM speaker_attributes")}
        pairs |= {("type", r["type"]) for r in project.query("SELECT DISTINCT type FROM documents") if r["type"]}
        attrs = [Choice(f"attr:{k}={v}", Text.assemble(("attribute ", "dim"), f"{k} = {v}"), f"{k}={v}")
                 for k, v in sorted(pairs) if v and len(str(v)) <= 60 and k != "title"]

        def chosen(value: str | None) -> None:
            if value:
                self.other = value
                if not self.op:
                    self.op = "and"
                self.run_query()

        self.app.push_screen(PickerScreen("Combine with which code or attribute?", self._code_choices() + attrs),
                             chosen)

    def action_clear_other(self) -> None:
        self.op, self.other = None, None
        self.run_query()
