"""Readable differences between two texts of a practice: changed metadata as fields, the body as lines."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from exchange.library import yamlfile
from exchange.library.practice import FRONT_MATTER
from exchange.library.practice import OPTIONAL
from exchange.library.practice import REQUIRED


@dataclass(frozen=True)
class FieldChange:
    """One front-matter key whose value differs ("" where the key is absent)."""

    key: str
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    """What differs between two texts of a practice."""

    fields: tuple[FieldChange, ...]
    #: the body's unified diff as (kind, line); kind is add, del, hunk or same
    body: tuple[tuple[str, str], ...]

    def __bool__(self) -> bool:
        return bool(self.fields or self.body)


def lines(old: str, new: str, old_name: str = "before", new_name: str = "after") -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs; kind is add, del, hunk or same."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2):
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("@"):
            kind = "hunk"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def practice(old: str, new: str) -> Changes:
    """The changed front-matter fields (in schema order) and the body's diff, from ``old`` to ``new``."""
    old_meta, old_body = _split(old)
    new_meta, new_body = _split(new)
    keys = [k for k in REQUIRED + OPTIONAL if k in old_meta or k in new_meta]
    keys += sorted(k for k in {*old_meta, *new_meta} if k not in keys)
    fields = tuple(FieldChange(k, _shown(old_meta.get(k)), _shown(new_meta.get(k))) for k in keys
                   if old_meta.get(k) != new_meta.get(k))
    return Changes(fields, tuple(lines(old_body, new_body)))


def _split(text: str) -> tuple[dict, str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yamlfile.load_untrusted(match.group(1))
    except yamlfile.YamlProblem:
        meta = None
    return (meta if isinstance(meta, dict) else {"front matter": match.group(1)}), text[match.end():]


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
