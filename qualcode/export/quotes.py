"""Coded quotes with their source: document, speaker, attributes, code path, memo, coder and
position, exported to Word (grouped by theme and sub-code), CSV, Excel or Markdown.

Every quote is cut from the document's stored text at the coding's offsets, and checked against
the text saved with the coding, so an export never shows words that are not in the transcript.
"""

from __future__ import annotations

import csv
from pathlib import Path

from qualcode.analysis.units import Corpus, parse_condition
from qualcode.codebook import SEP
from qualcode.errors import QualcodeError
from qualcode.store.project import Project
from qualcode.text import LineIndex

FORMATS = ("docx", "csv", "md", "xlsx")
ATTRIBUTION_KEYS = ("position", "gender", "age", "relation")  # the rest is in the CSV/XLSX columns
BASE_COLUMNS = ["theme", "code", "code_name", "document", "document_type", "speaker", "start", "end", "line",
                "turn", "text", "memo", "coder", "coded_at", "verbatim"]


def collect_quotes(project: Project, codes: list[str] | tuple[str, ...] = (), where: list | tuple = (),
                   coder: str | None = None, corpus: Corpus | None = None) -> list[dict]:
    """Quotes in codebook order (theme, sub-code), then document order and position.

    `codes` keeps those codes and their sub-codes; `where` holds KEY=VALUE conditions on document
    or speaker attributes (all must hold); `coder` keeps one coder's codings.
    """
    corpus = corpus or Corpus(project, coder=coder)
    keep_codes = None
    if codes:
        from qualcode.codebook import find_code

        keep_codes = set()
        for ref in codes:
            root = find_code(project, ref)["path"]
            keep_codes |= {c["id"] for c in corpus.codes if c["path"] == root or c["path"].startswith(root + SEP)}
    conditions = [parse_condition(w) for w in where]
    docs_ok: set[str] | None = None
    speakers_ok: list[set[str]] = []
    for key, value in conditions:
        if corpus.attribute_level(key) in ("document", "name"):
            match = corpus.matching_documents(key, value)
            docs_ok = match if docs_ok is None else docs_ok & match
        else:
            speakers_ok.append(corpus.matching_speakers(key, value))
    code_order = {c["id"]: i for i, c in enumerate(corpus.codes)}
    doc_order = {d: i for i, d in enumerate(corpus.doc_order)}
    rows = {i: (t, m) for i, t, m in project.conn.execute("SELECT id, text, memo FROM codings")}
    texts: dict[str, str] = {}
    lines: dict[str, LineIndex] = {}
    # per document and per speaker once, shared by their quotes (read-only)
    doc_attrs = {d: {k: v for k, v in a.items() if k not in ("type", "language", "title")}
                 for d, a in corpus.doc_attrs.items()}
    sp_attrs = {sid: {k: v for k, v in s["attrs"].items() if k != "age_group"} for sid, s in corpus.speakers.items()}
    labels = {sid: s["label"] for sid, s in corpus.speakers.items()}
    no_attrs: dict = {}
    out = []
    for c in corpus.codings:
        if keep_codes is not None and c.code_id not in keep_codes:
            continue
        if docs_ok is not None and c.document_id not in docs_ok:
            continue
        sps = corpus.coding_speakers(c)
        if speakers_ok and any(not (set(sps) & group) for group in speakers_ok):
            continue
        doc_id = c.document_id
        if doc_id not in texts:
            texts[doc_id] = project.one("SELECT text FROM documents WHERE id = ?", (doc_id,))["text"]
            lines[doc_id] = LineIndex(texts[doc_id])
        text = texts[doc_id][c.start:c.end]
        code = corpus.code_by_id[c.code_id]
        turns = corpus.turns.get(doc_id)
        first_turn = turns.overlapping(c.start, c.end)[:1] if turns is not None else []
        doc = corpus.docs[doc_id]
        saved = rows[c.id]
        out.append({
            "coding_id": c.id, "theme": code["path"].split(SEP, 1)[0], "code": code["path"],
            "code_name": code["name"], "document": doc["name"], "document_type": doc["type"],
            "document_attributes": doc_attrs.get(doc_id, no_attrs),
            "speaker": ", ".join(labels[s] for s in sps) or None,
            "speaker_attributes": sp_attrs[sps[0]] if len(sps) == 1 else no_attrs,
            "start": c.start, "end": c.end, "line": lines[doc_id].location(c.start)[0] + 1,
            "turn": first_turn[0] + 1 if first_turn else None,
            "text": text, "memo": saved[1], "coder": c.coder, "coded_at": c.created_at,
            "verbatim": text == saved[0],
            "_order": (code_order.get(c.code_id, 1 << 30), doc_order.get(doc_id, 0), c.start, c.end),
        })
    out.sort(key=lambda q: q["_order"])
    for q in out:
        del q["_order"]
    return out


def attribution(q: dict) -> str:
    """'— P3 (female, 47, wife), FG01_baku (focus group, Baku) · 1204–1388, line 31 · coded by aysel'."""
    who = q["speaker"] or "unattributed"
    attrs = q["speaker_attributes"]
    details = [attrs[k] for k in ATTRIBUTION_KEYS if attrs.get(k)]
    if details:
        who += f" ({', '.join(str(d) for d in details[:4])})"
    where = [(q["document_type"] or "").replace("_", " ")]
    for key in ("city", "sector"):
        if q["document_attributes"].get(key):
            where.append(q["document_attributes"][key])
    where = [w for w in where if w]
    src = q["document"] + (f" ({', '.join(where)})" if where else "")
    return f"— {who}, {src} · {q['start']}–{q['end']}, line {q['line']} · coded by {q['coder']}"


