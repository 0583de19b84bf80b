"""The transcript: a read-only TextArea that paints codings, speakers and coding stripes.

Spans are styled in `get_line()` from a per-line table built once per change (no widget per
sentence, no per-span offset scans). The left gutter holds MAXQDA-style coding stripes: one
column ("lane") per overlapping coding, so a coding's stripe runs straight down beside its text.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.color import Color
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from qualcode.ui.transcript_data import Coding, TranscriptData

LANES = 3            # stripe columns; deeper overlaps fold into the last one
GUTTER = LANES + 1   # plus a blank column before the text
INTERVIEWER_ROLES = {"interviewer", "moderator", "facilitator", "researcher"}


class TranscriptView(TextArea, inherit_bindings=False):
    """Only navigation and selection keys live here; coding keys belong to the screen."""

    BINDINGS = [
        Binding("up", "cursor_up", "Line up", show=False),
        Binding("down", "cursor_down", "Line down", show=False),
        Binding("left", "cursor_left", "Character left", show=False),
        Binding("right", "cursor_right", "Character right", show=False),
        Binding("ctrl+left", "cursor_word_left", "Word left", show=False),
        Binding("ctrl+right", "cursor_word_right", "Word right", show=False),
        Binding("home", "cursor_line_start", "Start of paragraph", show=False),
        Binding("end", "cursor_line_end", "End of paragraph", show=False),
        Binding("pageup", "cursor_page_up", "Page up", show=False),
        Binding("pagedown", "cursor_page_down", "Page down", show=False),
        Binding("shift+left", "cursor_left(True)", "Extend selection left", show=False),
        Binding("shift+right", "cursor_right(True)", "Extend selection right", show=False),
        Binding("shift+up", "cursor_up(True)", "Extend selection up", show=False),
        Binding("shift+down", "cursor_down(True)", "Extend selection down", show=False),
        Binding("ctrl+shift+left", "cursor_word_left(True)", "Extend selection a word left", show=False),
        Binding("ctrl+shift+right", "cursor_word_right(True)", "Extend selection a word right", show=False),
        Binding("shift+home", "cursor_line_start(True)", "Extend selection to paragraph start", show=False),
        Binding("shift+end", "cursor_line_end(True)", "Extend selection to paragraph end", show=False),
    ]

    def __init__(self, **kwargs):
        super().__init__("", read_only=True, soft_wrap=True, show_line_numbers=False,
                         highlight_cursor_line=False, show_cursor=True, **kwargs)
        self.cursor_blink = False
        self.data: TranscriptData | None = None
        self.coder = ""
        self.show_others = True
        self.focus_span: tuple[int, int] | None = None     # the suggestion under review
        self._line_styles: dict[int, list[tuple[int, int, Style]]] = {}
        self._line_codings: dict[int, list[Coding]] = {}
        self._gutter_style = Style()

    # --- content ---------------------------------------------------------------------------

    def show_document(self, data: TranscriptData) -> None:
        self.data = data
        self.focus_span = None
        self._build_styles()
        self.load_text(data.display_text)
        self.move_cursor((0, 0))
        self.scroll_home(animate=False)

    def restyle(self) -> None:
        """Rebuild span styles after codings, the coder filter or the theme changed."""
        self._build_styles()
        self.notify_style_update()
        self.refresh()

    @property
    def gutter_width(self) -> int:
        return GUTTER

    def _colors(self) -> tuple[Color, Color, Color]:
        v = self.app.theme_variables
        return (Color.parse(v.get("surface", "#1e1e1e")), Color.parse(v.get("primary", "#0178D4")),
                Color.parse(v.get("foreground", "#e0e0e0")))

    def _build_styles(self) -> None:
        self._line_styles, self._line_codings = {}, {}
        data = self.data
        if data is None:
            return
        surface, primary, foreground = self._colors()
        dark = self.app.current_theme.dark
        label = Style(bold=True, color=primary.rich_color)
        quiet_label = Style(bold=True, color=foreground.blend(surface, 0.45).rich_color)
        for t in data.turns:
            if t.text_start > t.start:
                role = (t.role or t.speaker or "").lower()
                style = quiet_label if role in INTERVIEWER_ROLES or role.startswith("interviewer") else label
                self._add(t.start, t.text_start, style)
        codings = data.visible_codings(self.coder, self.show_others)
        # others' first, then yours; longest first, so a short coding inside a long one stays visible
        for c in sorted(codings, key=lambda c: (c.coder == self.coder, c.start - c.end)):
            color = Color.parse(c.color or "#888888")
            strength = (0.45 if dark else 0.35) if c.coder == self.coder else 0.22
            self._add(c.start, c.end, Style(bgcolor=surface.blend(color, strength).rich_color))
            r0, _ = data.lines.location(c.start)
            r1, _ = data.lines.location(max(c.start, c.end - 1))
            for row in range(r0, r1 + 1):
                self._line_codings.setdefault(row, []).append(c)
        for s, e in _overlaps(codings):
            self._add(s, e, Style(underline=True))
        if self.focus_span:
            s, e = self.focus_span
            self._add(s, e, Style(underline=True, bold=True, color=primary.rich_color,
                                  bgcolor=surface.blend(primary, 0.2).rich_color))

    def _add(self, start: int, end: int, style: Style) -> None:
        if end <= start or self.data is None:
            return
        lines = self.data.lines
        r0, c0 = lines.location(start)
        r1, c1 = lines.location(end)
        for row in range(r0, r1 + 1):
            cs = c0 if row == r0 else 0
            ce = c1 if row == r1 else self._line_length(row)
            if ce > cs:
                self._line_styles.setdefault(row, []).append((cs, ce, style))

    def _line_length(self, row: int) -> int:
        starts = self.data.lines.starts
        end = starts[row + 1] - 1 if row + 1 < len(starts) else self.data.lines.length
        return end - starts[row]

    def get_line(self, line_index: int) -> Text:
        line = Text(self.document.get_line(line_index), end="", no_wrap=True)
        for start, end, style in self._line_styles.get(line_index, ()):
            line.stylize(style, start, end)
        return line

    # --- coding stripes in the gutter ------------------------------------------------------

    def render_lines(self, crop):
        self._gutter_style = self.rich_style     # looked up once per frame, not per line
        return super().render_lines(crop)

    def _render_line(self, y: int) -> Strip:
        strip = super()._render_line(y)
        wrapped = self.wrapped_document
        absolute = y + self.scroll_offset.y
        if self.data is None:
            return strip
        try:
            line_index, section = wrapped._offset_to_line_info[absolute]
        except IndexError:     # below the end of the text: a blank line of full width
            return strip
        base = self._gutter_style
        cells = [Segment(" ", base)] * GUTTER
        codings = self._line_codings.get(line_index)
        if codings:
            offsets = wrapped.get_offsets(line_index)
            c0 = offsets[section - 1] if section > 0 else 0
            c1 = offsets[section] if section < len(offsets) else self._line_length(line_index) + 1
            row_start = self.data.lines.starts[line_index]
            lo, hi = row_start + c0, row_start + c1
            shown: dict[int, Coding] = {}
            folded = 0
            for c in codings:
                if c.start < hi and c.end > lo:
                    lane = min(c.lane, LANES - 1)
                    if lane in shown and lane == LANES - 1:
                        folded += 1
                    shown.setdefault(lane, c)
            for lane, c in shown.items():
                glyph = "┃" if c.coder == self.coder else "╎"
                if lane == LANES - 1 and folded:
                    glyph = "╋"
                cells[lane] = Segment(glyph, base + Style(color=Color.parse(c.color or "#888888").rich_color))
        return Strip.join([Strip(cells, GUTTER), strip])

    # --- offsets <-> widget locations -----------------------------------------------------------

    @property
    def cursor_offset(self) -> int:
        row, col = self.cursor_location
        return self.data.lines.offset(row, col) if self.data else 0

    @property
    def selected_span(self) -> tuple[int, int] | None:
        """The selection as offsets, or None when nothing is selected."""
        if self.data is None:
            return None
        a, b = self.selection
        if a == b:
            return None
        s, e = sorted((self.data.lines.offset(*a), self.data.lines.offset(*b)))
        return (s, e) if e > s else None

    def select_span(self, start: int, end: int) -> None:
        lines = self.data.lines
        self.selection = Selection(lines.location(start), lines.location(end))
        self.scroll_cursor_visible()

    def move_to(self, offset: int, center: bool = False) -> None:
        self.selection = Selection.cursor(self.data.lines.location(offset))
        self.scroll_cursor_visible(center=center)


def _overlaps(codings: list[Coding]) -> list[tuple[int, int]]:
    """Stretches covered by two or more codings (shown underlined)."""
    events = sorted([(c.start, 1) for c in codings] + [(c.end, -1) for c in codings])
    out, depth, since = [], 0, 0
    for pos, step in events:
        if depth >= 2 and pos > since:
            out.append((since, pos))
        depth += step
        since = pos
    return out
