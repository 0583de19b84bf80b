"""CLI commands: frequency and co-occurrence tables, saturation, coded-quote exports, theme
summaries and the Word report. Thin: the work is in qualcode.analysis and qualcode.export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from qualcode.errors import QualcodeError

UNIT_CHOICE = click.Choice(["segment", "sentence", "turn", "document", "speaker"], case_sensitive=False)
TABLE_FORMATS = click.Choice(["csv", "json", "md", "docx", "xlsx"], case_sensitive=False)


def _ctx():
    return click.get_current_context().find_root().obj


def check_output(path: str | None) -> None:
    """Fail before any work when the output cannot be written."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise QualcodeError(f"{path} is a folder; give a file name")
    if not target.parent.exists():
        raise QualcodeError(f"cannot write {path}: the folder {target.parent} does not exist")


def _table_format(fmt: str | None, output: str | None, as_json: bool) -> str:
    if as_json:
        return "json"
    if fmt:
        return fmt.lower()
    if output:
        from qualcode.export.tables import fmt_from

        return fmt_from(output, None)
    return "md"


def _emit_table(table: dict, fmt: str, output: str | None) -> None:
    from qualcode.export import tables

    if output:
        check_output(output)
        tables.write_table(table, output, fmt)
        click.echo(f"Wrote {output}", err=True)
        return
    if fmt in ("docx", "xlsx"):
        raise QualcodeError(f"--format {fmt} needs -o FILE")
    if fmt == "json":
        from qualcode.cli import emit_json
        emit_json(table)
    elif fmt == "csv":
        import csv
        csv.writer(sys.stdout).writerows(tables.csv_rows(table))
    else:
        click.echo(tables.markdown(table), nl=False)


