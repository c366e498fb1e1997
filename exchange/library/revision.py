"""Revising a practice file: the keys that changed are rewritten, every other line stays as it was written.

An edit on the web must not reformat what the person did not touch (quoting, dates, wrapping,
comments), so that the stored text keeps its types and the reviewer's diff shows only the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from exchange.library import yamlfile
from exchange.library.practice import FRONT_MATTER
from exchange.library.practice import OPTIONAL
from exchange.library.practice import REQUIRED
from exchange.library.practice import compose

SCHEMA_ORDER = REQUIRED + OPTIONAL
_KEY_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:")


@dataclass
class _Segment:
    key: str | None  # None: a comment or blank line between keys
    text: str


def _segments(front_matter: str) -> list[_Segment]:
    """The front matter's lines grouped by top-level key (a key's line and its continuation lines)."""
    segments: list[_Segment] = []
    for line in front_matter.splitlines(keepends=True):
        match = _KEY_LINE.match(line)
        if match:
            segments.append(_Segment(match.group(1), line))
        elif segments and segments[-1].key is not None and (line[:1] in (" ", "\t", "-") or not line.strip()):
            segments[-1].text += line  # continuation: indented, a block list item, or a blank line inside
        else:
            segments.append(_Segment(None, line))
    kept: list[_Segment] = []
    for segment in segments:  # blank lines that end a key separate it from the next: they are not its own
        if segment.key is not None:
            lines = segment.text.splitlines(keepends=True)
            trailing: list[str] = []
            while len(lines) > 1 and not lines[-1].strip():
                trailing.insert(0, lines.pop())
            segment.text = "".join(lines)
            kept.append(segment)
            if trailing:
                kept.append(_Segment(None, "".join(trailing)))
        else:
            kept.append(segment)
    return kept


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def revise(original: str, changes: dict[str, Any], body: str | None = None) -> str:
    """``original`` with the front-matter keys in ``changes`` set (an empty value removes the key) and,
    unless ``body`` is None, a new body; every other byte as it was.

    A key that was absent is added after the nearest key before it in schema order.
    """
    match = FRONT_MATTER.match(original)
    if not match:
        return compose(dict(changes), body or "")
    newline = "\r\n" if "\r\n" in match.group(0) else "\n"
    segments = _segments(match.group(1) + newline)
    for key, value in changes.items():
        found = next((s for s in segments if s.key == key), None)
        entry = "" if _empty(value) else yamlfile.dump_key(key, value).replace("\n", newline)
        if found is not None and not entry:
            segments.remove(found)
        elif found is not None:
            found.text = entry
        elif entry:
            _insert(segments, _Segment(key, entry))
    head = "".join(s.text for s in segments).removesuffix(newline)
    rest = original[match.end():]
    if body is not None:  # the blank lines between the front matter and the text are the file's, not the form's
        rest = rest[:len(rest) - len(rest.lstrip("\r\n"))] + body.lstrip("\r\n")
    return original[:match.start(1)] + head + original[match.end(1):match.end()] + rest


def _insert(segments: list[_Segment], new: _Segment) -> None:
    rank = SCHEMA_ORDER.index(new.key) if new.key in SCHEMA_ORDER else len(SCHEMA_ORDER)
    position = 0
    for index, segment in enumerate(segments):
        if segment.key is not None and (SCHEMA_ORDER.index(segment.key) if segment.key in SCHEMA_ORDER
                                        else len(SCHEMA_ORDER)) <= rank:
            position = index + 1
    segments.insert(position, new)
