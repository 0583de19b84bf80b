"""Small read-outs beside the transcript: the codings at the cursor and the suggestion under review."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from qualcode.ui.transcript_data import Coding, Suggestion


class CursorCodings(Static):
    """What MAXQDA's coding stripes tell you, in words: the codings touching the cursor."""

    def show(self, codings: list[Coding], coder: str, where: str) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")    # one line per coding, cut at the edge
        out.append(f"{where}\n", style="bold")
        if not codings:
            out.append("no codings here", style="dim italic")
        for i, c in enumerate(codings):
            if i:
                out.append("\n")
            out.append("┃ " if c.coder == coder else "╎ ", style=c.color or "grey50")
            out.append(c.path)
            if c.coder != coder:
                out.append(f"  {c.coder}", style="dim")
            if c.memo:
                out.append("\n  ✎ ", style="dim")
                out.append(_clip(c.memo, 120), style="italic")
        self.update(out, layout=False)    # fixed height: no need to lay the screen out again


class SuggestionCard(Static):
    """One suggestion: the code, its score and the evidence behind it."""

    def show(self, suggestion: Suggestion | None, position: int, total: int) -> None:
        if suggestion is None:
            self.display = False
            return
        self.display = True
        out = Text(overflow="fold")
        out.append(f"Suggestion {position} of {total}\n", style="bold")
        out.append("● ", style=suggestion.color or "grey50")
        out.append(suggestion.path)
        out.append(f"  score {suggestion.score:.2f}\n", style="dim")
        out.append(reliability_text(self.app.project, suggestion.path, suggestion.evidence, short=True))
        out.append("\n")
        out.append(evidence_text(suggestion.evidence))
        out.append("\na", style="bold")
        out.append(" accept  ")
        out.append("r", style="bold")
        out.append(" reject  ")
        out.append("n", style="bold")
        out.append(" next")
        self.update(out)


def reliability_text(project, code: str, evidence=None, short: bool = False) -> Text:
    """How often this code's suggestions were right, looked up now (a measurement made after the
    suggestion counts), else as copied into the evidence, else why it is not measured yet."""
    from qualcode.nlp import reliability

    out = Text(overflow="fold")
    out.append("reliability: ", style="dim")
    try:
        entry = reliability.for_code(project, code, evidence)
        if entry is None:
            out.append(reliability.not_measured(project), style="dim italic")
        else:
            out.append(reliability.describe(entry, reliability.measured_unit(project), short=short))
    except Exception:     # a locked file must not take the card with it
        out.append("not available right now", style="dim italic")
    return out


def score_meaning(project, score: float) -> str | None:
    """How often suggestions with a score like this were right when tested (None before testing)."""
    from qualcode.nlp import reliability

    try:
        return reliability.score_meaning(project, float(score))
    except Exception:     # a locked file or an old measurement must not take the card with it
        return None


def evidence_text(evidence) -> Text:
    """Evidence as the suggester wrote it (terms, similar quotes), whatever its exact shape.
    The code's reliability is left out: `reliability_text` tells it, up to date."""
    out = Text(overflow="fold")
    if not evidence:
        out.append("no evidence recorded", style="dim italic")
        return out
    if not isinstance(evidence, dict):
        out.append(_clip(str(evidence), 200), style="dim")
        return out
    first = True
    for key, value in evidence.items():
        if key == "reliability" or value in (None, "", [], {}):
            continue        # an empty list of matched terms says nothing
        if not first:
            out.append("\n")
        first = False
        out.append(f"{key.replace('_', ' ')}: ", style="dim")
        if isinstance(value, list):
            parts = [_item(v) for v in value[:4]]
            out.append(_clip("; ".join(parts), 160))
        else:
            out.append(_clip(_item(value), 160))
    return out


def _item(value) -> str:
    if isinstance(value, dict):
        if "text" in value and value.get("document"):       # a coded example: where it comes from
            return f"“{_clip(str(value['text']), 70)}” ({value['document']})"
        for key in ("text", "quote", "term", "keyword", "example"):
            if key in value:
                return str(value[key])
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
