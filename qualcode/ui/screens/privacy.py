"""A preview of anonymisation: who would become whom, and where, before anything changes.

Applying stays on the command line (`qualcode anonymize --key FILE`), because the key of real
names to pseudonyms must be written to a file outside the project, chosen deliberately.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

APPLY_HINT = ("Nothing has changed. To apply: qualcode --project {path} anonymize --key FILE "
              "(the key of real names goes to FILE, outside the project; --names FILE adds names).")


class AnonymisationPreview(ModalScreen):
    """Read-only: the plan is computed in a worker with its own connection."""

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    AnonymisationPreview { align: center middle; }
    AnonymisationPreview > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    AnonymisationPreview #body { height: 1fr; }
    """

    def __init__(self, project_path: Path):
        super().__init__()
        self.project_path = Path(project_path)
        self.summary: dict | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Anonymisation preview", classes="title")
            with VerticalScroll(id="body"):
                yield Static(Text("Finding names in every transcript …", style="dim"), id="plan")
            yield Label(Text(APPLY_HINT.format(path=self.project_path)), markup=False)

    def on_mount(self) -> None:
        self.plan()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def plan(self) -> None:
        from qualcode.anonymize import preview
        from qualcode.store.project import Project

        try:
            with Project(self.project_path) as project:
                summary = preview(project)
        except Exception as exc:  # shown, never raised into the app
            self.app.call_from_thread(self._show, Text(f"Could not plan: {exc}", style="red"))
            return
        self.app.call_from_thread(self._done, summary)

    def _done(self, summary: dict) -> None:
        self.summary = summary
        self._show(render_summary(summary))

    def _show(self, renderable) -> None:
        self.query_one("#plan", Static).update(renderable)


def render_summary(summary: dict):
    table = Table(expand=True, show_edge=False)
    for col in ("Found", "Becomes", "Kind", "Times", "Documents"):
        table.add_column(col, overflow="fold")
    for e in summary["entities"]:
        table.add_row(Text(e["real"]), Text(e["pseudonym"]), e["kind"], str(e["count"]), str(len(e["documents"])))
    head = Text(f"{summary['replacements']} replacements in {summary['documents']} documents; "
                f"{summary['fields']} labels, attributes or memos change.\n")
    if summary["possible_names"]:
        words = ", ".join(str(p.get("word", p)) if isinstance(p, dict) else str(p)
                          for p in summary["possible_names"][:40])
        head.append(f"Possible names not replaced (add them with --names FILE): {words}\n", style="dim")
    for w in summary["warnings"]:
        head.append(f"warning: {w}\n", style="yellow")
    from rich.console import Group
    return Group(head, table)