def register(cli: click.Group) -> None:
    from qualcode.cli import export_group

    @cli.group(invoke_without_command=True)
    @click.option("-o", "--output", metavar="FILE", help="Write the full Word report (.docx) here.")
    @click.option("--by", "by", default=None, metavar="ATTR",
                  help="Group for the report's heatmap and chart (default: type).")
    @click.option("--title", help="Report title.")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.pass_context
    def report(click_ctx, output, by, title, coded_by):
        """Frequency tables, co-occurrence, saturation, or (with -o) the full Word report.

        \b
        qualcode report -o report.docx
        qualcode report frequencies --by type --unit document
        qualcode report cooccurrence --unit sentence --format xlsx -o cooc.xlsx
        """
        if click_ctx.invoked_subcommand is not None:
            return
        if not output:
            click.echo(click_ctx.get_help())
            return
        if Path(output).suffix.lower() != ".docx":
            raise QualcodeError("the report is a Word file: give -o a name ending in .docx")
        check_output(output)
        from qualcode.export.report import build_report

        project = _ctx().exporting()
        with click.progressbar(length=100, label="Writing report", file=sys.stderr) as bar:
            info = build_report(project, output, by=by, title=title, coder=coded_by,
                                progress=lambda step: bar.update(step))
        click.echo(f"Wrote {output} ({info['themes']} theme{'s' * (info['themes'] != 1)}, "
                   f"{info['quotes']} quote{'s' * (info['quotes'] != 1)})", err=True)

    @report.command("frequencies")
    @click.option("--by", metavar="ATTR", help="Document or speaker attribute for columns (or `document`); "
                  "speaker:KEY / document:KEY when both have it.")
    @click.option("--unit", type=UNIT_CHOICE, default="segment", show_default=True, help="What is counted.")
    @click.option("--format", "fmt", type=TABLE_FORMATS, help="Output format (default: from -o, else md).")
    @click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
    @click.option("--code", metavar="CODE", help="Only this code and its sub-codes.")
    @click.option("--where", metavar="KEY=VALUE", help="Only units of this speaker group or document attribute.")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    def frequencies(by, unit, fmt, output, code, where, coded_by, as_json):
        """Theme frequency table: codes (themes with subtotals) by attribute, with % and chi-square."""
        from qualcode.analysis.frequencies import frequency_table

        table = frequency_table(_ctx().project(), by=by, unit=unit.lower(), code=code, speaker_filter=where,
                                coder=coded_by)
        _emit_table(table, _table_format(fmt, output, as_json), output)

    @report.command("cooccurrence")
    @click.option("--unit", type=UNIT_CHOICE, default="segment", show_default=True,
                  help="segment: overlapping spans; else: coded in the same unit.")
    @click.option("--format", "fmt", type=TABLE_FORMATS, help="Output format (default: from -o, else md).")
    @click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
    @click.option("--themes", is_flag=True, help="Fold sub-codes into their themes.")
    @click.option("--code", metavar="CODE", help="Only this code and its sub-codes.")
    @click.option("--where", metavar="KEY=VALUE", help="Only this speaker group or document attribute.")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    def cooccurrence_cmd(unit, fmt, output, themes, code, where, coded_by, as_json):
        """Code × code co-occurrence matrix."""
        from qualcode.analysis.cooccurrence import cooccurrence

        table = cooccurrence(_ctx().project(), unit=unit.lower(), code=code, coder=coded_by, themes=themes,
                             speaker_filter=where)
        _emit_table(table, _table_format(fmt, output, as_json), output)

    @report.command("saturation")
    @click.option("--format", "fmt", type=click.Choice(["md", "csv", "json", "png", "docx", "xlsx"], case_sensitive=False),
                  help="Output format (default: from -o, else md).")
    @click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
    @click.option("--order", type=click.Choice(["coding", "import"]), default="coding", show_default=True,
                  help="Documents in the order they were first coded, or imported.")
    @click.option("--themes", is_flag=True, help="Count new themes instead of new codes.")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    def saturation_cmd(fmt, output, order, themes, coded_by, as_json):
        """New codes per transcript in coding order: where coding stops finding new codes."""
        from qualcode.analysis.saturation import saturation
        from qualcode.export.charts import write_saturation

        result = saturation(_ctx().project(), order=order, coder=coded_by, themes=themes)
        fmt = "json" if as_json else (fmt or (Path(output).suffix.lstrip(".").lower() if output else "md"))
        if fmt in ("docx", "xlsx", "png") and not output:
            raise QualcodeError(f"--format {fmt} needs -o FILE")
        check_output(output)
        if output:
            write_saturation(result, output, fmt)
            click.echo(f"Wrote {output}", err=True)
        elif fmt == "json":
            from qualcode.cli import emit_json
            emit_json(result)
        else:
            from qualcode.export.charts import saturation_csv, saturation_markdown
            click.echo(saturation_markdown(result) if fmt == "md" else saturation_csv(result), nl=False)

    @export_group.command("quotes")
    @click.option("--code", "codes", multiple=True, metavar="CODE", help="Only this code and its sub-codes (repeatable).")
    @click.option("--format", "fmt", type=click.Choice(["docx", "csv", "md", "xlsx"], case_sensitive=False),
                  help="Output format (default: from -o).")
    @click.option("-o", "--output", required=True, metavar="FILE", help="Where to write.")
    @click.option("--where", "where", multiple=True, metavar="KEY=VALUE",
                  help="Document or speaker attribute condition (repeatable; all must hold).")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.option("--title", help="Title of the Word/Markdown document.")
    def export_quotes_cmd(codes, fmt, output, where, coded_by, title):
        """Coded quotes with document, speaker, attributes, code path, memo, coder and position."""
        from qualcode.export.quotes import collect_quotes, quote_format, write_quotes

        project = _ctx().exporting()
        fmt = quote_format(output, fmt)
        check_output(output)
        quotes = collect_quotes(project, codes, where, coded_by)
        with click.progressbar(length=max(len(quotes), 1), label="Writing quotes", file=sys.stderr) as bar:
            written = write_quotes(project, quotes, output, fmt, title, progress=bar.update)
        click.echo(f"Wrote {written} quote{'s' * (written != 1)} to {output}", err=True)

    @cli.command()
    @click.option("--code", "codes", multiple=True, metavar="CODE",
                  help="Summarise this code (theme or sub-code; repeatable). Default: every theme.")
    @click.option("--format", "fmt", type=click.Choice(["md", "json", "docx"], case_sensitive=False),
                  help="Output format (default: from -o, else md).")
    @click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
    @click.option("--coded-by", metavar="NAME", help="Only this coder's codings.")
    @click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
    def summarize(codes, fmt, output, coded_by, as_json):
        """Grounded theme summaries: where a theme occurs, its terms, quotes, neighbours, with evidence."""
        from qualcode.analysis.summaries import summarize as run
        from qualcode.export.summary_docs import write_summaries

        project = _ctx().exporting()
        summaries = run(project, codes=list(codes), coder=coded_by)
        fmt = "json" if as_json else (fmt or (Path(output).suffix.lstrip(".").lower() if output else "md"))
        if fmt not in ("md", "json", "docx"):
            raise QualcodeError(f"unknown summary format {fmt!r}; use md, json or docx")
        check_output(output)
        if output:
            write_summaries(summaries, output, fmt, project=project)
            click.echo(f"Wrote {output}", err=True)
        elif fmt == "docx":
            raise QualcodeError("--format docx needs -o FILE")
        elif fmt == "json":
            click.echo(json.dumps(summaries, ensure_ascii=False, indent=2))
        else:
            from qualcode.export.summary_docs import markdown
            click.echo(markdown(summaries), nl=False)
