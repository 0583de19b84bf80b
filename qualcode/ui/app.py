"""The qualcode coding workbench: a keyboard-first Textual app over one project file.

Sections (function keys): documents, transcript, quotes, reports, review. Every action is
written through the store's write path at once; a timer notices changes other programs
(the CLI, a second window) commit, and the visible section re-reads the project. After changes
the suggester learns in the background (`qualcode.ui.learning`); the top line says how far it is.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Iterable

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from qualcode.errors import QualcodeError
from qualcode.store.project import Project, current_coder
from qualcode.ui.learning import LEARN_SECONDS, SHORT, Learner

POLL_SECONDS = 1.0


def _section_screen(mode: str) -> Screen:
    # imported when first shown: the document list paints without loading the other sections
    if mode == "documents":
        from qualcode.ui.screens.documents import DocumentsScreen as screen
    elif mode == "transcript":
        from qualcode.ui.screens.transcript import TranscriptScreen as screen
    elif mode == "quotes":
        from qualcode.ui.screens.quotes import QuotesScreen as screen
    elif mode == "reports":
        from qualcode.ui.screens.reports import ReportsScreen as screen
    else:
        from qualcode.ui.screens.review import ReviewScreen as screen
    return screen()




class QualcodeApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "qualcode"
    DEFAULT_MODE = "documents"
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("f2", "go('documents')", "Documents", show=False),
        Binding("f3", "go('transcript')", "Transcript", show=False),
        Binding("f4", "go('quotes')", "Quotes (retrieval)", show=False),
        Binding("f5", "go('reports')", "Reports", show=False),
        Binding("f6", "go('review')", "Review suggestions", show=False),
        Binding("f7", "switch_coder", "Switch coder…", show=False),
        Binding("f8", "toggle_others", "Show/hide other coders' codings", show=False),
        Binding("f9", "toggle_theme", "Light/dark theme", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, path: Path, coder: str | None = None, poll: float = POLL_SECONDS,
                 learn_delay: float | None = LEARN_SECONDS, learn_at_start: bool = False) -> None:
        super().__init__()
        self.project = Project(Path(path))
        self.coder = current_coder(self.project, coder)
        self.show_others = True
        self.generation = 0          # bumped on every change, ours or another program's
        self._data_version = self.project.data_version()
        self._poll = poll
        self._sections: dict[str, Screen] = {}
        # the suggester retrains this many quiet seconds after a change (None: only when asked)
        self.learning = Learner(self, learn_delay)
        self._learn_at_start = learn_at_start     # bring a stale model up to date once the app is open
        self.suggesting = False                    # a suggestion run is going (suggestion_runs.suggest_in_background)

    # Sections are installed screens swapped with switch_screen, not Textual "modes": a mode's
    # first showing re-parses every stylesheet (a few hundred ms), a screen switch does not.
    def section(self, name: str) -> Screen:
        """The one screen of a section (made on first use, kept for the session)."""
        if name not in self._sections:
            self._sections[name] = _section_screen(name)
            self.install_screen(self._sections[name], name=name)
        return self._sections[name]

    @property
    def current_section(self) -> str | None:
        """The section on screen (beneath any dialog)."""
        for screen in reversed(self.screen_stack):
            for name, section in self._sections.items():
                if section is screen:
                    return name
        return None

    def on_mount(self) -> None:
        self.push_screen(self.section("documents"))
        if self._poll:
            self.set_interval(self._poll, self.check_for_outside_changes)
        self.set_timer(0.3, self._warm_up)
        if self._learn_at_start:
            self.set_timer(1.0, self.learning.changed)

    async def _warm_up(self) -> None:
        """Once the list is on screen, mount (hidden) the widgets the transcript is made of: the
        first mount of a widget class parses its styles, and that should not land on the first
        document a user opens. Nothing visible changes."""
        from textual.containers import Vertical
        from qualcode.ui.widgets.code_panel import CodePanel
        from qualcode.ui.widgets.sidebar import CursorCodings
        from qualcode.ui.widgets.transcript_view import TranscriptView
        from qualcode.ui.widgets.work_progress import WorkProgress
        probe = Vertical(TranscriptView(), CodePanel(), CursorCodings(), WorkProgress())
        probe.display = False
        try:
            await self.section("documents").mount(probe)
            await probe.remove()
        except Exception:   # only ever a head start; the app works without it
            pass

    def on_unmount(self) -> None:
        self.learning.stop()
        self.project.close()

    # --- the project changed ---------------------------------------------------------------

    def note_change(self) -> None:
        """Our own write: other sections re-read when next shown."""
        self.generation += 1
        self._data_version = self.project.data_version()
        self.learning.changed()

    def check_for_outside_changes(self) -> None:
        """Another connection committed (the CLI, a worker, a second window): refresh what is shown."""
        version = self.project.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        self.generation += 1
        self.learning.changed()
        screen = self.screen
        if hasattr(screen, "store_changed"):
            screen.store_changed()
        else:   # a dialog is open: refresh the section beneath it
            for s in reversed(self.screen_stack):
                if hasattr(s, "store_changed"):
                    s.store_changed()
                    break

    def status_line(self) -> str:
        others = "" if self.show_others else " (others hidden)"
        line = f"coder {self.coder}{others} · {self.project.path.name} "
        state = self.learning.state
        if not state:
            return line
        # background learning first, in short words when the full ones would be cut off
        from qualcode.ui.widgets.nav_bar import SECTIONS
        room = self.size.width - (sum(len(key) + len(title) + 2 for key, _, title in SECTIONS) + 1)
        if len(state) + 3 + len(line) > room:
            state = SHORT.get(state, state)
        return f"{state} · {line}"

    def on_resize(self) -> None:
        if self.learning.state:       # the short or the long words may fit now
            self.learning_state_changed()

    def learning_state_changed(self) -> None:
        """Background learning moved on: the status line of the sections on screen says so."""
        for screen in self.screen_stack:
            if hasattr(screen, "update_status") and screen.is_mounted:
                screen.update_status()

    # --- navigation ------------------------------------------------------------------------

    def action_go(self, section: str) -> None:
        if isinstance(self.screen, ModalScreen):
            return      # a dialog is open: finish it first
        target = self.section(section)
        if self.screen is not target:
            self.switch_screen(target)

    def open_document(self, doc_id: str, select: tuple[int, int] | None = None,
                      suggestion_id: str | None = None) -> None:
        screen = self.section("transcript")
        self.action_go("transcript")
        screen.request_document(doc_id, select=select, suggestion_id=suggestion_id)

    def action_help(self) -> None:
        from qualcode.ui.screens.help import HelpScreen
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.current_section))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def watch_theme(self) -> None:
        # span colours are blended with the background, so they follow the theme
        self.call_after_refresh(self._restyle_all)

    def _restyle_all(self) -> None:
        for screen in self._sections.values():
            for view in screen.query("TranscriptView"):
                view.restyle()
            if hasattr(screen, "theme_changed"):
                screen.theme_changed()

    # --- coders ----------------------------------------------------------------------------

    def action_toggle_others(self) -> None:
        self.show_others = not self.show_others
        self._coder_changed("Showing every coder's codings" if self.show_others
                            else f"Showing only {self.coder}'s codings")

    def action_switch_coder(self) -> None:
        from qualcode.ui.screens.dialogs import NEW, Choice, PickerScreen
        names = [r["name"] for r in self.project.query("SELECT name FROM coders ORDER BY name")]
        if self.coder not in names:
            names.insert(0, self.coder)
        choices = [Choice(n, Text.assemble(n, ("  (current)" if n == self.coder else "", "dim")), n) for n in names]

        def chosen(value: str | None) -> None:
            if value:
                self.coder = value[len(NEW):] if value.startswith(NEW) else value
                remembered = self._remember_coder()
                self._coder_changed(f"Coding as {self.coder}" + (" (remembered for this project)" if remembered
                                                                  else " (for this session)"))

        self.push_screen(PickerScreen("Code as…", choices, new_label="New coder"), chosen)

    def _remember_coder(self) -> bool:
        """The next start codes as this coder too (unless --coder or QUALCODE_CODER says otherwise).
        A preference, not work: undo steps over it."""
        if self.project.setting("coder") == self.coder:
            return True
        try:
            with self.project.change("preference", f"Coding as {self.coder}", self.coder) as ch:
                ch.set_setting("coder", self.coder)
        except QualcodeError:      # a busy or read-only file: the choice still holds for this session
            return False
        self._data_version = self.project.data_version()
        return True

    def _coder_changed(self, message: str) -> None:
        self.generation += 1
        for s in self.screen_stack:
            if hasattr(s, "store_changed"):
                s.store_changed()
        self.notify(message, markup=False, timeout=3)

    # --- memos -----------------------------------------------------------------------------

    def edit_memo(self, kind: str, target_id: str, title: str) -> None:
        from qualcode.coding import memos_for, set_coding_memo, write_memo
        from qualcode.ui.screens.dialogs import MemoScreen
        if kind == "coding":
            row = self.project.one("SELECT memo, text FROM codings WHERE id = ?", (target_id,))
            current, context = (row["memo"] or "", " ".join(row["text"].split())[:200]) if row else ("", "")
        else:
            mine = [m for m in memos_for(self.project, kind, target_id) if m["coder"] == self.coder]
            current, context = (mine[0]["text"] if mine else ""), ""

        def save(text: str | None) -> None:
            if text is None or text == current:
                return
            try:
                if kind == "coding":
                    set_coding_memo(self.project, target_id, text or None, self.coder)
                else:
                    write_memo(self.project, kind, target_id, text, self.coder)
            except QualcodeError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.note_change()
            if hasattr(self.screen, "store_changed"):
                self.screen.store_changed()
            self.notify("Memo saved", timeout=2)

        self.push_screen(MemoScreen(title, current, context), save)

    # --- command palette: every action with a description ------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            node = active.node
            yield SystemCommand(binding.description, f"key: {self.get_key_display(binding)}",
                                lambda node=node, action=binding.action: self.call_later(self.run_action,
                                                                                           action, node))
        yield SystemCommand("Anonymisation preview", "who would become whom; changes nothing",
                            self.action_anonymisation_preview)
        yield SystemCommand("Emerging themes", "topics in text nobody has coded yet, as candidate new codes",
                            self.action_emerging_themes)
        yield from super().get_system_commands(screen)

    def action_emerging_themes(self) -> None:
        from qualcode.ui.screens.themes import EmergingThemes

        self.push_screen(EmergingThemes(self.project.path))

    def action_anonymisation_preview(self) -> None:
        from qualcode.ui.screens.privacy import AnonymisationPreview

        self.push_screen(AnonymisationPreview(self.project.path))


def run(path: Path, coder: str | None = None) -> None:
    """Open the app on a project file (called by `qualcode tui` and `qualcode demo`)."""
    app = QualcodeApp(Path(path), coder, learn_at_start=True)
    app.run()
    _backup_on_exit(Path(path))
    if threading.active_count() > 1:
        # A worker thread (training, suggesting) is still busy and Python would wait for it after
        # the window closed. Its result was never shown as done, and it writes in one transaction
        # that SQLite rolls back if cut short, so leaving now loses nothing.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)


def _backup_on_exit(path: Path) -> None:
    """A rotating backup of the day's work; skipped cheaply when nothing changed."""
    from qualcode.store import backup
    from qualcode.store.project import Project

    try:
        with Project(path) as project:
            backup.rotate(project, "on exit from the app")
    except Exception as exc:  # a failed backup must not hide that the work itself is saved
        print(f"warning: could not back up {path} on exit ({exc}); your work is saved in the project",
              file=sys.stderr)
