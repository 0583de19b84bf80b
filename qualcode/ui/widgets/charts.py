"""Shaded table cells and horizontal bar charts as rich Text (no plotting library needed)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.color import Color

# distinct, colour-blind-friendly hues for chart series (Tableau 10)
SERIES = ["#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#76B7B2", "#EDC948", "#B07AA1", "#FF9DA7",
          "#9C755F", "#BAB0AC"]


def shaded(n: float, peak: float, surface: Color, ink: Color, dim: bool = False, label: str | None = None) -> Text:
    """A count (or a percentage, written as `label`) on a background as strong as its share of the
    largest value."""
    share = (n / peak) if peak else 0.0
    bg = surface.blend(ink, 0.08 + 0.62 * share) if n else surface
    fg = Color(255, 255, 255) if share > 0.55 else None
    style = Style(bgcolor=bg.rich_color, color=fg.rich_color if fg else None, dim=dim and not n)
    return Text(f" {label if label is not None else n} " if n else " · ", style=style, justify="right")


def bar_chart(rows: list[tuple[str, dict[str, int] | None, int]], series: list[str], width: int,
              label_width: int = 28) -> Text:
    """Stacked horizontal bars: one line per row, one colour per series, with a legend.

    Each row is (label, counts per series, total); the total is printed (a unit counted in
    two series, say a turn by two speakers, is one unit). Values None make a heading line."""
    out = Text(no_wrap=True, overflow="crop")
    peak = max((sum(v.values()) for _, v, _ in rows if v), default=0)
    bar_room = max(10, width - label_width - 8)
    colors = {s: SERIES[i % len(SERIES)] for i, s in enumerate(series)}
    if len(series) > 1:
        for s in series:
            out.append("■ ", style=colors[s])
            out.append(f"{s}  ")
        out.append("\n\n")
    for label, values, total in rows:
        if values is None:   # a heading line
            out.append(f"{label}\n", style="bold")
            continue
        name = label if len(label) <= label_width else label[: label_width - 1] + "…"
        out.append(f"{name:<{label_width}} ")
        filled = 0.0
        drawn = 0
        for s in series:
            filled += values.get(s, 0) / peak * bar_room if peak else 0
            cells = round(filled) - drawn
            if cells > 0:
                out.append("█" * cells, style=colors[s])
                drawn += cells
        out.append(f" {total}\n", style="dim" if not total else "")
    return out


def percent_chart(rows: list[tuple[str, dict[str, float | None] | None]], series: list[str], width: int,
                  scale: float, caption: str, legend: dict[str, str] | None = None,
                  label_width: int = 28) -> Text:
    """Grouped horizontal bars of percentages: per row, one bar per series, each labelled with its %.

    Percentages of different groups do not add up (a % of column) or add up to 100 (a % of row),
    so they sit side by side instead of stacked. `scale` is the % a full bar stands for; values
    None (a group with no units) are a dash; values None for the row make a heading line.
    `legend` replaces a series' name in the legend (to give its base, say)."""
    out = Text(no_wrap=True, overflow="crop")
    colors = {s: SERIES[i % len(SERIES)] for i, s in enumerate(series)}
    many = len(series) > 1
    name_width = min(12, max(len(s) for s in series)) if many else 0
    gutter = label_width + 1 + (name_width + 1 if many else 0)
    bar_room = max(10, width - gutter - 10)
    if many:
        used = 0
        for s in series:   # broken between entries, never inside one
            entry = (legend or {}).get(s, s)
            if used and used + 2 + len(entry) > width - 2:
                out.append("\n")
                used = 0
            out.append("■ ", style=colors[s])
            out.append(f"{entry}  ")
            used += len(entry) + 4
        out.append("\n")
    out.append(f"{caption}\n", style="italic")
    # the axis: where a bar starts, and what a full one means at its end, where the numbers go
    top = f"{scale:.0f}%" if scale == round(scale) else f"{scale:.1f}%"
    out.append(" " * gutter + "0%" + "┈" * (bar_room - 3) + "┤ " + top + "\n", style="dim")
    for label, values in rows:
        if values is None:   # a heading line
            out.append(f"{label}\n", style="bold")
            continue
        name = label if len(label) <= label_width else label[: label_width - 1] + "…"
        for i, s in enumerate(series):
            out.append(f"{name if i == 0 else '':<{label_width}} ")
            if many:
                short = s if len(s) <= name_width else s[: name_width - 1] + "…"
                out.append(f"{short:<{name_width}} ", style=colors[s])
            v = values.get(s)
            if v is None:   # no units in this group: no share at all
                out.append("–\n", style="dim")
                continue
            cells = round(v / scale * bar_room) if scale else 0
            if cells:
                out.append("█" * min(cells, bar_room), style=colors[s])
            elif v:        # too small for a whole cell, but not nothing
                out.append("▏", style=colors[s])
            out.append(f" {v:.1f}%\n", style="" if v else "dim")
    return out
