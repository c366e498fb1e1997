"""Snippets: the passage of a practice that shows why it matched, with the matching words marked.

Any engine can use this: it needs the practice's plain-text body and the index terms the query looked
for in it, and never re-analyses the text. A passage begins at a sentence or a block (a heading, a
cell: ``plain_text`` ends those with a mark) near its first match when there is one, else at a word,
and ends after a sentence or at a word; in Japanese, which has no spaces, at a sentence or a clause
(、) when one is near, else where a run of kana gives way to another script.
"""

from __future__ import annotations

import re

from markupsafe import Markup
from markupsafe import escape

#: How long a snippet is, at most, in characters.
SNIPPET_CHARS = 240
#: How far before its first match a passage may begin (to start at a sentence), and how much of its end
#: it may give up to end after one.
LEAD_CHARS = 60
#: Where a sentence or a block ends.
_SENTENCE_END = re.compile(r"[.!?:;·](?=\s)|[。！？]|\n")
#: Where a Japanese clause ends, or words are apart.
_BREAK = re.compile(r"[、，,・\s]")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_JAPANESE_LINE_BREAK = re.compile(r"([^\x00-\x7f](?:</mark>)?)\s*\n\s*((?:<mark>)?[^\x00-\x7f])")


def snippet(content: str, summary: str, terms: set[str], language: str) -> Markup:
    """The passage of ``content`` with most of the index ``terms``, escaped, with <mark> around the words
    that hold them; else ``summary``, escaped (and shortened). ``language`` is the text's analysis
    language. Words are found in the text by their index terms (stems match any word that contains
    them), so showing a snippet never re-analyses the text."""
    spans = _term_spans(content, terms, language)
    if not spans:
        return escape(summary if len(summary) <= SNIPPET_CHARS else summary[:SNIPPET_CHARS - 1] + "…")
    # The passage starting at a mark that holds most marks whole (marks are in order and never overlap, so
    # those it holds run from it to the first that ends too far: one pass, not one per mark).
    best_start, best_count, last = spans[0][0], 0, 0
    for first, (start, _end) in enumerate(spans):
        last = max(last, first)
        while last < len(spans) and spans[last][1] <= start + SNIPPET_CHARS - LEAD_CHARS:
            last += 1
        if last - first > best_count:
            best_start, best_count = start, last - first
    window_start = _passage_start(content, best_start, language)
    window_end = _passage_end(content, window_start, max(e for s, e in spans if s == best_start), language)
    pieces, cursor = [], window_start
    for start, end in spans:
        if start < cursor or end > window_end:
            continue
        pieces.append(escape(content[cursor:start]))
        pieces.append(Markup("<mark>") + escape(content[start:end]) + Markup("</mark>"))
        cursor = end
    pieces.append(escape(content[cursor:window_end]))
    joined = str(Markup("").join(pieces))
    if language == "ja":  # a line break between Japanese characters is no space
        joined = _JAPANESE_LINE_BREAK.sub(r"\1\2", joined)
    text = Markup(" ".join(joined.split()))
    return (Markup("… ") if window_start else Markup("")) + text + (Markup(" …") if window_end < len(content) else "")


def _passage_start(content: str, first: int, language: str) -> int:
    """Where a passage whose first match begins at ``first`` begins: the latest sentence or block start
    within ``LEAD_CHARS`` before it, else a word about 40 characters before it."""
    lead = max(0, first - LEAD_CHARS)
    if lead == 0:
        return 0
    starts = [m.end() for m in _SENTENCE_END.finditer(content, lead, first)]
    if starts:
        return _skip_space(content, starts[-1])
    start = max(0, first - 40)
    if language == "ja":
        return _skip_space(content, _japanese_break(content, start, first, forward=True))
    while start < first and not content[start - 1].isspace():
        start += 1
    return _skip_space(content, start)


def _passage_end(content: str, start: int, last: int, language: str) -> int:
    """Where a passage beginning at ``start`` ends: after the last sentence that ends in its final
    ``LEAD_CHARS`` (and after ``last``, the end of its first match), else after its last whole word."""
    end = start + SNIPPET_CHARS
    if end >= len(content):
        return len(content)
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(content, max(last, end - LEAD_CHARS), end)]
    if sentence_ends:
        return sentence_ends[-1]
    if language == "ja":
        return _japanese_break(content, max(last, end - LEAD_CHARS), end, forward=False)
    cut = end
    while cut > last and not content[cut].isspace():
        cut -= 1
    return cut if cut > last else end


def _japanese_break(content: str, low: int, high: int, forward: bool) -> int:
    """A word boundary between ``low`` and ``high`` in Japanese text: after a clause mark or a space, else
    where kana gives way to kanji or katakana; the first of them (``forward``) or the last; else the
    edge of the range."""
    breaks = [m.end() for m in _BREAK.finditer(content, low, high)]
    breaks += [i for i in range(low + 1, high)
               if _HIRAGANA.match(content[i - 1]) and not _HIRAGANA.match(content[i])]
    if not breaks:
        return low if forward else high
    return min(breaks) if forward else max(breaks)


def _skip_space(content: str, position: int) -> int:
    while position < len(content) and content[position].isspace():
        position += 1
    return position


def _term_spans(content: str, terms: set[str], language: str) -> list[tuple[int, int]]:
    """Character ranges of the words in ``content`` that contain one of the index ``terms``; marks that
    touch are one (Japanese 避難 + 所 is one word, 避難所)."""
    usable = sorted((t for t in terms if len(t) > 1 or not t.isascii()), key=len, reverse=True)[:40]
    if not usable:
        return []
    # Matched in the lowered text (a third of the time of matching case-blind), unless lowering moved a
    # character (a dotted İ becomes two): then case-blind in the text itself.
    text = content.lower()
    if len(text) == len(content):
        pattern = re.compile("|".join(re.escape(t.lower()) for t in usable))
    else:
        text, pattern = content, re.compile("|".join(re.escape(t) for t in usable), re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    for match in pattern.finditer(text):
        start, end = match.start(), match.end()
        if language != "ja":  # Japanese has no spaces: mark the morpheme; elsewhere the whole word
            while start > 0 and content[start - 1].isalnum():
                start -= 1
            while end < len(content) and content[end].isalnum():
                end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
            if len(spans) >= 200:
                break
    # One Japanese character on its own (所, 者, 要) is part of too many words to mark: only as part of a
    # longer mark (避難所).
    return [(start, end) for start, end in spans if end - start > 1 or content[start].isascii()]