def flat_rows(quotes: list[dict]) -> tuple[list[str], list[list]]:
    """One row per quote; document and speaker attributes spread over doc:KEY / speaker:KEY columns."""
    doc_keys = sorted({k for q in quotes for k in q["document_attributes"]})
    sp_keys = sorted({k for q in quotes for k in q["speaker_attributes"]})
    head = BASE_COLUMNS + [f"doc:{k}" for k in doc_keys] + [f"speaker:{k}" for k in sp_keys]
    rows = []
    for q in quotes:
        rows.append([q[k] for k in BASE_COLUMNS] + [q["document_attributes"].get(k, "") for k in doc_keys]
                    + [q["speaker_attributes"].get(k, "") for k in sp_keys])
    return head, rows


def export_quotes(project: Project, path, fmt: str | None = None, codes=(), where=(), coder: str | None = None,
                  title: str | None = None, progress=None) -> int:
    """Collect and write the quotes; returns how many were written."""
    fmt = quote_format(path, fmt)
    return write_quotes(project, collect_quotes(project, codes, where, coder), path, fmt, title, progress)


def quote_format(path, fmt: str | None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    fmt = {"markdown": "md", "word": "docx", "excel": "xlsx"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise QualcodeError(f"unknown quote format {fmt or '(none)'!r}; use one of {', '.join(FORMATS)}")
    return fmt


def write_quotes(project: Project, quotes: list[dict], path, fmt: str, title: str | None = None,
                 progress=None) -> int:
    path = Path(path)
    if fmt == "csv":
        head, rows = flat_rows(quotes)
        with open(path, "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f)
            w.writerow(head)
            w.writerows(rows)
    elif fmt == "xlsx":
        write_xlsx(quotes, path)
    elif fmt == "md":
        path.write_text(markdown(quotes, title), encoding="utf-8")
    else:
        from qualcode.export.docx_parts import new_document

        doc = new_document(title or "Coded quotes")
        doc.add_heading(title or "Coded quotes", level=0)
        add_quotes_to_docx(doc, quotes, project=project, progress=progress)
        doc.save(str(path))
    return len(quotes)


def _groups(quotes: list[dict]):
    """(theme, [(code path or None for the theme itself, [quotes])]) in the quotes' order."""
    themes: dict[str, dict[str | None, list[dict]]] = {}
    for q in quotes:
        sub = None if q["code"] == q["theme"] else q["code"]
        themes.setdefault(q["theme"], {}).setdefault(sub, []).append(q)
    return [(t, list(subs.items())) for t, subs in themes.items()]


def add_quotes_to_docx(doc, quotes: list[dict], project: Project | None = None, level: int = 1,
                       progress=None, headings: bool = True) -> None:
    """Headings per theme and sub-code, each quote as a Quote paragraph with an attribution line."""
    from qualcode.export.docx_parts import BodyWriter

    descriptions = {}
    if project is not None:
        descriptions = {r["path"]: r["description"] for r in project.query("SELECT path, description FROM codes")}
    w = BodyWriter(doc)
    try:
        for theme, subs in _groups(quotes):
            n = sum(len(qs) for _, qs in subs)
            if headings:
                w.paragraph(f"{theme} ({n} quote{'s' * (n != 1)})", style=f"Heading {level}", keep_next=True)
            for sub, qs in subs:
                if headings and sub is not None:
                    w.paragraph(f"{sub.split(SEP, 1)[1]} ({len(qs)})", style=f"Heading {level + 1}", keep_next=True)
                    if descriptions.get(sub):
                        w.paragraph([(descriptions[sub], {"i": True, "color": "595959", "size": 18})])
                for q in qs:
                    w.paragraph(q["text"], style="Quote", keep_next=True)
                    w.paragraph([(attribution(q), {"color": "595959", "size": 17})])
                    if q["memo"]:
                        w.paragraph([("Memo: ", {"b": True, "size": 17}), (q["memo"], {"i": True, "size": 17})])
                    if progress:
                        progress(1)
    finally:
        w.close()


def markdown(quotes: list[dict], title: str | None = None) -> str:
    out = [f"# {title or 'Coded quotes'}", "", f"{len(quotes)} quotes.", ""]
    for theme, subs in _groups(quotes):
        out += [f"## {theme}", ""]
        for sub, qs in subs:
            if sub is not None:
                out += [f"### {sub.split(SEP, 1)[1]}", ""]
            for q in qs:
                out += ["> " + line if line else ">" for line in q["text"].split("\n")]
                out += ["", attribution(q) + "  "]
                if q["memo"]:
                    out += [f"*Memo:* {q['memo']}"]
                out.append("")
    return "\n".join(out)


def write_xlsx(quotes: list[dict], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from qualcode.export.docx_parts import xml_text

    head, rows = flat_rows(quotes)
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "Quotes"
    ws.append(head)
    for r in rows:
        ws.append([xml_text(v) if isinstance(v, str) else v for v in r])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = {"theme": 18, "code": 34, "code_name": 24, "document": 24, "text": 80, "memo": 30}
    from openpyxl.utils import get_column_letter

    for i, h in enumerate(head, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(h, 12)
    text_col = head.index("text") + 1
    for row in ws.iter_rows(min_row=2, min_col=text_col, max_col=text_col):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.save(str(path))
