"""Frequency and co-occurrence tables written as CSV, JSON, Markdown, Word (heatmap) or Excel
(colour-scale conditional formatting).

A frequency table is the dict of `analysis.frequencies.frequency_table`; a co-occurrence table
the dict of `analysis.cooccurrence.cooccurrence` (it has "matrix" instead of "rows").
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from qualcode.errors import QualcodeError

FORMATS = ("csv", "json", "md", "docx", "xlsx")
CHUNK = 12  # groups per Word table before it is split
UNIT_WORDS = {"segment": "coded segments", "sentence": "sentences", "turn": "speaker turns",
              "document": "documents", "speaker": "participants"}


def fmt_from(path, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower().lstrip(".")
    elif path:
        fmt = Path(path).suffix.lower().lstrip(".")
    fmt = {"markdown": "md", "excel": "xlsx", "word": "docx"}.get(fmt or "", fmt or "")
    if fmt not in FORMATS:
        raise QualcodeError(f"unknown table format {fmt or '(none)'!r}; use one of {', '.join(FORMATS)}")
    return fmt


def write_table(table: dict, path, fmt: str | None = None) -> None:
    fmt = fmt_from(path, fmt)
    path = Path(path)
    if fmt == "json":
        path.write_text(json.dumps(table, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as f:  # BOM: Excel opens UTF-8 correctly
            csv.writer(f).writerows(csv_rows(table))
    elif fmt == "md":
        path.write_text(markdown(table), encoding="utf-8")
    elif fmt == "docx":
        from qualcode.export.docx_parts import new_document

        doc = new_document(title(table))
        width = len(table["codes"]) if _is_matrix(table) else len(table["columns"])
        if width > 8:  # wide tables get a landscape page
            from docx.enum.section import WD_ORIENT

            section = doc.sections[0]
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width
        doc.add_heading(title(table), level=1)
        add_to_docx(doc, table)
        doc.save(str(path))
    else:
        write_xlsx(table, path)


def title(table: dict) -> str:
    unit = UNIT_WORDS.get(table["unit"], table["unit"])
    if "matrix" in table:
        return f"Code co-occurrence ({unit})"
    by = f" by {table['by']}" if table.get("by") else ""
    return f"Code frequencies{by} ({unit})"


def _is_matrix(table: dict) -> bool:
    return "matrix" in table


# --- plain grids -----------------------------------------------------------------------------

def csv_rows(table: dict) -> list[list]:
    if _is_matrix(table):
        return [["code", *table["codes"]]] + [[c, *row] for c, row in zip(table["codes"], table["matrix"])]
    cols = table["columns"]
    head = ["code", "depth", *cols, "total", *[f"{c} (% of column)" for c in cols],
            *[f"{c} (% of row)" for c in cols]]
    out = [head]
    for r in table["rows"]:
        out.append([r["code"], r["depth"], *[r["counts"][c] for c in cols], r["total"],
                    *[_blank(r["column_percent"][c]) for c in cols], *[_blank(r["row_percent"][c]) for c in cols]])
    out.append([f"base ({UNIT_WORDS[table['unit']]})", "", *[table["column_totals"][c] for c in cols], "", *[""] * 2 * len(cols)])
    return out


def _blank(v):
    return "" if v is None else v


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def test_line(test: dict | None) -> str:
    if not test:
        return ""
    p = test["p"]
    ptxt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    warn = "; expected counts too small, read with care" if test["small_expected"] else ""
    v = f", Cramér's V = {test['cramers_v']:.2f}" if test.get("cramers_v") is not None else ""
    return f"χ²({test['df']}) = {test['chi2']:.2f}, {ptxt}{v}{warn}"


def markdown(table: dict) -> str:
    lines = [f"# {title(table)}", ""]
    if _is_matrix(table):
        codes = table["codes"]
        lines.append("| code | " + " | ".join(_md_cell(c) for c in codes) + " |")
        lines.append("|---|" + "---:|" * len(codes))
        for c, row in zip(codes, table["matrix"]):
            lines.append(f"| {_md_cell(c)} | " + " | ".join(str(v) for v in row) + " |")
        return "\n".join(lines) + "\n"
    cols = table["columns"]
    lines.append("Cells: count (% of column). Themes are in bold and include their sub-codes.")
    lines.append("")
    lines.append("| code | " + " | ".join(_md_cell(c) for c in cols) + " | total | test |")
    lines.append("|---|" + "---:|" * (len(cols) + 1) + "---|")
    for r in table["rows"]:
        name = ("&nbsp;&nbsp;" * r["depth"]) + _md_cell(r["name"])
        if r["depth"] == 0 or r["subtotal"]:
            name = f"**{name}**"
        cells = []
        for c in cols:
            pct = r["column_percent"][c]
            cells.append(f"{r['counts'][c]}" + (f" ({pct:.1f}%)" if pct is not None else ""))
        test = r.get("test")
        mark = ""
        if test:
            mark = ("p<0.05" if test["p"] < 0.05 else "") + (" ⚠" if test["small_expected"] else "")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {r['total']} | {mark.strip()} |")
    lines.append(f"| *base ({UNIT_WORDS[table['unit']]})* | "
                 + " | ".join(str(table["column_totals"][c]) for c in cols) + " | | |")
    lines.append("")
    if table.get("test"):
        lines.append(f"Themes × {table['by']}: {test_line(table['test'])}.")
    if table.get("test_note"):
        lines.append(f"No chi-square test: {table['test_note']}.")
    lines.append("⚠ marks a row whose expected counts are too small for the chi-square test.")
    return "\n".join(lines) + "\n"


# --- Word ------------------------------------------------------------------------------------

def add_to_docx(doc, table: dict, font_size: float | None = None) -> None:
    """Append the table to a python-docx document, cells shaded as a heatmap."""
    from docx.shared import Pt

    from qualcode.export.docx_parts import fill_widths, grid, heat_colour, repeat_header, set_cell, set_widths

    if _is_matrix(table):
        codes = table["codes"]
        size = font_size or (7 if len(codes) > 12 else 8.5)
        t = doc.add_table(rows=len(codes) + 1, cols=len(codes) + 1)
        t.style = "Table Grid"
        g = grid(t)
        set_cell(g[0][0], "code", bold=True, size=size)
        for j, c in enumerate(codes):
            set_cell(g[0][j + 1], str(j + 1), bold=True, size=size, align="center")
        off = [v for i, row in enumerate(table["matrix"]) for j, v in enumerate(row) if i != j]
        top = max(off, default=0)
        for i, (c, row) in enumerate(zip(codes, table["matrix"])):
            set_cell(g[i + 1][0], f"{i + 1}. {c}", size=size)
            for j, v in enumerate(row):
                fill = "E6E6E6" if i == j else heat_colour(v, top)
                set_cell(g[i + 1][j + 1], str(v), size=size, align="right", fill=fill,
                         italic=(i == j))
        repeat_header(t.rows[0])
        set_widths(t, fill_widths(doc, len(codes) + 1, 4.5))
        note = doc.add_paragraph("Diagonal (grey): the code's own count. Darker cells: more co-occurrence.")
        note.runs[0].font.size = Pt(8)
        return

    all_cols = table["columns"]
    top = max((r["column_percent"][c] or 0 for r in table["rows"] if not r["subtotal"] for c in all_cols), default=0)
    top_theme = max((r["column_percent"][c] or 0 for r in table["rows"] if r["subtotal"] for c in all_cols), default=0)
    # many groups (e.g. by document): several tables of CHUNK columns each, the code column repeated
    chunks = [all_cols[k:k + CHUNK] for k in range(0, len(all_cols), CHUNK)] or [[]]
    for n_chunk, cols in enumerate(chunks):
        last_chunk = n_chunk == len(chunks) - 1
        if n_chunk:
            doc.add_paragraph()
        _frequency_chunk(doc, table, cols, last_chunk, top, top_theme, font_size, compact=len(all_cols) > 8)
    shares = "count (% of column)" if len(all_cols) <= 8 else "count"
    notes = [f"Cells: {shares}; darker = larger share of the column. Themes (bold) include their "
             "sub-codes, scaled separately."]
    if table.get("test"):
        notes.append(f"Themes × {table['by']}: {test_line(table['test'])}.")
    flagged = [r["name"] for r in table["rows"] if r.get("test") and r["test"]["p"] < 0.05]
    if flagged:
        notes.append("Codes whose share differs between groups (p < 0.05, not corrected for testing every "
                     "code): " + ", ".join(flagged[:12])
                     + (" …" if len(flagged) > 12 else "") + ".")
    if table.get("test_note"):
        notes.append(f"No chi-square test: {table['test_note']}.")
    for n in notes:
        p = doc.add_paragraph(n)
        p.runs[0].font.size = Pt(8)


def _frequency_chunk(doc, table: dict, cols: list[str], with_total: bool, top: float, top_theme: float,
                     font_size: float | None, compact: bool) -> None:
    from qualcode.export.docx_parts import fill_widths, grid, heat_colour, repeat_header, set_cell, set_widths

    size = font_size or (7 if compact else 8.5)
    extra = 1 if with_total else 0
    t = doc.add_table(rows=len(table["rows"]) + 2, cols=len(cols) + 1 + extra)
    t.style = "Table Grid"
    g = grid(t)
    set_cell(g[0][0], "Code", bold=True, size=size)
    for j, c in enumerate(cols):
        set_cell(g[0][j + 1], c, bold=True, size=size, align="center")
    if with_total:
        set_cell(g[0][len(cols) + 1], "Total", bold=True, size=size, align="center")
    for i, r in enumerate(table["rows"], start=1):
        themeish = r["subtotal"] or r["depth"] == 0
        set_cell(g[i][0], ("    " * r["depth"]) + r["name"], bold=themeish, size=size)
        for j, c in enumerate(cols):
            pct = r["column_percent"][c]
            fill = heat_colour(pct, top_theme if r["subtotal"] else top)
            text = str(r["counts"][c])
            if not compact and pct is not None and r["counts"][c]:
                text += f" ({pct:.0f}%)"
            set_cell(g[i][j + 1], text, size=size, align="right", fill=fill, bold=themeish)
        if with_total:
            set_cell(g[i][len(cols) + 1], str(r["total"]), size=size, align="right", bold=themeish)
    last = len(table["rows"]) + 1
    set_cell(g[last][0], f"Base ({UNIT_WORDS[table['unit']]})", italic=True, size=size)
    for j, c in enumerate(cols):
        set_cell(g[last][j + 1], str(table["column_totals"][c]), italic=True, size=size, align="right")
    repeat_header(t.rows[0])
    set_widths(t, fill_widths(doc, len(cols) + 1 + extra, 5.5 if len(cols) < 10 else 4.5, 1.4 if with_total else None))


# --- Excel -----------------------------------------------------------------------------------

def write_xlsx(table: dict, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    scale = ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="2E5E8C")
    if _is_matrix(table):
        ws = wb.active
        ws.title = "Co-occurrence"
        codes = table["codes"]
        ws.append(["code", *codes])
        for c, row in zip(codes, table["matrix"]):
            ws.append([c, *row])
        n = len(codes)
        if n:
            ws.conditional_formatting.add(f"B2:{get_column_letter(n + 1)}{n + 1}", scale)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(text_rotation=60 if cell.column > 1 else 0)
        ws.column_dimensions["A"].width = 40
        ws.freeze_panes = "B2"
        wb.save(str(path))
        return
    cols = table["columns"]
    sheets = [("Counts", "counts"), ("% of column", "column_percent"), ("% of row", "row_percent")]
    for k, (name, key) in enumerate(sheets):
        ws = wb.active if k == 0 else wb.create_sheet(name)
        ws.title = name
        ws.append(["Code", "Depth", *cols, "Total"] if key == "counts" else ["Code", "Depth", *cols])
        for r in table["rows"]:
            values = [r[key][c] for c in cols]
            ws.append([("  " * r["depth"]) + r["name"], r["depth"], *values, *([r["total"]] if key == "counts" else [])])
            if r["subtotal"] or r["depth"] == 0:
                ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        if key == "counts":
            ws.append([f"Base ({UNIT_WORDS[table['unit']]})", "", *[table["column_totals"][c] for c in cols]])
        # leaves and themes on separate scales, as in the Word heatmap
        leaf_rows = [i + 2 for i, r in enumerate(table["rows"]) if not r["subtotal"]]
        last_col = get_column_letter(len(cols) + 2)
        if cols and leaf_rows:
            ranges = " ".join(f"C{i}:{last_col}{i}" for i in leaf_rows)
            ws.conditional_formatting.add(ranges, scale)
            theme_rows = [i + 2 for i, r in enumerate(table["rows"]) if r["subtotal"]]
            if theme_rows:
                ws.conditional_formatting.add(" ".join(f"C{i}:{last_col}{i}" for i in theme_rows),
                                              ColorScaleRule(start_type="min", start_color="FFFFFF",
                                                             end_type="max", end_color="2E5E8C"))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 44
        ws.freeze_panes = "C2"
    themes = [r for r in table["rows"] if r["depth"] == 0]
    if cols and themes:
        from openpyxl.chart import BarChart, Reference

        ws = wb.create_sheet("Themes chart")
        ws.append(["Theme", *cols])
        for r in themes:
            ws.append([r["name"], *[r["column_percent"][c] or 0 for c in cols]])
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"Themes: % of {UNIT_WORDS[table['unit']]} in each group"
        chart.add_data(Reference(ws, min_col=2, max_col=len(cols) + 1, min_row=1, max_row=len(themes) + 1),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=len(themes) + 1))
        chart.height, chart.width = 10, 18
        ws.add_chart(chart, f"{get_column_letter(len(cols) + 3)}2")
    ws = wb.create_sheet("Tests")
    ws.append(["Code", "chi2", "df", "p", "Cramér's V", "min expected", "expected counts too small"])
    for r in table["rows"]:
        t = r.get("test")
        if t:
            ws.append([r["code"], t["chi2"], t["df"], t["p"], t["cramers_v"], t["min_expected"],
                       "yes" if t["small_expected"] else "no"])
    if table.get("test"):
        t = table["test"]
        ws.append([])
        ws.append([f"Themes × {table['by']}", t["chi2"], t["df"], t["p"], t["cramers_v"], t["min_expected"],
                   "yes" if t["small_expected"] else "no"])
    if table.get("test_note"):
        ws.append([f"No test: {table['test_note']}"])
    ws.column_dimensions["A"].width = 44
    for cell in ws[1]:
        cell.font = Font(bold=True)
    wb.save(str(path))
