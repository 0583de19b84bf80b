"""Small pieces of Word formatting python-docx has no call for: cell shading, heat colours,
landscape sections, compact tables, and fast bulk paragraphs.

Only export modules import this, so python-docx loads when a .docx is written and not before.
"""

from __future__ import annotations

HEAT_LOW = (255, 255, 255)
HEAT_HIGH = (46, 94, 140)  # a dark blue: white text stays readable on the top of the scale


def heat_colour(value: float | None, top: float) -> str | None:
    """#RRGGBB between white and dark blue, or None for an empty cell."""
    if value is None or top <= 0 or value <= 0:
        return None
    t = max(0.0, min(1.0, value / top))
    rgb = [round(lo + (hi - lo) * t) for lo, hi in zip(HEAT_LOW, HEAT_HIGH)]
    return "".join(f"{c:02X}" for c in rgb)


def dark(hex_colour: str | None) -> bool:
    if not hex_colour:
        return False
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 140


def shade(cell, hex_colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    for old in tc_pr.findall(qn("w:shd")):
        tc_pr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_colour.lstrip("#").upper())
    tc_pr.append(shd)


def set_cell(cell, text: str, bold: bool = False, size: float | None = None, align: str | None = None,
             fill: str | None = None, italic: bool = False) -> None:
    """Replace a cell's text with one run; `fill` shades it and turns text white when dark."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    para = cell.paragraphs[0]
    para.text = ""
    run = para.add_run(text)
    run.bold = bold
    run.italic = italic
    if size:
        run.font.size = Pt(size)
    if align == "right":
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "center":
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if fill:
        shade(cell, fill)
        if dark(fill):
            run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)


def repeat_header(row) -> None:
    """Repeat a table's first row at the top of each page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def landscape_section(doc):
    """Start a new landscape section (for wide tables) and return it."""
    return _section(doc, landscape=True)


def portrait_section(doc):
    return _section(doc, landscape=False)


def _section(doc, landscape: bool):
    from docx.enum.section import WD_ORIENT, WD_SECTION

    want = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    current = doc.sections[-1]
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    if current.orientation != want:
        section.orientation = want
        section.page_width, section.page_height = current.page_height, current.page_width
    return section


def new_document(title: str | None = None):
    """A python-docx Document with readable defaults (Calibri 10.5, narrow margins)."""
    import docx
    from docx.shared import Cm, Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    for s in doc.sections:
        s.left_margin = s.right_margin = Cm(2.0)
        s.top_margin = s.bottom_margin = Cm(2.0)
    if title:
        doc.core_properties.title = title
    doc.core_properties.author = "qualcode"
    return doc


def xml_text(text: str) -> str:
    """Text safe inside a Word XML text node: control characters Word rejects are dropped."""
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF
                   and ch not in "\ufffe\uffff")


class BodyWriter:
    """Appends paragraphs to a document body in O(1) each.

    python-docx's `add_paragraph` searches the body for the closing section properties on every
    call, which makes ten thousand quotes quadratic; this keeps the sectPr aside, appends plain
    <w:p> elements built with lxml, and puts it back at the end.
    """

    def __init__(self, doc):
        from docx.oxml.ns import qn

        self.doc = doc
        self.body = doc.element.body
        self._qn = qn
        self.sect_pr = self.body.find(qn("w:sectPr"))
        if self.sect_pr is not None:
            self.body.remove(self.sect_pr)
        self._style_ids: dict[str, str] = {}

    def style_id(self, name: str) -> str:
        if name not in self._style_ids:
            self._style_ids[name] = self.doc.styles[name].style_id
        return self._style_ids[name]

    def paragraph(self, runs: list[tuple[str, dict]] | str, style: str | None = None, keep_next: bool = False,
                  space_after: int | None = None):
        """Append a paragraph; runs are (text, {"b":1,"i":1,"color":"RRGGBB","size":half-points});
        space_after is in twentieths of a point. pPr/rPr children follow the schema's order."""
        from lxml import etree

        qn = self._qn
        p = etree.SubElement(self.body, qn("w:p"))
        if style or keep_next or space_after is not None:
            ppr = etree.SubElement(p, qn("w:pPr"))
            if style:
                etree.SubElement(ppr, qn("w:pStyle")).set(qn("w:val"), self.style_id(style))
            if keep_next:
                etree.SubElement(ppr, qn("w:keepNext"))
            if space_after is not None:
                sp = etree.SubElement(ppr, qn("w:spacing"))
                sp.set(qn("w:after"), str(space_after))
        if isinstance(runs, str):
            runs = [(runs, {})]
        for text, fmt in runs:
            r = etree.SubElement(p, qn("w:r"))
            if fmt:
                rpr = etree.SubElement(r, qn("w:rPr"))
                if fmt.get("b"):
                    etree.SubElement(rpr, qn("w:b"))
                if fmt.get("i"):
                    etree.SubElement(rpr, qn("w:i"))
                if fmt.get("color"):
                    etree.SubElement(rpr, qn("w:color")).set(qn("w:val"), fmt["color"])
                if fmt.get("size"):
                    etree.SubElement(rpr, qn("w:sz")).set(qn("w:val"), str(fmt["size"]))
            lines = xml_text(text).split("\n")
            for k, line in enumerate(lines):
                if k:
                    etree.SubElement(r, qn("w:br"))
                t = etree.SubElement(r, qn("w:t"))
                t.text = line
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return p

    def close(self) -> None:
        if self.sect_pr is not None:
            self.body.append(self.sect_pr)
            self.sect_pr = None


def usable_width_cm(doc) -> float:
    s = doc.sections[-1]
    return (s.page_width - s.left_margin - s.right_margin) / 360000


def set_widths(table, widths_cm: list[float]) -> None:
    """Fix column widths in both places readers look: the grid (LibreOffice) and each cell (Word)."""
    from docx.shared import Cm

    table.autofit = False
    for col, w in zip(table.columns, widths_cm):
        col.width = Cm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)


def fill_widths(doc, n_cols: int, first_cm: float, last_cm: float | None = None) -> list[float]:
    """Widths for a table with a label column, n-2 (or n-1) equal value columns, and maybe a total column."""
    total = usable_width_cm(doc)
    rest = n_cols - 1 - (1 if last_cm else 0)
    each = max((total - first_cm - (last_cm or 0)) / max(rest, 1), 0.6)
    return [first_cm] + [each] * rest + ([last_cm] if last_cm else [])


def grid(table) -> list[list]:
    """Cells by [row][column], built once: python-docx's table.cell() rebuilds the whole grid per call."""
    return [list(row.cells) for row in table.rows]
