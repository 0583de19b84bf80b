"""The document list: type, key attributes and coding progress; filter by attribute; enter opens."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from qualcode.documents import list_documents
from qualcode.store.project import Project
from qualcode.ui.screens.base import SectionScreen

# attributes that describe a document but make poor columns (long, or the same for all)
_NOT_COLUMNS = {"title", "date", "language", "interviewer", "moderator", "name", "notes"}


class DocumentTable(DataTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open")]


class DocumentsScreen(SectionScreen):
    SECTION = "documents"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("a", "pick_attribute", "Filter by attribute"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("m", "memo", "Memo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.docs: list[dict] = []
        self.attr_columns: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.nav_bar()
        yield Input(placeholder="Filter: city=Baku  type=focus_group  or any word      ( / )", id="doc-filter",
                    compact=True)
        yield DocumentTable(id="documents", cursor_type="row", zebra_stripes=False)
        yield Static("", id="doc-details")
        yield self.footer()

    def on_mount(self) -> None:
        self.query_one(DocumentTable).focus()

    def refresh_from_store(self) -> None:
        project = self.app.project
        docs = list_documents(project)
        ids = {r["name"]: r["id"] for r in project.query("SELECT id, name FROM documents")}
        ncodings = {r["document_id"]: r["n"] for r in project.query(
            "SELECT document_id, COUNT(*) AS n FROM codings GROUP BY document_id")}
        memos = {r["target_id"] for r in project.query("SELECT target_id FROM memos WHERE target_type = 'document'")}
        known = {d["id"]: d.get("progress") for d in self.docs}
        for d in docs:
            d["id"] = ids[d["name"]]
            d["progress"] = known.get(d["id"])       # filled in by a worker: see _count_progress
            d["codings"] = ncodings.get(d["id"], 0)
            d["memo"] = d["id"] in memos
        self.docs = docs
        self.attr_columns = _key_attributes(docs)
        self._fill()
        self._count_progress(project.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="progress")
    def _count_progress(self, path) -> None:
        """Share of each document's sentences that carry a coding (on its own connection: it can
        take a while on a big project, and the list is already on screen meanwhile)."""
        project = Project(path)
        try:
            coded = {r["document_id"]: r["n"] for r in project.query(
                "SELECT s.document_id, COUNT(*) AS n FROM sentences s WHERE EXISTS (SELECT 1 FROM codings c "
                "WHERE c.document_id = s.document_id AND c.start < s.\"end\" AND c.\"end\" > s.start) "
                "GROUP BY s.document_id")}
            totals = {r["document_id"]: r["n"] for r in project.query(
                "SELECT document_id, COUNT(*) AS n FROM sentences GROUP BY document_id")}
        finally:
            project.close()
        shares = {doc_id: coded.get(doc_id, 0) / n for doc_id, n in totals.items() if n}
        self.app.call_from_thread(self._show_progress, shares)

    def _show_progress(self, shares: dict[str, float]) -> None:
        table = self.query_one(DocumentTable)
        for d in self.docs:
            d["progress"] = shares.get(d["id"], 0.0)
            if d["id"] in table.rows:
                table.update_cell(d["id"], "coded", _progress_bar(d["progress"]), update_width=True)

    def _fill(self) -> None:
        table = self.query_one(DocumentTable)
        keep = None
        if table.row_count and table.cursor_row is not None and table.cursor_row < table.row_count:
            keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear(columns=True)
        table.add_column("Document", key="name")
        table.add_column("Type", key="type")
        table.add_column("Coded", key="coded")
        table.add_column(Text("Codings", justify="right"), key="codings")
        for key in self.attr_columns:
            table.add_column(key.replace("_", " ").capitalize(), key=f"attr:{key}")
        wanted = _parse_filter(self.query_one("#doc-filter", Input).value)
        for d in self.docs:
            if not _matches(d, wanted):
                continue
            name = Text(d["name"])
            if d["memo"]:
                name.append(" ✎", style="dim")
            table.add_row(name, Text((d["type"] or "").replace("_", " ")), _progress_bar(d["progress"]),
                          Text(str(d["codings"]), justify="right"),
                          *[_cell(d["attributes"].get(k, "")) for k in self.attr_columns], key=d["id"])
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        self._show_details()

    @on(Input.Changed, "#doc-filter")
    def _filter_changed(self) -> None:
        self._fill()

    @on(Input.Submitted, "#doc-filter")
    def _filter_done(self) -> None:
        self.query_one(DocumentTable).focus()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_details()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.open_document(event.row_key.value)

    def current_doc(self) -> dict | None:
        table = self.query_one(DocumentTable)
        if not table.row_count or table.cursor_row is None:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((d for d in self.docs if d["id"] == key), None)

    def _show_details(self) -> None:
        d = self.current_doc()
        out = Text(overflow="ellipsis")
        if d is None:
            out.append("No documents match." if self.docs else
                       "No documents yet: import transcripts with `qualcode import FILE...`", style="dim")
        else:
            out.append(d["name"], style="bold")
            out.append(f"  {d['turns']} turns · {len(d['speakers'])} speakers · {d['chars']:,} characters",
                       style="dim")
            for k, v in d["attributes"].items():
                out.append("\n" if k == next(iter(d["attributes"])) else " · ", style="dim")
                out.append(f"{k}: ", style="dim")
                out.append(str(v))
        self.query_one("#doc-details", Static).update(out)

    def action_focus_filter(self) -> None:
        self.query_one("#doc-filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#doc-filter", Input)
        box.value = ""
        self.query_one(DocumentTable).focus()

    def action_pick_attribute(self) -> None:
        from qualcode.ui.screens.dialogs import Choice, PickerScreen
        pairs = Counter()
        for d in self.docs:
            if d["type"]:
                pairs[("type", d["type"])] += 1
            for k, v in d["attributes"].items():
                if k not in ("title",) and v and len(str(v)) <= 40:
                    pairs[(k, str(v))] += 1
        choices = [Choice(f"{k}={v}", Text.assemble((f"{k}", "dim"), " = ", v, (f"  {n}", "dim")), f"{k}={v}")
                   for (k, v), n in sorted(pairs.items())]

        def add(value: str | None) -> None:
            if value:
                box = self.query_one("#doc-filter", Input)
                token = value if " " not in value else value.replace(" ", "_")
                box.value = (box.value + " " + token).strip()
                self.query_one(DocumentTable).focus()

        self.app.push_screen(PickerScreen("Show documents where…", choices), add)

    def action_memo(self) -> None:
        d = self.current_doc()
        if d is not None:
            self.app.edit_memo("document", d["id"], f"Memo on document {d['name']}")


def _key_attributes(docs: list[dict], limit: int = 2) -> list[str]:
    """The attributes most documents have and that fit in a column."""
    counts, lengths = Counter(), Counter()
    for d in docs:
        for k, v in d["attributes"].items():
            counts[k] += 1
            lengths[k] += len(str(v))
    keys = [k for k, n in counts.most_common() if k not in _NOT_COLUMNS and lengths[k] / n <= 24]
    return keys[:limit]


def _parse_filter(text: str) -> list[tuple[str | None, str]]:
    out = []
    for token in text.split():
        if "=" in token:
            k, v = token.split("=", 1)
            out.append((k.strip().lower(), v.replace("_", " ").strip().lower()))
        else:
            out.append((None, token.lower()))
    return out


def _matches(doc: dict, wanted: list[tuple[str | None, str]]) -> bool:
    attrs = {k.lower(): str(v).lower() for k, v in doc["attributes"].items()}
    attrs["type"] = (doc["type"] or "").lower()
    attrs["name"] = doc["name"].lower()
    for key, value in wanted:
        if key is None:
            if not any(value in v for v in attrs.values()):
                return False
        elif value not in attrs.get(key, "").replace("_", " "):
            return False
    return True


def _cell(value, width: int = 16) -> Text:
    value = str(value or "")
    return Text(value if len(value) <= width else value[: width - 1] + "…")


def _progress_bar(share: float | None, width: int = 8) -> Text:
    if share is None:
        return Text("…", style="dim")
    filled = round(share * width)
    bar = Text(no_wrap=True)
    bar.append("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {share:4.0%}")
    return bar
