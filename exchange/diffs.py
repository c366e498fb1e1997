"""Readable differences between two texts of a practice."""

from __future__ import annotations

import difflib


def lines(old: str, new: str, old_name: str = "before", new_name: str = "after") -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs; kind is add, del, hunk or same."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2):
        if line.startswith(("+++", "---")):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("@"):
            kind = "hunk"
        else:
            kind = "same"
        out.append((kind, line))
    return out
