"""`qualcode report -o report.docx`: one Word document with the corpus and method, the codebook,
the frequency heatmap, theme frequency by group, co-occurrence, saturation, and a section per theme
(grounded summary with evidence marks and representative quotes), plus an evidence appendix.

Built with python-docx only (images are PNGs we draw ourselves), so it opens in Word and LibreOffice.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from qualcode.analysis.units import NO_VALUE, Corpus
from qualcode.store.project import Project

INTRO_UNITS = ("Counts are of distinct units touched by a coded span: a coded segment is one coding; "
               "“documents” counts transcripts in which a theme or any of its sub-codes was coded at least once; "
               "“participants” counts speakers other than interviewers and moderators whose turns a coded span "
               "overlaps. A theme's row includes its sub-codes.")


def _first_sentence(text: str | None, limit: int = 220) -> str:
    text = " ".join((text or "").split())
    if not text:
        return ""
    cut = text.find(". ")
    text = text[:cut + 1] if 0 < cut < limit else text
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _default_by(corpus: Corpus) -> str | None:
    for key in ("type", "city"):
        values = {corpus.document_value(d, key) for d in corpus.docs} - {NO_VALUE}
        if len(values) >= 2:
            return key
    return None


def _page_number_footer(section) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    para = section.footer.paragraphs[0]
    para.text = ""
    run = para.add_run("qualcode report · page ")
    run.font.size = Pt(8)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):  # one run each, as Word writes it
        field = para.add_run()
        field.font.size = Pt(8)
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        field._r.append(el)


def build_report(project: Project, path, by: str | None = None, title: str | None = None, progress=None,
                 coder: str | None = None) -> dict:
    """Write the report; returns {"themes", "quotes", "by"}. progress(n) advances a 100-step bar."""
    from docx.shared import Pt

    from qualcode.analysis.cooccurrence import cooccurrence
    from qualcode.analysis.frequencies import frequency_table
    from qualcode.analysis.saturation import saturation
    from qualcode.analysis.summaries import plural, summarize
    from qualcode.export import charts, tables
    from qualcode.export.docx_parts import landscape_section, new_document, portrait_section, repeat_header, set_cell
    from qualcode.export.docx_parts import grid, set_widths, usable_width_cm
    from qualcode.export.summary_docs import add_summary_to_docx

    step = progress or (lambda n: None)
    corpus = Corpus(project, coder=coder)
    by = by or _default_by(corpus)
    title = title or project.setting("report_title") or "Thematic analysis report"
    doc = new_document(title)
    _page_number_footer(doc.sections[0])

    doc.add_heading(title, level=0)
    sub = doc.add_paragraph(f"Project {Path(project.path).name} · generated {date.today().isoformat()} by qualcode")
    sub.runs[0].font.size = Pt(9)

    # --- corpus and method ---------------------------------------------------------------------
    doc.add_heading("Corpus and method", level=1)
    types = Counter(corpus.docs[d]["type"] or "unspecified" for d in corpus.docs)
    participants = [s for s in corpus.speakers if not corpus.is_interviewer(s)]
    genders = Counter(corpus.speaker_value(s, "gender") for s in participants)
    coders = Counter(c.coder for c in corpus.codings)
    type_text = ", ".join(f"{n} {plural(t, n)}" for t, n in types.most_common())
    gender_text = ", ".join(f"{n} {g}" for g, n in genders.most_common() if g != NO_VALUE)
    doc.add_paragraph(
        f"The corpus holds {len(corpus.docs)} transcripts ({type_text}) with {len(participants)} participants"
        + (f" ({gender_text})" if gender_text else "") + ". "
        f"They were coded against a codebook of {sum(1 for c in corpus.codes if c['parent_id'] is None)} themes and "
        f"{len(corpus.codes)} codes in all; the project holds {len(corpus.codings)} codings by "
        f"{len(coders)} coder{'s' * (len(coders) != 1)}"
        + (f" ({', '.join(f'{k}: {n}' for k, n in coders.most_common())})" if coders else "") + ".")
    coded = {c.document_id for c in corpus.codings}
    if 0 < len(coded) < len(corpus.docs):
        doc.add_paragraph(f"Coding is under way: {len(coded)} of the {len(corpus.docs)} transcripts have codings so "
                          "far. Frequency tables count out of all transcripts in each group; theme summaries count "
                          "out of the transcripts coded so far.")
    doc.add_paragraph(INTRO_UNITS)
    doc.add_paragraph(
        "Theme summaries are extractive: each sentence states a count, a contrast, a term or an overlap computed "
        "from the codings, and carries numbered marks pointing to the coded spans that support it (listed in the "
        "appendix). Every quote and evidence span was checked to be the transcript's exact text at its offsets. "
        "Distinctive terms are ranked by class-based TF-IDF against the other themes; representative quotes are "
        "chosen for closeness to the theme's centre and for being unlike each other.")
    step(5)

    # --- codebook ------------------------------------------------------------------------------
    doc.add_heading("Codebook", level=1)
    counts = Counter(c.code_id for c in corpus.codings)
    t = doc.add_table(rows=len(corpus.codes) + 1, cols=3)
    t.style = "Table Grid"
    g = grid(t)
    for j, h in enumerate(["Code", "Definition", "Codings"]):
        set_cell(g[0][j], h, bold=True, size=8.5)
    for i, c in enumerate(corpus.codes, start=1):
        theme = c["parent_id"] is None
        set_cell(g[i][0], ("    " * c["depth"]) + c["name"], bold=theme, size=8.5,
                 fill="F2F2F2" if theme else None)
        set_cell(g[i][1], _first_sentence(c["description"]), size=8, fill="F2F2F2" if theme else None)
        n = counts.get(c["id"], 0) if not theme else sum(counts.get(o["id"], 0) for o in corpus.codes
                                                          if o["path"] == c["path"] or o["path"].startswith(c["path"] + "/"))
        set_cell(g[i][2], str(n), size=8.5, align="right", bold=theme, fill="F2F2F2" if theme else None)
    repeat_header(t.rows[0])
    set_widths(t, [5.6, usable_width_cm(doc) - 7.6, 2.0])
    step(10)

    # --- frequencies -----------------------------------------------------------------------------
    freq = frequency_table(project, by=by, unit="document", corpus=corpus)
    wide = len(freq["columns"]) > 6
    if wide:
        landscape_section(doc)
    doc.add_heading("Theme frequencies", level=1)
    doc.add_paragraph(f"Documents in which each code was applied, by {by or 'corpus'}: count and share of the "
                      f"group's documents; darker cells are larger shares.")
    tables.add_to_docx(doc, freq)
    seg = frequency_table(project, by=by, unit="segment", corpus=corpus)
    if seg.get("test"):
        p = doc.add_paragraph(f"Coded segments, themes × {by}: {tables.test_line(seg['test'])}.")
        p.runs[0].font.size = Pt(8)
    if wide:
        portrait_section(doc)
    step(15)
    doc.add_heading(f"Theme frequency by {by or 'corpus'}", level=1)
    charts.add_theme_chart(doc, freq)
    step(5)

    # --- co-occurrence and saturation ------------------------------------------------------------
    co = cooccurrence(project, unit="segment", themes=True, corpus=corpus)
    if co["codes"]:
        doc.add_heading("Themes coded together", level=1)
        doc.add_paragraph("Pairs of codings of two themes whose spans overlap (diagonal: codings of the theme).")
        tables.add_to_docx(doc, co)
    sat = saturation(project, corpus=corpus)
    if sat["rows"]:
        doc.add_heading("Saturation", level=1)
        charts.add_saturation_to_docx(doc, sat)
    step(10)

    # --- one section per theme -------------------------------------------------------------------
    summaries = summarize(project, coder=coder)
    step(20)
    doc.add_page_break()
    doc.add_heading("Themes", level=1)
    n_quotes = 0
    for s in summaries:
        if not s["counts"]["codings"]:
            continue
        doc.add_heading(s["name"], level=2)
        add_summary_to_docx(doc, s, evidence_limit=0)
        n_quotes += len(s["quotes"])
    step(15)

    # --- evidence appendix -----------------------------------------------------------------------
    doc.add_page_break()
    doc.add_heading("Appendix: evidence", level=1)
    doc.add_paragraph("The spans each numbered mark in a theme section refers to (document, code-point offsets, "
                      "text; long spans shortened here, complete in `qualcode summarize --json`).")
    from qualcode.export.docx_parts import BodyWriter

    w = BodyWriter(doc)
    try:
        for s in summaries:
            if not s["evidence"]:
                continue
            w.paragraph(s["name"], style="Heading 3", keep_next=True)
            for i, e in enumerate(s["evidence"], start=1):
                text = " ".join(e["text"].split())
                text = text if len(text) <= 110 else text[:107] + "…"
                w.paragraph([(f"{i}. ", {"b": True, "size": 14}),
                             (f"{e['document']} {e['start']}–{e['end']}: “{text}”", {"size": 14, "color": "404040"})],
                            space_after=20)
    finally:
        w.close()
    step(10)
    doc.save(str(path))
    step(10)
    return {"themes": sum(1 for s in summaries if s["counts"]["codings"]), "quotes": n_quotes, "by": by}
