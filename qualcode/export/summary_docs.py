"""Theme summaries written as Markdown, JSON or Word: the paragraph with numbered evidence marks,
the representative quotes with attribution, and the evidence list the marks point to."""

from __future__ import annotations

import json
from pathlib import Path

from qualcode.analysis.summaries import plural


def claim_marks(summary: dict, claim: dict, limit: int = 3) -> str:
    """'[3, 7, 12 +5]': the first evidence spans of a claim, as numbers into the evidence list."""
    ids = claim["evidence"]
    if not ids:
        return ""
    shown = ", ".join(str(i + 1) for i in ids[:limit])
    more = f" +{len(ids) - limit}" if len(ids) > limit else ""
    return f"[{shown}{more}]"


def quote_source(q: dict) -> str:
    who = q.get("speaker") or "unattributed"
    kind = plural(q["document_type"], 1) if q.get("document_type") else ""
    return f"— {who}, {q['document']}" + (f" ({kind})" if kind else "") + f" · {q['start']}–{q['end']}"


def markdown(summaries: list[dict], evidence_lists: bool = True) -> str:
    out = ["# Theme summaries", ""]
    for s in summaries:
        out += [f"## {s['code']}", ""]
        out.append(" ".join(f"{c['text']} {claim_marks(s, c)}".strip() for c in s["claims"] if c["kind"] != "quotes"))
        out.append("")
        for q in s["quotes"]:
            out += [f"> {q['text']}", "", quote_source(q) + f" [{q['evidence'] + 1}]  ", ""]
        if evidence_lists and s["evidence"]:
            out += ["<details><summary>Evidence</summary>", ""]
            for i, e in enumerate(s["evidence"], start=1):
                text = e["text"] if len(e["text"]) <= 160 else e["text"][:157] + "…"
                out.append(f"{i}. {e['document']} {e['start']}–{e['end']}: “{text}”".replace("\n", " "))
            out += ["", "</details>", ""]
    return "\n".join(out) + "\n"


def add_summary_to_docx(doc, s: dict, level: int = 2, evidence_limit: int | None = 40) -> None:
    """The paragraph (evidence marks as superscripts), then quotes, then the numbered evidence."""
    from docx.shared import Pt, RGBColor

    para = doc.add_paragraph()
    for c in s["claims"]:
        if c["kind"] == "quotes":
            continue
        para.add_run(c["text"])
        mark = claim_marks(s, c)
        if mark:
            sup = para.add_run(mark)
            sup.font.superscript = True
            sup.font.size = Pt(7)
            sup.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        para.add_run(" ")
    if s["terms"]:
        p = doc.add_paragraph()
        r = p.add_run("Distinctive terms: ")
        r.bold = True
        p.add_run(", ".join(f"{t['term']} ({t['count']})" for t in s["terms"]))
        for run in p.runs:
            run.font.size = Pt(9)
    for q in s["quotes"]:
        doc.add_paragraph(q["text"], style="Quote")
        src = doc.add_paragraph(quote_source(q) + f" [{q['evidence'] + 1}]")
        src.runs[0].font.size = Pt(8.5)
        src.runs[0].font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    if s["evidence"] and evidence_limit == 0:
        note = doc.add_paragraph(f"Evidence: {len(s['evidence'])} spans, verified verbatim; the numbers in "
                                 "brackets refer to the list in the appendix.")
        note.runs[0].font.size = Pt(8)
        note.runs[0].font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    elif s["evidence"]:
        shown = s["evidence"] if evidence_limit is None else s["evidence"][:evidence_limit]
        head = doc.add_paragraph()
        r = head.add_run(f"Evidence ({len(s['evidence'])} spans, verified verbatim"
                         + (f"; first {len(shown)} listed" if len(shown) < len(s["evidence"]) else "") + ")")
        r.bold = True
        r.font.size = Pt(8)
        for i, e in enumerate(shown, start=1):
            text = e["text"].replace("\n", " ")
            text = text if len(text) <= 140 else text[:137] + "…"
            p = doc.add_paragraph()
            p.paragraph_format.space_after = Pt(0)
            run = p.add_run(f"{i}. {e['document']} {e['start']}–{e['end']}: “{text}”")
            run.font.size = Pt(7.5)
            run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)


def write_summaries(summaries: list[dict], path, fmt: str | None = None, project=None) -> None:
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "json":
        path.write_text(json.dumps(summaries, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif fmt == "md":
        path.write_text(markdown(summaries), encoding="utf-8")
    elif fmt == "docx":
        from qualcode.export.docx_parts import new_document

        doc = new_document("Theme summaries")
        doc.add_heading("Theme summaries", level=0)
        for s in summaries:
            doc.add_heading(s["code"], level=1)
            add_summary_to_docx(doc, s, evidence_limit=None)
        doc.save(str(path))
    else:
        from qualcode.errors import QualcodeError
        raise QualcodeError(f"unknown summary format {fmt!r}; use md, json or docx")
