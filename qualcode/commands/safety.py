"""CLI commands: backup (make one now), backups (list them), restore (put one back)."""

from __future__ import annotations

from pathlib import Path

import click


def _ctx():
    return click.get_current_context().find_root().obj


def _project_path() -> Path:
    from qualcode.store.project import default_project_path

    return Path(_ctx().project_path or default_project_path())


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.0f} kB"


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="Print the new backup as JSON.")
    def backup(as_json):
        """Back up the project now (SQLite backup API; safe while the app is open).

        Backups go to PROJECT.backups/ next to the project; the newest 10 are kept. qualcode
        also makes one before merges, --replace imports, migrations and restores, and when the
        app closes after changes.
        """
        from qualcode.store import backup as backups_mod

        project = _ctx().project()
        path = backups_mod.rotate(project, "manual", force=True)
        made = next(b for b in backups_mod.backups(project.path) if b.path == path)
        info = backups_mod.describe(made)
        if as_json:
            from qualcode.cli import emit_json
            emit_json(info)
            return
        click.echo(f"Backed up to {path} ({_size(info['bytes'])}). `qualcode backups` lists them; "
                   "`qualcode restore` puts the latest back.")

    @cli.command(name="backups")
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def list_backups(as_json):
        """List the project's backups, newest first (number 1 is the latest)."""
        from qualcode.store import backup as backups_mod

        path = _project_path()
        rows = [backups_mod.describe(b) for b in reversed(backups_mod.backups(path))]
        if as_json:
            from qualcode.cli import emit_json
            emit_json(rows)
            return
        if not rows:
            click.echo(f"No backups of {path} yet. Make one: qualcode backup")
            return
        for n, r in enumerate(rows, 1):
            counts = (f"{r['documents']} documents, {r['codings']} codings"
                      if r["documents"] is not None else "unreadable")
            click.echo(f"{n:>2}  {r['name']}  {(r['created'] or '')[:19].replace('T', ' ')}  {_size(r['bytes']):>8}  "
                       f"{counts}  {r['reason']}")

    @cli.command()
    @click.argument("backup_ref", metavar="[BACKUP]", required=False)
    @click.option("--json", "as_json", is_flag=True, help="Print what was restored as JSON.")
    def restore(backup_ref, as_json):
        """Put a backup back: the latest, or BACKUP (a name or number from `qualcode backups`, or a file).

        The project as it is now is backed up first, so a restore can itself be undone with
        `qualcode restore` of that backup. A project too damaged to open is moved aside, not
        overwritten.
        """
        from qualcode.store import backup as backups_mod

        result = backups_mod.restore(_project_path(), backup_ref)
        if as_json:
            from qualcode.cli import emit_json
            emit_json(result)
            return
        when = ""
        if result["created"]:
            reason = f", {result['reason']}" if result["reason"] else ""
            when = f" (made {result['created'][:19].replace('T', ' ')}{reason})"
        click.echo(f"Restored {result['restored']}{when}.")
        if result["previous"]:
            click.echo(f"The state before is saved as {result['previous']}; "
                       f"`qualcode restore {result['previous']}` goes back to it.")
        if result["moved_aside"]:
            click.echo(f"The project file that could not be opened was moved to {result['moved_aside']}.")
