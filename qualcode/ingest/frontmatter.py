"""YAML front matter: document attributes and the speaker legend."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qualcode.errors import QualcodeError

_FENCE = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass
class FrontMatter:
    attributes: dict[str, str] = field(default_factory=dict)
    speakers: dict[str, dict[str, str]] = field(default_factory=dict)
    type: str | None = None
    language: str | None = None
    name: str | None = None


def split(text: str, source: str) -> tuple[FrontMatter, str]:
    """Return the front matter and the text after it (the text that gets stored)."""
    m = _FENCE.match(text)
    if not m:
        return FrontMatter(), text
    import yaml

    from qualcode.ingest import safe_yaml

    try:
        data = safe_yaml.load(m.group(1), source) or {}
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 2})" if line is not None else ""
        raise QualcodeError(f"{source}: the front matter is not valid YAML{where}; fix it or remove the --- block") from None
    if not isinstance(data, dict):
        raise QualcodeError(f"{source}: the front matter must be a mapping of attribute: value")
    fm = FrontMatter()
    legend = data.pop("speakers", None) or data.pop("participants", None) or {}
    if isinstance(legend, list):  # a list of {id: ..., gender: ...}
        legend = {str(item.get("id") or item.get("label") or item.get("name")): item for item in legend if isinstance(item, dict)}
    if not isinstance(legend, dict):
        raise QualcodeError(f"{source}: `speakers:` must map each speaker label to its attributes")
    for label, attrs in legend.items():
        if isinstance(attrs, dict):
            fm.speakers[str(label)] = {str(k): _scalar(v) for k, v in attrs.items() if v is not None}
        elif attrs is None:
            fm.speakers[str(label)] = {}
        else:
            fm.speakers[str(label)] = {"description": _scalar(attrs)}
    fm.type = _scalar(data.pop("type")) if data.get("type") is not None else None
    fm.language = _scalar(data.pop("language")) if data.get("language") is not None else None
    fm.name = _scalar(data.pop("name")) if data.get("name") is not None else None
    fm.attributes = {str(k): _scalar(v) for k, v in data.items() if v is not None}
    return fm, text[m.end():]


def _scalar(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_scalar(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
