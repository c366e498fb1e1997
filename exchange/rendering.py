"""Markdown to safe HTML: the one module that imports markdown-it-py and nh3."""

from __future__ import annotations

import functools
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

#: Names this renderer's output: stored renderings made by another are rendered again when read.
RENDERER = "markdown-it-4.3/1"
#: Deeper nesting than this is rendered as text (threats R-1: no RecursionError, bounded time).
MAX_NESTING = 20
HEADING_ID_PREFIX = "h-"
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
# What browsers ignore when they read a URL's scheme (WHATWG: C0 controls, space, tab, newline).
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "em", "strong",
    "s", "del", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup",
    "sub", "section", "input", "span",
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
    md.use(tasklists_plugin, enabled=False)
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=heading_slug)
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    return md


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        tag_attribute_values={"input": {"type": {"checkbox"}, "disabled": {"", "disabled"}}},
        allowed_classes=_CLASSES,
        url_schemes=set(SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )


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
            inline = tokens[index + 1]
            text = "".join(child.content for child in inline.children or () if child.type in ("text", "code_inline"))
            headings.append(Heading(level=int(token.tag[1]), id=str(token.attrGet("id") or ""), text=text))
    return headings


def plain_text(markdown: str) -> str:
    """The body's words without markup, for snippets and indexing."""
    md = _parser()
    words = []
    for token in md.parse(markdown, {"docId": "note"}):
        if token.type == "inline":
            words.extend(c.content for c in token.children or () if c.type in ("text", "code_inline"))
        elif token.type in ("fence", "code_block"):
            words.append(token.content)
    return "\n".join(w for w in words if w)
