"""CLI commands for working with other tools and other coders: REFI-QDA export and import,
Taguette import, merging another coder's project, coders, and inter-coder agreement."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qualcode.errors import QualcodeError

_REFI_SUFFIXES = (".qdpx", ".qde", ".qdc")
_TAGUETTE_SUFFIXES = (".sqlite3", ".sqlite")


def _ctx():
    return click.get_current_context().find_root().obj


def _emit(value) -> None:
    from qualcode.cli import emit_json
    emit_json(value)


def _print_report(report, as_json: bool) -> None:
    if as_json:
        _emit(report.as_dict())
        return
    for line in report.lines():
        click.echo(line, err=line.startswith(("conflict:", "note:")))


def import_foreign(ctx, files, as_json) -> None:
    """`import qdpx FILE`, `import taguette FILE`, or a file ending in .qdpx/.qde/.qdc/.sqlite3."""
    files = list(files)
    keyword = files[0].lower() if files and not Path(files[0]).suffix and not Path(files[0]).exists() else None
    if keyword:
        files = files[1:]
    if not files:
        raise QualcodeError(f"`import {keyword}` needs a file: qualcode import {keyword} FILE")
    if keyword not in (None, "qdpx", "qde", "qdc", "refi", "taguette"):
        raise QualcodeError(f"unknown import kind {keyword!r}; use `import qdpx FILE` or `import taguette FILE`")
    from qualcode.merge import apply_incoming

    incoming = []
    for f in files:   # read (and check) every file before anything is written
        path = Path(f)
        suffix = path.suffix.lower()
        if keyword == "taguette" or (keyword is None and suffix in _TAGUETTE_SUFFIXES):
            from qualcode.ingest.taguette import read_taguette
            incoming.append(read_taguette(path, default_coder=ctx.coder))
        elif suffix in _REFI_SUFFIXES or keyword in ("qdpx", "qde", "qdc", "refi"):
            from qualcode.export.refi_import import read_refi
            from qualcode.store.project import current_coder
            incoming.append(read_refi(path, default_coder=current_coder(None, ctx.coder)))
        else:
            raise QualcodeError(f"{path.name}: not a REFI-QDA (.qdpx, .qde, .qdc) or Taguette (.sqlite3) file")
    project = ctx.project(create=True)
    reports = [apply_incoming(project, inc, ctx.coder, kind="import", summary=f"Imported {inc.source}")
               for inc in incoming]
    if as_json:
        _emit([r.as_dict() for r in reports] if len(reports) > 1 else reports[0].as_dict())
        return
    for r in reports:
        _print_report(r, False)


def register(cli: click.Group) -> None:
    from qualcode.cli import export_group

    @export_group.command("qdpx")
    @click.argument("file")
    def export_qdpx(file):
        """The whole project as a REFI-QDA .qdpx (NVivo, ATLAS.ti, MAXQDA, QualCoder)."""
        from qualcode.export.refi import export_qdpx as write
        target = Path(file)
        if target.suffix.lower() != ".qdpx":
            raise QualcodeError(f"a REFI-QDA project file ends in .qdpx, not {target.suffix or 'no suffix'!r}")
        if target.is_dir():
            raise QualcodeError(f"{target} is a folder")
        counts = write(_ctx().exporting(), target)
        click.echo(f"Wrote {target}: {counts['documents']} documents, {counts['codes']} codes, "
                   f"{counts['codings']} codings by {counts['coders']} coder(s), {counts['memos']} memos")

    @cli.command()
    @click.argument("file")
    @click.option("--json", "as_json", is_flag=True, help="Print the merge report as JSON.")
    def merge(file, as_json):
        """Bring in another qualcode project (.db) or a .qdpx, matching by id.

        Both coders' codings are kept; where the two sides changed the same thing differently
        ours is kept and the conflict is listed. A backup is made first; `qualcode undo`
        reverts the merge.
        """
        from qualcode.merge import merge_file
        ctx = _ctx()
        report = merge_file(ctx.project(), Path(file), ctx.coder)
        _print_report(report, as_json)

    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def coders(as_json):
        """Coders in the project and how many codings each has."""
        project = _ctx().project()
        rows = [dict(r) for r in project.query(
            "SELECT k.name, COUNT(c.id) AS codings, COUNT(DISTINCT c.document_id) AS documents FROM coders k "
            "LEFT JOIN codings c ON c.coder_id = k.id GROUP BY k.id ORDER BY k.name")]
        if as_json:
            _emit(rows)
            return
        for r in rows:
            click.echo(f"{r['name']:<20} {r['codings']:>6} codings in {r['documents']} documents")

    @cli.command()
    @click.option("--coders", "coder_list", metavar="A,B[,...]", help="Coders to compare (default: all who coded).")
    @click.option("--unit", type=click.Choice(["sentence", "turn", "paragraph", "document", "character"]),
                  default="sentence", show_default=True, help="What a coder says yes or no to.")
    @click.option("--code", "codes", multiple=True, metavar="CODE", help="Only this code (repeatable).")
    @click.option("--document", "documents", multiple=True, metavar="DOC", help="Only this document (repeatable).")
    @click.option("--bootstrap", "bootstrap_n", type=click.IntRange(0, 100000), default=1000, show_default=True,
                  help="Resamples for confidence intervals (0: none).")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
    @click.option("--level", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True,
                  help="Confidence level of the intervals.")
    @click.option("--disagreements", "list_disagreements", is_flag=True,
                  help="List the units where coders disagree (for adjudication) instead of the figures.")
    @click.option("-o", "--output", metavar="FILE", help="With --disagreements: write .csv or .xlsx.")
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def agreement(coder_list, unit, codes, documents, bootstrap_n, seed, level, list_disagreements, output, as_json):
        """Inter-coder agreement per code and overall (see docs/agreement.md).

        Percent agreement, Cohen's kappa (two coders), Fleiss' kappa and Krippendorff's alpha
        on presence/absence of each code per unit, with bootstrap intervals.
        """
        from qualcode.analysis import agreement as agr
        coders_ = [c.strip() for c in coder_list.split(",") if c.strip()] if coder_list else None
        project = _ctx().project()
        if output and not list_disagreements:
            raise QualcodeError("-o writes the disagreement list; add --disagreements")
        if list_disagreements:
            rows = agr.disagreements(project, coders_, unit, list(codes) or None, list(documents) or None)
            if output:
                agr.write_disagreements(rows, Path(output))
                click.echo(f"Wrote {len(rows)} disagreement(s) to {output}", err=as_json)
                return
            if as_json:
                _emit(rows)
                return
            for r in rows:
                click.echo(f"{r['document']} {r['start']}–{r['end']} {r['code']}: yes {', '.join(r['applied_by'])}; "
                           f"no {', '.join(r['not_applied_by'])}: {r['text'][:60]!r}")
            if not rows:
                click.echo("No disagreements.")
            return
        result = agr.agreement(project, coders_, unit, list(codes) or None, list(documents) or None,
                               bootstrap_n, seed, level)
        if as_json:
            _emit(result)
            return
        _print_table(result)


def _fmt(x) -> str:
    return "   –  " if x is None else f"{x:6.3f}"


def _print_table(result: dict) -> None:
    coders = result["coders"]
    click.echo(f"Agreement of {', '.join(coders)} per {result['unit']} "
               f"({result['documents']} documents; – = undefined)")
    kappa = "cohen κ" if len(coders) == 2 else "fleiss κ"
    width = max([len(c["code"]) for c in result["codes"]] + [7])
    click.echo(f"{'code':<{width}}  agree%   {kappa:>7}   alpha   alpha {int(result['level'] * 100)}% CI   units")
    for row in result["codes"] + [{"code": "overall", **result["overall"]}]:
        k = row["cohen_kappa"] if len(coders) == 2 else row["fleiss_kappa"]
        pa = row["percent_agreement"]
        ci = row.get("ci", {}).get("krippendorff_alpha")
        ci_text = f"[{_fmt(ci[0]).strip()}, {_fmt(ci[1]).strip()}]" if ci and ci[0] is not None else ""
        click.echo(f"{row['code']:<{width}}  {'  –  ' if pa is None else f'{pa * 100:5.1f}'}   {_fmt(k)}  "
                   f"{_fmt(row['krippendorff_alpha'])}  {ci_text:<16} {row['n_units']:>6}")
    if not result["codes"]:
        click.echo("No code was applied by these coders.", err=True)
    sys.stdout.flush()
