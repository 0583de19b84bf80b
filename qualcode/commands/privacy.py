"""CLI commands: privacy — `qualcode anonymize`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qualcode.errors import QualcodeError


def _ctx():
    return click.get_current_context().find_root().obj


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--names", "names_file", metavar="FILE",
                  help="People to replace, one a line; `Real Name => Pseudonym` chooses the pseudonym; "
                       "`!Word` marks a word that is never a name.")
    @click.option("--places", "places_file", metavar="FILE", help="Places to replace (same format): Place A, B, …")
    @click.option("--orgs", "orgs_file", metavar="FILE", help="Organisations to replace (same format): Bank A, …")
    @click.option("--detect/--no-detect", default=True, show_default=True,
                  help="Also look for names in the texts (a trained spaCy pipeline if installed, else a "
                       "capitalisation rule). The speaker legend, the lists and the key are always used.")
    @click.option("--detect-places", is_flag=True, help="Also replace places a trained spaCy pipeline finds.")
    @click.option("--detect-orgs", is_flag=True, help="Also replace organisations a trained spaCy pipeline finds.")
    @click.option("--key", "key_file", metavar="FILE",
                  help="Where the key (real name → pseudonym) is written: required, outside the project's "
                       "folder. An existing key is reused, so pseudonyms stay the same across runs.")
    @click.option("--report", "report_file", metavar="FILE",
                  help="Every replacement as CSV (document, start, length, new_start, pseudonym, original); "
                       "`-` for stdout. It holds the real names: never inside the project's folder.")
    @click.option("--dry-run", is_flag=True, help="Show what would be replaced; change nothing.")
    @click.option("--keep-history", is_flag=True,
                  help="Keep the undo history, which still holds the real names, so `qualcode undo` can "
                       "restore them; purge it later with --purge-history.")
    @click.option("--purge-history", "purge_only", is_flag=True,
                  help="Purge the history of an anonymisation applied with --keep-history (with --key).")
    @click.option("--status", is_flag=True, help="Show whether the project is anonymised.")
    @click.option("--require/--no-require", default=None,
                  help="Make exports refuse to run unless the project is anonymised (a project setting).")
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def anonymize(names_file, places_file, orgs_file, detect, detect_places, detect_orgs, key_file, report_file,
                  dry_run, keep_history, purge_only, status, require, as_json):
        """Replace people's names (and on request places and organisations) with pseudonyms.

        \b
        Names come from the speaker legend (labels like AYTAN:, attributes like name:), from
        --names FILE, from the key of an earlier run, and from the texts. The same name gets the
        same pseudonym in every document ("Participant 3", "Place B", "Bank A"); codings stay on
        the same words. The key goes to --key FILE, never into the project. By default the undo
        history before the anonymisation is purged and older backups are deleted, because they
        hold the real names.

        \b
        Preview:  qualcode anonymize --names names.txt --dry-run
        Apply:    qualcode anonymize --names names.txt --key /secure/key.json --report /secure/report.csv
        """
        from qualcode import anonymize as anon
        from qualcode.cli import emit_json

        ctx = _ctx()
        project = ctx.project()
        if status or require is not None:
            if require is not None:
                with project.change("settings", "Anonymisation " + ("required" if require else "not required")
                                    + " before exports", ctx.coder) as ch:
                    ch.set_setting("require_anonymised", require)
            st = anon.anonymisation_status(project)
            if as_json:
                emit_json(st)
            else:
                _print_status(st)
            return
        if purge_only:
            if not key_file:
                raise QualcodeError("--purge-history needs the key (--key FILE) to find the names in old summaries")
            plan = anon.plan_anonymisation(project, detect=False, key_path=anon.check_private_path(project, key_file, "key"))
            result = anon.purge_history(project, plan.matcher)
            if as_json:
                emit_json(result)
            else:
                _print_purge(result)
            return
        names, places, orgs, excluded = [], [], [], set()
        for option, target in ((names_file, names), (places_file, places), (orgs_file, orgs)):
            if option:
                entries, skip = anon.read_list(Path(option))
                target.extend(entries)
                excluded |= skip
        if as_json and report_file == "-":
            raise QualcodeError("--json and --report - both write to stdout; give the report a file name")
        if not dry_run and not key_file:
            raise QualcodeError("--key FILE is required: the key (real name → pseudonym) is written there, outside "
                                "the project; or preview with --dry-run")
        key = anon.check_private_path(project, key_file, "key") if key_file else None
        report_path = None
        if report_file and report_file != "-":
            report_path = anon.check_private_path(project, report_file, "report")
        _step("Finding names …")
        plan = anon.plan_anonymisation(project, names, places, orgs, detect=detect, detect_places=detect_places,
                                       detect_orgs=detect_orgs, exclude=excluded, key_path=key)
        out = sys.stderr if report_file == "-" else sys.stdout
        if dry_run:
            rows = anon.Report([r for reps in plan.replacements.values() for r in reps], plan.entities, 0, 0, 0, key)
            _write_report(rows, report_file, report_path)
            if as_json:
                emit_json(plan.summary())
            else:
                _print_plan(plan, out)
            return
        _step(f"Rewriting {plan.summary()['documents']} document(s)"
              + (", then purging the history and rewriting the file …" if not keep_history else " …"))
        report = anon.apply_plan(project, plan, key, purge=not keep_history, coder=ctx.coder)
        _write_report(report, report_file, report_path)
        if as_json:
            emit_json(report.as_dict())
        else:
            _print_applied(report, keep_history, out)


def _step(message: str) -> None:
    """What is happening, at a terminal only (long projects take a few seconds per step)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _write_report(report, report_file, report_path) -> None:
    if report_file == "-":
        sys.stdout.write(report.csv())
    elif report_path is not None:
        from qualcode.name_lists import write_private
        write_private(report_path, report.csv())


