"""Charts without a plotting library: PNG written with numpy + zlib, and bar charts built as Word
tables whose bars are stretched one-pixel PNGs (labels stay real, selectable text).

matplotlib is not a dependency; these cover what the report needs: theme frequency by group
(horizontal bars) and the saturation curve (columns for new codes, a line for the running total).
"""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from pathlib import Path

PALETTE = ["4E79A7", "F28E2B", "59A14F", "E15759", "76B7B2", "EDC948", "B07AA1", "FF9DA7", "9C755F", "BAB0AC"]

# 3×5 digits for tick labels; everything else is text in the document around the picture
_DIGITS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001010010010",
    "8": "111101111101111", "9": "111101111001111",
}


def png_bytes(pixels) -> bytes:
    """Encode an H×W×3 uint8 array as PNG (no compression tricks needed at these sizes)."""
    import numpy as np

    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w, _ = pixels.shape
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), pixels.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def solid_png(hex_colour: str) -> bytes:
    import numpy as np

    rgb = [int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    return png_bytes(np.array(rgb, dtype=np.uint8).reshape(1, 1, 3))


class Canvas:
    """A white RGB raster with rectangles, thick lines, dots and digit labels."""

    def __init__(self, width: int, height: int):
        import numpy as np

        self.np = np
        self.px = np.full((height, width, 3), 255, dtype=np.uint8)
        self.h, self.w = height, width

    @staticmethod
    def rgb(hex_colour: str):
        return [int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]

    def rect(self, x0, y0, x1, y1, colour: str) -> None:
        x0, x1 = sorted((int(round(x0)), int(round(x1))))
        y0, y1 = sorted((int(round(y0)), int(round(y1))))
        self.px[max(y0, 0):min(y1, self.h), max(x0, 0):min(x1, self.w)] = self.rgb(colour)

    def line(self, x0, y0, x1, y1, colour: str, width: int = 3) -> None:
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        r = width / 2
        for k in range(steps + 1):
            t = k / steps
            x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
            self.rect(x - r, y - r, x + r, y + r, colour)

    def dot(self, x, y, radius: int, colour: str) -> None:
        np = self.np
        yy, xx = np.ogrid[:self.h, :self.w]
        self.px[(xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2] = self.rgb(colour)

    def digits(self, text: str, x, y, scale: int = 3, colour: str = "333333", anchor: str = "left") -> None:
        width = len(text) * 4 * scale - scale
        if anchor == "right":
            x -= width
        elif anchor == "center":
            x -= width / 2
        for ch in text:
            bits = _DIGITS.get(ch)
            if bits:
                for i, b in enumerate(bits):
                    if b == "1":
                        cx, cy = x + (i % 3) * scale, y + (i // 3) * scale
                        self.rect(cx, cy, cx + scale, cy + scale, colour)
            x += 4 * scale

    def png(self) -> bytes:
        return png_bytes(self.px)


def _nice_step(top: float, ticks: int = 5) -> int:
    raw = max(top / ticks, 1)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if step >= raw:
            return step
    return int(raw)


def saturation_png(result: dict, width: int = 1400, height: int = 560) -> bytes:
    """Columns: new codes per transcript; line: codes found so far. Axes labelled with digits only."""
    rows = result["rows"]
    c = Canvas(width, height)
    left, right, top, bottom = 90, 30, 30, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    ymax = max([r["cumulative"] for r in rows] + [1])
    step = _nice_step(ymax)
    ymax = ((ymax + step - 1) // step) * step
    n = max(len(rows), 1)

    def y_of(v):
        return top + plot_h - v / ymax * plot_h

    for v in range(0, ymax + 1, step):
        c.rect(left, y_of(v), left + plot_w, y_of(v) + 1, "E0E0E0")
        c.digits(str(v), left - 14, y_of(v) - 7, anchor="right")
    slot = plot_w / n
    bar = max(slot * 0.7, 1)
    for i, r in enumerate(rows):
        x = left + i * slot + (slot - bar) / 2
        if r["new"]:
            c.rect(x, y_of(r["new"]), x + bar, y_of(0), PALETTE[0])
    pts = [(left + (i + 0.5) * slot, y_of(r["cumulative"])) for i, r in enumerate(rows)]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        c.line(x0, y0, x1, y1, PALETTE[1], width=4)
    for x, y in pts:
        c.dot(x, y, 6 if n <= 40 else 4, PALETTE[1])
    c.rect(left, top, left + 2, top + plot_h + 1, "333333")
    c.rect(left, top + plot_h, left + plot_w, top + plot_h + 2, "333333")
    every = max(1, _nice_step(n, 12))
    for i in range(n):
        if (i + 1) % every == 0 or i == 0:
            x = left + (i + 0.5) * slot
            c.rect(x - 1, top + plot_h, x + 1, top + plot_h + 8, "333333")
            c.digits(str(i + 1), x, top + plot_h + 16, anchor="center")
    return c.png()


# --- bar charts as Word tables -------------------------------------------------------------------

def add_bar_chart(doc, groups: list[tuple[str, list[tuple[str, float, str]]]], series: list[str],
                  unit_label: str = "%", max_value: float | None = None, bar_cm: float = 9.0,
                  font_size: float = 8) -> None:
    """Horizontal grouped bars: groups are (label, [(series, value, text)]); one colour per series."""
    from docx.shared import Cm, Pt

    from qualcode.export.docx_parts import grid, set_cell

    colours = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    images = {s: solid_png(colours[s]) for s in series}
    top = max_value or max([v for _, bars in groups for _, v, _ in bars] + [1e-9])
    legend = doc.add_paragraph()
    for s in series:
        run = legend.add_run()
        run.add_picture(io.BytesIO(images[s]), width=Cm(0.35), height=Cm(0.25))
        t = legend.add_run(f" {s}    ")
        t.font.size = Pt(font_size)
    groups = [(label, bars) for label, bars in groups if bars]
    rows = sum(len(bars) for _, bars in groups)
    if not rows:
        doc.add_paragraph("(nothing to chart yet)")
        return
    table = doc.add_table(rows=rows, cols=2)
    table.autofit = False
    g = grid(table)
    r = 0
    for label, bars in groups:
        first = r
        for s, value, text in bars:
            cell = g[r][1]
            para = cell.paragraphs[0]
            para.paragraph_format.space_after = Pt(0)
            width = bar_cm * (value / top) if top else 0
            if width >= 0.02:
                para.add_run().add_picture(io.BytesIO(images[s]), width=Cm(width), height=Cm(0.28))
            run = para.add_run(f" {text}")
            run.font.size = Pt(font_size - 1)
            r += 1
        label_cell = g[first][0].merge(g[r - 1][0]) if r - 1 > first else g[first][0]
        set_cell(label_cell, label, bold=True, size=font_size)
    from qualcode.export.docx_parts import set_widths

    set_widths(table, [4.5, bar_cm + 3.5])


def add_theme_chart(doc, table: dict) -> None:
    """Theme frequency by group from a frequency table: bars are % of each group's units."""
    from qualcode.export.tables import UNIT_WORDS

    themes = [r for r in table["rows"] if r["depth"] == 0]
    cols = [c for c in table["columns"]]
    groups = []
    for r in themes:
        bars = []
        for c in cols:
            pct = r["column_percent"][c] or 0.0
            bars.append((c, pct, f"{pct:.0f}% ({r['counts'][c]} of {table['column_totals'][c]})"))
        groups.append((r["name"], bars))
    add_bar_chart(doc, groups, cols, max_value=100.0 if table["unit"] != "segment" else None)
    p = doc.add_paragraph(f"Share of {UNIT_WORDS[table['unit']]} in each group that touch the theme.")
    from docx.shared import Pt
    p.runs[0].font.size = Pt(8)


# --- saturation outputs --------------------------------------------------------------------------

def saturation_markdown(result: dict) -> str:
    what = "themes" if result["level"] == "theme" else "codes"
    lines = [f"# Saturation: new {what} per transcript ({result['order']} order)", "",
             f"| # | document | codings | {what} | new | cumulative | |", "|---:|---|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['index']} | {r['document']} | {r['codings']} | {r['codes']} | {r['new']} | "
                     f"{r['cumulative']} | {'█' * r['new']} |")
    lines += ["", saturation_sentence(result)]
    return "\n".join(lines) + "\n"


def saturation_sentence(result: dict) -> str:
    what = "themes" if result["level"] == "theme" else "codes"
    text = f"{result['total']} of {result['codebook_size']} {what} used."
    if not result["last_new_at"]:
        return text
    k = result["since_last_new"]
    if k == 0:
        return text + f" The last transcript ({result['last_new_at']}) still added new {what}."
    return text + (f" The last new {what[:-1]} appeared in {result['last_new_at']}; the {k} transcript"
                   f"{'s' * (k != 1)} coded since added none.")


def saturation_csv(result: dict) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["index", "document", "codings", "codes", "new", "cumulative", "new_codes"])
    for r in result["rows"]:
        w.writerow([r["index"], r["document"], r["codings"], r["codes"], r["new"], r["cumulative"],
                    "; ".join(r["new_codes"])])
    return out.getvalue()


def add_saturation_to_docx(doc, result: dict, picture_cm: float = 16.0) -> None:
    from docx.shared import Cm, Pt

    from qualcode.export.docx_parts import grid, repeat_header, set_cell

    what = "themes" if result["level"] == "theme" else "codes"
    if result["rows"]:
        doc.add_picture(io.BytesIO(saturation_png(result)), width=Cm(picture_cm))
    cap = doc.add_paragraph(
        f"New {what} per transcript (blue columns) and {what} found so far (orange line), transcripts in "
        f"{result['order']} order (x axis: 1–{len(result['rows'])}, listed below). " + saturation_sentence(result))
    cap.runs[0].font.size = Pt(8.5)
    t = doc.add_table(rows=len(result["rows"]) + 1, cols=5)
    t.style = "Table Grid"
    g = grid(t)
    for j, h in enumerate(["#", "Transcript", "Codings", f"New {what}", "Cumulative"]):
        set_cell(g[0][j], h, bold=True, size=8)
    for i, r in enumerate(result["rows"], start=1):
        for j, v in enumerate([r["index"], r["document"], r["codings"], r["new"], r["cumulative"]]):
            set_cell(g[i][j], str(v), size=8, align=None if j == 1 else "right")
    repeat_header(t.rows[0])
    from qualcode.export.docx_parts import set_widths

    set_widths(t, [1.0, 7.5, 2.2, 2.6, 2.6])


def write_saturation(result: dict, path, fmt: str | None = None) -> None:
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "json":
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif fmt == "csv":
        path.write_text(saturation_csv(result), encoding="utf-8-sig")
    elif fmt == "md":
        path.write_text(saturation_markdown(result), encoding="utf-8")
    elif fmt == "png":
        path.write_bytes(saturation_png(result))
    elif fmt == "docx":
        from qualcode.export.docx_parts import new_document

        doc = new_document("Saturation")
        doc.add_heading("Saturation", level=1)
        add_saturation_to_docx(doc, result)
        doc.save(str(path))
    elif fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.chart import BarChart, LineChart, Reference

        wb = Workbook()
        ws = wb.active
        ws.title = "Saturation"
        ws.append(["index", "document", "codings", "codes", "new", "cumulative", "new_codes"])
        for r in result["rows"]:
            ws.append([r["index"], r["document"], r["codings"], r["codes"], r["new"], r["cumulative"],
                       "; ".join(r["new_codes"])])
        n = len(result["rows"])
        if n:
            bars = BarChart()
            bars.title = "New codes per transcript"
            bars.add_data(Reference(ws, min_col=5, min_row=1, max_row=n + 1), titles_from_data=True)
            bars.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n + 1))
            line = LineChart()
            line.add_data(Reference(ws, min_col=6, min_row=1, max_row=n + 1), titles_from_data=True)
            bars += line
            ws.add_chart(bars, "I2")
        wb.save(str(path))
    else:
        from qualcode.errors import QualcodeError
        raise QualcodeError(f"unknown saturation format {fmt!r}; use md, csv, json, png, docx or xlsx")
