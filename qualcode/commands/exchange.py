"""CLI commands: exchange (filled in by its feature)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    pass


def import_foreign(ctx, files, as_json) -> None:
    from qualcode.errors import QualcodeError
    raise QualcodeError("importing REFI-QDA and Taguette projects is not available yet")
