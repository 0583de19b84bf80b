"""The qualcode command line: thin wrappers over the core, `--json` on every read command.

Only click is imported at start-up; each command imports what it needs when it runs, so
`qualcode --help` stays fast and `import qualcode.cli` loads neither Textual, spaCy nor sklearn.
"""

from __future__ import annotations

import json
import sys

import click

from qualcode.errors import QualcodeError


class Context:
    def __init__(self, project_path: str | None, coder: str | None):
        self.project_path = project_path
        self.coder = coder
        self._project = None

    def project(self, create: bool = False):
        from qualcode.store.project import open_project

        if self._project is None:
            self._project = open_project(self.project_path, create=create)
            from qualcode.store.cloud import warn_if_synced
            warn_if_synced(self._project.path)
        return self._project

    def exporting(self):
        """The project, for a command that writes its text out: refused when the project
        must be anonymised first (QUALCODE_REQUIRE_ANONYMISED=1 or its own setting) and is not."""
        project = self.project()
        from qualcode.anonymize import require_anonymised
        require_anonymised(project)
        return project

    def close(self):
        if self._project is not None:
            self._project.close()


pass_ctx = click.make_pass_decorator(Context)


def progress(items, label: str, show=None):
    """A progress bar on stderr for long work at a terminal; silent when piped."""
    import contextlib

    items = list(items)
    if sys.stderr.isatty() and len(items) > 1:
        return click.progressbar(items, label=label, file=sys.stderr, show_pos=True, item_show_func=show)
    return contextlib.nullcontext(items)


def emit_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--project", "-p", "project_path", envvar="QUALCODE_PROJECT", metavar="PATH",
              help="Project file (default: $QUALCODE_PROJECT, else qualcode.db here).")
@click.option("--coder", envvar="QUALCODE_CODER", metavar="NAME",
              help="Who is coding (default: $QUALCODE_CODER, the project's setting, or your login).")
@click.version_option(package_name="qualcode")
@click.pass_context
def cli(ctx: click.Context, project_path: str | None, coder: str | None):
    """qualcode: code interview and focus-group transcripts against a codebook, offline.

    \b
    Start with the demo:   qualcode demo
    Your own project:      qualcode --project study.db import transcripts/*.docx
                           qualcode --project study.db codebook import codebook.yaml
                           qualcode --project study.db tui
    """
    ctx.obj = Context(project_path, coder)
    ctx.call_on_close(ctx.obj.close)


@cli.group()
def codebook():
    """Load, edit, show and export the codebook."""


@cli.group()
def codings():
    """Bulk import and export of codings."""


@cli.group(name="export")
def export_group():
    """Export quotes, the project (.qdpx) and more."""


def _register() -> None:
    from qualcode.commands import analysis, core, exchange, privacy, safety, suggestions

    for module in (core, analysis, exchange, safety, privacy, suggestions):
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one `error:` line and exit status 1."""
    import os

    os.umask(0o077)  # exports and backups hold transcript text: owner-only, like the project
    try:
        cli.main(args=argv, prog_name="qualcode", standalone_mode=False)
    except QualcodeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted; nothing half-done was saved", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()
