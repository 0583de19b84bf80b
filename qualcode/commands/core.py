"""Project, documents, codebook, coding, memos, undo/redo, the demo and the app."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from qualcode.errors import QualcodeError


def _ctx():
    return click.get_current_context().find_root().obj


def _emit(value):
    from qualcode.cli import emit_json
    emit_json(value)


def _attrs(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise QualcodeError(f"--attr takes KEY=VALUE, not {p!r}")
        k, v = p.split("=", 1)
        if not k.strip():
            raise QualcodeError(f"--attr needs a key: {p!r}")
        out[k.strip()] = v
    return out


def register(cli: click.Group) -> None:
    from qualcode.cli import codebook, codings

    @cli.command()
    @click.argument("path", required=False)
    def init(path):
        """Create an empty project (error if the file exists)."""
        from qualcode.store.project import Project, default_project_path

        target = Path(path or _ctx().project_path or default_project_path())
        if target.exists():
            raise QualcodeError(f"{target} already exists; open it with `qualcode --project {target} tui`")
        Project(target, create=True).close()
        click.echo(f"Created {target}. Next: qualcode --project {target} import FILE...")

    @cli.command(name="import")
    @click.argument("files", nargs=-1, required=True)
    @click.option("--type", "doc_type", help="Document type, e.g. expert_interview or focus_group.")
    @click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="A document attribute (repeatable).")
    @click.option("--lang", help="Language code (en, az, ru, tr, ...); default: front matter, else en.")
    @click.option("--encoding", help="Insist on this text encoding instead of detecting it.")
    @click.option("--name", help="Document name (one file only); default: the file name without extension.")
    @click.option("--replace", is_flag=True, help="Update changed documents, re-anchoring their codings.")
    @click.option("--json", "as_json", is_flag=True, help="Print the documents created as JSON.")
    def import_cmd(files, doc_type, attrs, lang, encoding, name, replace, as_json):
        """Import transcripts (.txt, .md, .docx, .odt), or `import qdpx FILE` / `import taguette FILE`.

        YAML front matter between --- lines sets attributes; a `speakers:` mapping gives each
        speaker's attributes. Speaker turns and sentences are detected. Re-importing an
        unchanged file does nothing.
        """
        kind = files[0].lower()
        if kind in ("qdpx", "qde", "taguette", "refi") or Path(files[0]).suffix.lower() in (".qdpx", ".qde", ".qdc", ".sqlite3"):
            from qualcode.commands.exchange import import_foreign
            import_foreign(_ctx(), files, as_json)
            return
        from qualcode.ingest.importer import parse_file

        paths = [Path(f) for f in files]
        if name and len(paths) > 1:
            raise QualcodeError("--name applies to one file at a time")
        extra = _attrs(attrs)
        from qualcode.cli import progress
        parsed = []
        with progress(paths, "Reading", lambda p: p.name if p else "") as bar:
            for p in bar:
                parsed.append(parse_file(p, doc_type, extra, lang, encoding, name))
        from qualcode.documents import store_documents

        ctx = _ctx()
        project = ctx.project(create=True)
        outcome = store_documents(project, parsed, replace=replace, coder=ctx.coder)
        if as_json:
            _emit([d for d in _documents_json(project) if d["name"] in set(outcome.created + outcome.replaced)])
            return
        for n in outcome.unchanged:
            click.echo(f"{n}: unchanged, already imported — nothing to do")
        if outcome.created:
            click.echo(f"Imported {len(outcome.created)} document(s): {', '.join(outcome.created[:8])}"
                       + (" …" if len(outcome.created) > 8 else ""))
        for n in outcome.replaced:
            click.echo(f"Replaced {n}; {outcome.moved} coding(s) re-anchored")
        for u in outcome.unplaced:
            click.echo(f"could not place a coding in {u['document']} ({u['start']}–{u['end']}): {u['text'][:70]!r} "
                       "— removed; `qualcode undo` brings it back", err=True)

    def _documents_json(project):
        from qualcode.documents import list_documents
        docs = list_documents(project)
        for d in docs:
            d.pop("source", None)
        return docs

    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def documents(as_json):
        """List documents with type, language, size, turns and speakers."""
        project = _ctx().project()
        docs = _documents_json(project)
        if as_json:
            _emit(docs)
            return
        if not docs:
            click.echo("No documents yet. Import some: qualcode import FILE...")
            return
        width = max(len(d["name"]) for d in docs)
        for d in docs:
            click.echo(f"{d['name']:<{width}}  {d['type'] or '-':<17} {d['language']:<3} {d['chars']:>7} chars "
                       f"{d['turns']:>4} turns  {len(d['speakers'])} speakers")

    @cli.command()
    @click.argument("doc")
    def text(doc):
        """Print a document's stored text exactly (offsets index into it)."""
        from qualcode.documents import find_document
        row = find_document(_ctx().project(), doc)
        sys.stdout.write(row["text"])

    @cli.command()
    @click.argument("doc")
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def turns(doc, as_json):
        """Speaker turns of a document."""
        from qualcode.documents import document_turns, find_document
        project = _ctx().project()
        row = find_document(project, doc)
        data = document_turns(project, row["id"])
        if as_json:
            _emit([{"start": t["start"], "end": t["end"], "speaker": t["speaker"]} for t in data])
            return
        for t in data:
            snippet = row["text"][t["text_start"]:t["end"]].replace("\n", " ")
            click.echo(f"{t['start']:>7}–{t['end']:<7} {t['speaker'] or '(no speaker)'}: {snippet[:70]}")

    # --- codebook ---------------------------------------------------------------------------

    @codebook.command("import")
    @click.argument("file")
    def codebook_import(file):
        """Load a codebook (.yaml/.yml or REFI-QDA .qdc); merges by path."""
        from qualcode import codebook_files
        from qualcode.codebook import import_specs
        meta, specs = codebook_files.load(Path(file))
        ctx = _ctx()
        project = ctx.project(create=True)
        result = import_specs(project, specs, ctx.coder, f"Imported codebook {Path(file).name}")
        if meta:
            with project.change("codebook", "Codebook metadata", ctx.coder) as ch:
                ch.set_setting("codebook_meta", meta)
        click.echo(f"Codebook {Path(file).name}: {result['added']} code(s) added, {result['updated']} updated.")

    @codebook.command("export")
    @click.argument("file")
    def codebook_export(file):
        """Write the codebook; format by suffix: .yaml, .qdc, .docx, .csv."""
        from qualcode import codebook_files
        from qualcode.codebook import all_codes
        project = _ctx().project()
        codes = all_codes(project)
        meta = project.setting("codebook_meta", {}) or {}
        target = Path(file)
        suffix = target.suffix.lower()
        if suffix in (".yaml", ".yml"):
            target.write_text(codebook_files.to_yaml(meta, codes), encoding="utf-8")
        elif suffix == ".qdc":
            target.write_bytes(codebook_files.to_qdc(codes))
        elif suffix == ".csv":
            target.write_text(codebook_files.to_csv(codes), encoding="utf-8")
        elif suffix == ".docx":
            codebook_files.to_docx(meta, codes, target)
        else:
            raise QualcodeError(f"cannot export a codebook as '{suffix}'; use .yaml, .qdc, .docx or .csv")
        click.echo(f"Wrote {len(codes)} codes to {target}")

    @codebook.command("show")
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    @click.option("--full", is_flag=True, help="Definitions and rules too.")
    def codebook_show(as_json, full):
        """The code tree with counts of codings."""
        from qualcode.codebook import all_codes
        codes = all_codes(_ctx().project())
        if as_json:
            _emit([{"path": c["path"], "name": c["name"], "parent": c["parent"], "description": c["description"],
                    "when_to_use": c["when_to_use"], "when_not_to_use": c["when_not_to_use"],
                    "examples": c["examples"], "keywords": c["keywords"], "color": c["color"],
                    "shortcut": c["shortcut"], "codings": c["codings"]} for c in codes])
            return
        if not codes:
            click.echo("The codebook is empty. Load one: qualcode codebook import codebooks/remittances.yaml")
        for c in codes:
            key = f"[{c['shortcut']}] " if c["shortcut"] else ""
            click.echo(f"{'  ' * c['depth']}{key}{c['name']}  ({c['codings']})")
            if full and c["description"]:
                click.echo(f"{'  ' * c['depth']}    {c['description']}")

    @codebook.command("add")
    @click.argument("path")
    @click.option("--description", help="The definition.")
    @click.option("--color", help="#RRGGBB")
    def codebook_add(path, description, color):
        """Add a code (parents are created as needed): `Barriers/Fees`."""
        from qualcode.codebook import add_code
        ctx = _ctx()
        add_code(ctx.project(create=True), path, ctx.coder, description=description, color=color)
        click.echo(f"Added {path}")

    @codebook.command("rename")
    @click.argument("code")
    @click.argument("new_name")
    def codebook_rename(code, new_name):
        """Rename a code; its codings and sub-codes follow."""
        from qualcode.codebook import rename_code
        ctx = _ctx()
        click.echo(f"Renamed to {rename_code(ctx.project(), code, new_name, ctx.coder)}")

    @codebook.command("move")
    @click.argument("code")
    @click.argument("parent", required=False)
    def codebook_move(code, parent):
        """Move a code under PARENT (or to the top level without PARENT)."""
        from qualcode.codebook import move_code
        ctx = _ctx()
        click.echo(f"Moved to {move_code(ctx.project(), code, parent, ctx.coder)}")

    @codebook.command("merge")
    @click.argument("source")
    @click.argument("target")
    def codebook_merge(source, target):
        """Merge SOURCE into TARGET: its codings move to TARGET and SOURCE is removed."""
        from qualcode.codebook import merge_codes
        ctx = _ctx()
        n = merge_codes(ctx.project(), source, target, ctx.coder)
        click.echo(f"Merged; {n} coding(s) moved to {target}")

    @codebook.command("delete")
    @click.argument("code")
    def codebook_delete(code):
        """Delete a code with its sub-codes and codings (undo restores them)."""
        from qualcode.codebook import delete_code
        ctx = _ctx()
        n = delete_code(ctx.project(), code, ctx.coder)
        click.echo(f"Deleted {code} and {n} coding(s); `qualcode undo` restores them")

    @codebook.command("favourite")
    @click.argument("number", type=click.IntRange(1, 9))
    @click.argument("code")
    def codebook_favourite(number, code):
        """Put CODE on key NUMBER (1-9) in the app."""
        from qualcode.codebook import update_code
        ctx = _ctx()
        update_code(ctx.project(), code, ctx.coder, shortcut=number)
        click.echo(f"Key {number} now applies {code}")

    # --- coding -----------------------------------------------------------------------------

    @cli.command()
    @click.argument("doc")
    @click.argument("start", type=int)
    @click.argument("end", type=int)
    @click.argument("code")
    @click.option("--memo", help="A memo on this coding.")
    @click.option("--json", "as_json", is_flag=True, help="Print the coding as JSON.")
    def code(doc, start, end, code, memo, as_json):
        """Apply CODE to DOC's text from START to END (code points, end exclusive)."""
        from qualcode.coding import apply_code
        ctx = _ctx()
        result = apply_code(ctx.project(), doc, start, end, code, ctx.coder, memo)
        if as_json:
            _emit(result)
        else:
            click.echo(f"Coded {result['document']} {start}–{end} as {result['code']}: {result['text'][:60]!r}")

    @cli.command()
    @click.argument("doc")
    @click.argument("start", type=int)
    @click.argument("end", type=int)
    @click.argument("code", required=False)
    def uncode(doc, start, end, code):
        """Remove CODE (or every code) from codings overlapping START–END."""
        from qualcode.coding import uncode as do_uncode
        ctx = _ctx()
        n = do_uncode(ctx.project(), doc, start, end, code, ctx.coder)
        click.echo(f"Removed {n} coding(s)" if n else "No coding there; nothing changed")

    @cli.command()
    @click.argument("target", type=click.Choice(["document", "code", "coding", "project"]))
    @click.argument("ref", required=False)
    @click.argument("memo_text", required=False)
    @click.option("--json", "as_json", is_flag=True, help="List memos on the target as JSON.")
    def memo(target, ref, memo_text, as_json):
        """Write (with MEMO_TEXT) or read a memo on a document, code, coding (its id) or the project."""
        from qualcode.codebook import find_code
        from qualcode.coding import memos_for, write_memo
        from qualcode.documents import find_document
        ctx = _ctx()
        project = ctx.project()
        target_id = None
        if target == "document":
            target_id = find_document(project, ref or "")["id"]
        elif target == "code":
            target_id = find_code(project, ref or "")["id"]
        elif target == "coding":
            target_id = ref
        if memo_text is None:
            if target == "coding":
                row = project.one("SELECT memo FROM codings WHERE id = ?", (ref,))
                items = [{"text": row["memo"]}] if row and row["memo"] else []
            else:
                items = memos_for(project, target, target_id)
            if as_json:
                _emit([{k: m.get(k) for k in ("text", "coder", "created_at", "updated_at")} for m in items])
            else:
                for m in items:
                    click.echo(f"{m.get('coder') or ''}: {m['text']}")
            return
        write_memo(project, target, target_id, memo_text, ctx.coder)
        click.echo("Memo saved")

    @codings.command("import")
    @click.argument("file")
    @click.option("--coder", "coder", help="Coder for records without one.")
    def codings_import(file, coder):
        """Bulk-apply codings from .csv or .jsonl (document,start,end,code[,coder,memo])."""
        from qualcode.coding import import_codings, read_coding_file
        ctx = _ctx()
        requests = read_coding_file(Path(file))
        n = import_codings(ctx.project(), requests, coder or ctx.coder, f"Imported codings from {Path(file).name}")
        click.echo(f"Applied {n} coding(s) from {file} ({len(requests) - n} already present)")

    @codings.command("export")
    @click.option("--json", "as_json", is_flag=True, help="JSON (default).")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV.")
    @click.option("-o", "--output", help="Write to a file instead of stdout.")
    def codings_export(as_json, as_csv, output):
        """All codings: document, start, end, code (path), coder, text."""
        from qualcode.coding import export_codings
        rows = export_codings(_ctx().exporting())
        if as_csv:
            import csv
            import io
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=["document", "start", "end", "code", "coder", "text", "memo", "id"])
            w.writeheader()
            w.writerows(rows)
            out = buf.getvalue()
        else:
            out = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
        if output:
            Path(output).write_text(out, encoding="utf-8")
            click.echo(f"Wrote {len(rows)} codings to {output}", err=True)
        else:
            sys.stdout.write(out)

    # --- history ----------------------------------------------------------------------------

    @cli.command()
    def undo():
        """Reverse the latest change (import, coding, codebook edit, ...)."""
        event = _ctx().project().undo()
        click.echo(f"Undid: {event['summary']}" if event else "Nothing to undo")

    @cli.command()
    def redo():
        """Replay the latest undone change."""
        event = _ctx().project().redo()
        click.echo(f"Redid: {event['summary']}" if event else "Nothing to redo")

    @cli.command()
    @click.option("--limit", default=30, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    def history(limit, as_json):
        """Recent changes: who did what, when (the audit trail)."""
        rows = [dict(r) for r in _ctx().project().history(limit)]
        if as_json:
            _emit([{k: r[k] for k in ("seq", "ts", "coder", "kind", "summary", "state")} for r in rows])
            return
        for r in rows:
            mark = " (undone)" if r["state"] == "undone" else ""
            click.echo(f"{r['seq']:>5} {r['ts'][:19]} {r['coder'] or '':<10} {r['summary']}{mark}")

    # --- demo and app ----------------------------------------------------------------------

    @cli.command()
    @click.argument("path", required=False)
    @click.option("--no-tui", is_flag=True, help="Only build the project and print a summary.")
    @click.option("--fresh", is_flag=True, help="Rebuild the demo project even if it exists (a backup is kept).")
    def demo(path, no_tui, fresh):
        """Build the demo project from transcripts/ and codebooks/ and open the app.

        An existing demo project is opened as it is, so coding done in it is kept; --fresh
        rebuilds it from scratch after a backup.
        """
        from qualcode.demo import build_demo, open_stats, summary_lines
        target = Path(path or _ctx().project_path or "demo-project/remittances.db")
        if target.exists() and not fresh:
            stats = open_stats(target)
        else:
            stats = build_demo(target, fresh=True, progress=lambda msg: click.echo(msg, err=True))
        for line in summary_lines(stats):
            click.echo(line)
        if not no_tui:
            _run_app(target, _ctx().coder)

    @cli.command()
    def tui():
        """Open the terminal app on the project."""
        ctx = _ctx()
        ctx.project()  # clear error when the project is missing or not a qualcode file
        _run_app(Path(ctx.project_path or "qualcode.db"), ctx.coder)


def _run_app(path: Path, coder: str | None) -> None:
    try:
        from qualcode.ui.app import run
    except ImportError as exc:
        raise QualcodeError(f"the terminal app is not available ({exc}); install qualcode with its dependencies") from None
    run(path, coder)
