"""Snippets: the passage of a practice that shows why it matched, with the matching words marked.

Any engine can use this: it needs the practice's plain-text body and the index terms the query looked
for in it, and never re-analyses the text.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from markupsafe import escape

#: How long a snippet is, at most, in characters.
SNIPPET_CHARS = 240


def snippet(content: str, summary: str, terms: set[str], language: str) -> Markup:
    """The passage of ``content`` with most of the index ``terms``, escaped, with <mark> around the words
    that hold them; else ``summary``, escaped (and shortened). ``language`` is the text's analysis
    language. Words are found in the text by their index terms (stems match any word that contains
    them), so showing a snippet never re-analyses the text."""
    spans = _term_spans(content, terms, language)
    if not spans:
        return escape(summary if len(summary) <= SNIPPET_CHARS else summary[:SNIPPET_CHARS - 1] + "…")
    best_start, best_count = spans[0][0], 0
    for start, _end in spans:
        count = sum(1 for s, e in spans if start <= s and e <= start + SNIPPET_CHARS)
        if count > best_count:
            best_start, best_count = start, count
    window_start = max(0, best_start - 40)
    window_end = min(len(content), window_start + SNIPPET_CHARS)
    pieces, cursor = [], window_start
    for start, end in spans:
        if start < cursor or end > window_end:
            continue
        pieces.append(escape(content[cursor:start]))
        pieces.append(Markup("<mark>") + escape(content[start:end]) + Markup("</mark>"))
        cursor = end
    pieces.append(escape(content[cursor:window_end]))
    text = Markup(" ".join(str(Markup("").join(pieces)).split()))
    return (Markup("… ") if window_start else Markup("")) + text + (Markup(" …") if window_end < len(content) else "")


def _term_spans(content: str, terms: set[str], language: str) -> list[tuple[int, int]]:
    """Character ranges of the words in ``content`` that contain one of the index ``terms``."""
    usable = sorted((t for t in terms if len(t) > 1 or not t.isascii()), key=len, reverse=True)[:40]
    if not usable:
        return []
    pattern = re.compile("|".join(re.escape(t) for t in usable), re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(content):
        start, end = match.start(), match.end()
        if language != "ja":  # Japanese has no spaces: mark the morpheme; elsewhere the whole word
            while start > 0 and content[start - 1].isalnum():
                start -= 1
            while end < len(content) and content[end].isalnum():
                end += 1
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
        if len(spans) >= 200:
            break
    return spans
