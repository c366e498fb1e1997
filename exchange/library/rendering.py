"""Markdown to safe HTML: the one module that imports markdown-it-py and nh3."""

from __future__ import annotations

import functools
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.footnote import footnote_plugin

#: Names this renderer's output: stored renderings made by another are rendered again when read.
RENDERER = "markdown-it-4.3/2"
#: Deeper nesting than this is rendered as text (threats R-1: no RecursionError, bounded time).
MAX_NESTING = 20
HEADING_ID_PREFIX = "h-"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
#: headings that get an id (and h2, h3 a place in the table of contents)
ANCHORED = ("h2", "h3", "h4")
_TASK = re.compile(r"\[[ xX]][ \t\n\v\f\r]+")  # GFM whitespace after the box
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# What browsers ignore when they read a URL's scheme (WHATWG: C0 controls, space, tab, newline).
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "em", "strong",
    "s", "del", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup",
    "sub", "section", "input", "span", "label",
}
_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "th": {"style"}, "td": {"style"},
    "ol": {"start"},
    "li": {"id"},
    "sup": {"id"},
    "input": {"checked"},
}
_CLASSES = {
    "li": {"task-list-item", "footnote-item"},
    "ul": {"contains-task-list"},
    "ol": {"footnotes-list"},
    "section": {"footnotes"},
    "hr": {"footnotes-sep"},
    "sup": {"footnote-ref"},
    "a": {"footnote-backref"},
    "input": {"task-list-item-checkbox"},
    "code": {f"language-{name}" for name in ("yaml", "json", "text", "bash", "python", "csv")},
}


