"""The project store: one SQLite file per project, one write path, events for undo."""

from qualcode.store.project import Project, open_project  # noqa: F401