def _print_plan(plan, out) -> None:
    s = plan.summary()
    echo = lambda text="": click.echo(text, file=out)  # noqa: E731
    echo(f"Would replace {s['replacements']} occurrence(s) of {len(plan.entities)} name(s) in {s['documents']} "
         f"document(s), and {s['fields']} other field(s) (labels, attributes, memos, document names). Nothing changed.")
    for e in sorted(plan.entities, key=lambda e: (e.kind, e.first)):
        docs = ", ".join(sorted(e.documents)[:4]) + (" …" if len(e.documents) > 4 else "")
        echo(f"  {e.pseudonym:<16} ← {e.real}  ({e.kind}; {', '.join(sorted(e.sources))}; {e.count}×"
             + (f" in {docs}" if docs else "") + ")")
    if plan.possible:
        echo(f"Possible names left as they are ({len(plan.possible)}; capitalised mid-sentence, never in lower case). "
             "Add real names to --names FILE; `!Word` silences a word:")
        for p in plan.possible[:40]:
            echo(f"  {p['word']} ({p['count']}×): …{p['example']}…")
        if len(plan.possible) > 40:
            echo(f"  … and {len(plan.possible) - 40} more (--json lists them all)")
    for w in plan.warnings:
        echo(f"note: {w}")


def _print_applied(report, kept: bool, out) -> None:
    echo = lambda text="": click.echo(text, file=out)  # noqa: E731
    echo(f"Anonymised {report.documents} document(s): {len(report.replacements)} replacement(s) of "
         f"{len(report.entities)} name(s), {report.fields} other field(s); {report.codings_moved} coding(s) "
         "moved with their words.")
    echo(f"Key: {report.key_path} — it holds the real names; keep it apart from the project, encrypted.")
    for old, new in report.renamed:
        echo(f"Document {old!r} is now {new!r}")
    if kept:
        echo("The undo history still holds the real names (`qualcode undo` restores them). When you are sure: "
             "qualcode anonymize --purge-history --key KEY")
    elif report.purge:
        _print_purge(report.purge, echo)
    for w in report.warnings:
        echo(f"note: {w}")


def _print_purge(result: dict, echo=None) -> None:
    echo = echo or click.echo
    echo(f"Purged the undo history before the anonymisation ({result['events']} change(s) can no longer be undone; "
         f"they held the real names); removed {result['backups_removed']} older backup(s).")
    if not result["file_rewritten"]:
        echo("warning: another qualcode window has the project open, so old pages may remain in the file until it "
             "is closed; close it and run `qualcode anonymize --purge-history --key KEY` again")


def _print_status(st: dict) -> None:
    if not st["anonymised"]:
        click.echo("Not anonymised." + (" Exports are refused until it is." if st["required"] else ""))
        return
    click.echo(f"Anonymised at {st['at']}; undo history {'purged' if st['history_purged'] else 'NOT purged'}.")
    if st["changed_documents"]:
        click.echo(f"Added or changed since: {', '.join(st['changed_documents'])}")
    click.echo("Exports require anonymisation." if st["required"] else "Exports do not require anonymisation.")
