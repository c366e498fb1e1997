"""Reading a page's changes as a person sees them: the changed-fields table and the text diff (_macros.html)."""

from __future__ import annotations

import html
import re

_HIDDEN = re.compile(r'<span class="visually-hidden">.*?</span>', re.S)
_TAG = re.compile(r"<[^>]+>")


def plain(fragment: str) -> str:
    """The text of an HTML fragment as shown on screen (screen-reader-only words left out)."""
    return html.unescape(_TAG.sub("", _HIDDEN.sub("", fragment))).strip()


def fields(page: str) -> dict[str, tuple[str, str]]:
    """Each changed field's row of the first changes table: label → (before, after) as shown."""
    table = re.search(r'<table class="field-changes">(.*?)</table>', page, re.S)
    if table is None:
        return {}
    rows = re.findall(r'<tr data-field="[^"]*"><th scope="row">(.*?)</th>\s*<td class="before">(.*?)</td>\s*'
                      r'<td class="after">(.*?)</td>', table.group(1), re.S)
    return {plain(label): (" ".join(plain(before).split()), " ".join(plain(after).split()))
            for label, before, after in rows}


def marked(page: str, tag: str) -> list[str]:
    """What the inline text diff marks with ``tag`` (ins or del), as shown."""
    inline = re.search(r'<div class="diff-inline".*?</div>', page, re.S)
    return [plain(m) for m in re.findall(rf"<{tag}>(.*?)</{tag}>", inline.group(0) if inline else "", re.S)]


def sides(page: str) -> list[tuple[str, str]]:
    """The side-by-side diff as (before, after) lines as shown ("" where a line is absent on a side)."""
    block = re.search(r'<div class="diff-sides".*?</div>', page, re.S)
    cells = re.findall(r'<p class="diff-line[^"]*">(.*?)</p>', block.group(0) if block else "", re.S)
    return [(plain(cells[i]), plain(cells[i + 1])) for i in range(0, len(cells) - 1, 2)]