@dataclass(frozen=True)
class Heading:
    """An entry of the table of contents."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Rendered:
    """A practice body as safe HTML, with its table of contents."""

    html: Markup
    toc: tuple[Heading, ...]

    def stored_contents(self) -> list[list[object]]:
        """The table of contents as JSON-ready lists, as it is stored with a published version."""
        return [[h.level, h.id, h.text] for h in self.toc]

    @classmethod
    def from_stored(cls, html: str, contents: list[list[object]]) -> Rendered:
        """A rendering kept when its version was published (its HTML was sanitised then)."""
        return cls(html=Markup(html),  # noqa: S704 - sanitised when it was stored
                   toc=tuple(Heading(int(str(level)), str(id_), str(text)) for level, id_, text in contents))


def is_safe_url(url: str) -> bool:
    """True when ``url`` is relative or uses http, https or mailto, as a browser would read it."""
    # Percent-decoding first is stricter than a browser (which would read "java%09script:" as a
    # relative path) and so refuses every spelling that could become a scheme after any decoding.
    cleaned = _IGNORED_IN_URL.sub("", urllib.parse.unquote(url))
    if cleaned.startswith(("//", "\\\\", "/\\", "\\/")):
        return True  # network-path reference: http(s) on whatever scheme the page has
    match = _SCHEME.match(cleaned)
    return match is None or match.group(1).lower() in SAFE_SCHEMES


def heading_slug(text: str) -> str:
    """An element id for a heading, prefixed so it can never clobber a DOM global (threats X-10)."""
    text = unicodedata.normalize("NFKC", text).lower()
    words = re.findall(r"\w+", text)
    return HEADING_ID_PREFIX + ("-".join(words)[:60] or "section")


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("js-default", {"maxNesting": MAX_NESTING, "html": False, "linkify": False})
    md.use(footnote_plugin, inline=True)
    # What mdit-py-plugins' tasklists and anchors do, in linear time: theirs walk back over every earlier
    # token for each task item, and try slug-1, slug-2, ... from the start for each repeated heading, so
    # that 512 KB of "- [ ] a" or "## a" lines took hours (threats R-2).
    md.core.ruler.after("inline", "task_lists", _task_lists)
    md.core.ruler.push("heading_ids", _heading_ids)
    md.core.ruler.push("focusable_tables", _focusable_tables)
    # markdown-it-py's documented hook is replacing this method on the instance.
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    return md


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        tag_attribute_values={"input": {"type": {"checkbox"}, "disabled": {"", "disabled"}},
                              "table": {"tabindex": {"0"}}},
        allowed_classes=_CLASSES,
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


def _task_lists(state: StateCore) -> None:
    """List items that start with ``[ ]`` or ``[x]`` get a disabled checkbox labelled by the item's first
    paragraph (so a screen reader names each box), and their list a class."""
    tokens = state.tokens
    latest: dict[int, int] = {}  # the index of the latest token at each level; an item's list is one level up
    for index, token in enumerate(tokens):
        if (1 < index < len(tokens) - 1 and token.type == "inline" and tokens[index - 1].type == "paragraph_open"
                and tokens[index - 2].type == "list_item_open" and _TASK.match(token.content)):
            item = tokens[index - 2]
            _check_box(token)
            item.attrSet("class", "task-list-item")
            tokens[latest.get(item.level - 1, -1)].attrSet("class", "contains-task-list")
        latest[token.level] = index


def _check_box(inline: Token) -> None:
    box = Token("html_inline", "", 0)
    if inline.content.startswith("[ ] "):
        box.content = '<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">'
    elif inline.content.startswith(("[x] ", "[X] ")):
        box.content = '<input class="task-list-item-checkbox" checked="checked" disabled="disabled" type="checkbox">'
    assert inline.children is not None
    opening, closing = Token("html_inline", "", 0), Token("html_inline", "", 0)
    opening.content, closing.content = "<label>", "</label>"
    inline.children[0].content = inline.children[0].content[3:]
    inline.children[:0] = [opening, box]
    inline.children.append(closing)
    inline.content = inline.content[3:]


def _focusable_tables(state: StateCore) -> None:
    """Each table is a tab stop: on a phone a wide table scrolls sideways in its own box, which a keyboard
    can scroll only once it has the focus (WCAG 2.1.1; axe's scrollable-region-focusable)."""
    for token in state.tokens:
        if token.type == "table_open":
            token.attrSet("tabindex", "0")


def _heading_ids(state: StateCore) -> None:
    """Each anchored heading gets a unique id: its slug, or the slug with the first free -1, -2, ..."""
    taken: set[str] = set()
    next_number: dict[str, int] = {}  # numbers below it are taken for that slug, and stay taken
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open" or token.tag not in ANCHORED:
            continue
        slug = heading_slug(_title(state.tokens[index + 1]))
        unique = slug
        if unique in taken:
            number = next_number.get(slug, 1)
            while f"{slug}-{number}" in taken:
                number += 1
            unique, next_number[slug] = f"{slug}-{number}", number + 1
        taken.add(unique)
        token.attrSet("id", unique)


def _title(inline: Token) -> str:
    return "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))


def render(markdown: str) -> Rendered:
    """The body rendered as it is shown everywhere: raw HTML off, safe links, sanitised once more."""
    env = {"docId": "note"}
    md = _parser()
    tokens = md.parse(markdown, env)
    html = md.renderer.render(tokens, md.options, env)
    return Rendered(html=Markup(_cleaner().clean(html)), toc=tuple(_contents(tokens)))


def _contents(tokens: list[Token]) -> list[Heading]:
    headings = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            headings.append(Heading(level=int(token.tag[1]), id=str(token.attrGet("id") or ""),
                                    text=_title(tokens[index + 1])))
    return headings


#: What ends a heading or table cell in plain text, so that it never reads on into the next block: a
#: mark every analyser leaves out of the index (in Japanese text, the full stop).
BLOCK_ENDS = {"ja": "。"}
BLOCK_END = " ·"
#: Text that already ends so needs no mark.
_ENDED = tuple(".:;!?。！？：；、")


def plain_text(markdown: str, language: str | None = None) -> str:
    """The body's words without markup, for snippets and indexing: one block (paragraph, heading, table
    cell, list item, code) a line, and each heading, table cell and list item ended with a mark (``BLOCK_END``,
    "。" in Japanese, ``language`` being the body's) unless it ends in punctuation already."""
    md = _parser()
    blocks: list[str] = []
    ending = False  # inside a heading or a table cell
    items = 0  # how deep inside list items (a checklist's lines are ended too)
    for token in md.parse(markdown, {"docId": "note"}):
        if token.type in ("heading_open", "th_open", "td_open"):
            ending = True
        elif token.type in ("heading_close", "th_close", "td_close"):
            ending = False
        elif token.type == "list_item_open":
            items += 1
        elif token.type == "list_item_close":
            items -= 1
        elif token.type == "inline":
            text = "".join("\n" if c.type in ("softbreak", "hardbreak") else c.content
                           for c in token.children or () if c.type in ("text", "code_inline", "softbreak", "hardbreak"))
            text = text.strip()
            if text and (ending or items) and not text.endswith(_ENDED):
                text += BLOCK_ENDS.get(language or "", BLOCK_END)
            blocks.append(text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content)
    return "\n".join(b for b in blocks if b)
