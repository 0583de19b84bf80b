"""What every section screen shares: the navigation bar, the footer, and refreshing from the store."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from qualcode.ui.widgets.nav_bar import NavBar


class SectionScreen(Screen):
    """A screen reached with a function key. It refreshes when the project changed meanwhile."""

    SECTION = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._seen_generation = -1

    def nav_bar(self) -> NavBar:
        return NavBar(self.SECTION, id="nav")

    def footer(self, palette: bool = True) -> Footer:
        return Footer(compact=True, show_command_palette=palette)

    def on_screen_resume(self) -> None:
        self.update_status()
        if self._seen_generation != self.app.generation:
            self._seen_generation = self.app.generation
            self.refresh_from_store()

    def store_changed(self) -> None:
        """Called by the app when the project changed (here or in another program)."""
        self._seen_generation = self.app.generation
        self.update_status()
        self.refresh_from_store()

    def update_status(self) -> None:
        for bar in self.query(NavBar):
            bar.set_status(self.app.status_line())

    def refresh_from_store(self) -> None:
        """Re-read what this screen shows. Screens override it."""
