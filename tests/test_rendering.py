"""Markdown rendering: useful features on, every hostile input inert (threats X-1..X-11, R-1, R-4)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.library.rendering import plain_text
from exchange.library.rendering import render

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(document.domain))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](jav&#x0A;ascript:alert(1))",
    "[x](java%09script:alert(1))",
    "[x](<javascript:alert(1)>)",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:text/html,<script>alert(1)</script>)",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    '<iframe srcdoc="<script>alert(1)</script>">',
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    '<meta http-equiv=refresh content="0;url=//evil.example">',
    "<a a=\"<img src=1 onerror='alert(1)'>\">x</a>",
    "<IMG SRC=`javascript:alert(1)`>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg><animate attributeName=href values=javascript:alert(1) /></svg>",
    "<svg><set attributeName=href to=javascript:alert(1) /></svg>",
    "# <img src=x onerror=alert(1)>",
    "<div onmouseover=alert(1)>hover</div>",
    "<style>body{display:none}</style>",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def browser_scheme(url: str) -> str | None:
    """The scheme a WHATWG parser would find: entities decoded, tab/newline/leading C0 and space stripped."""
    url = re.sub(r"[\t\n\r]", "", html.unescape(url)).lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                         "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                                         "\x1c\x1d\x1e\x1f ")
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else None


def assert_inert(markup: str, whole_page: bool = False) -> None:
    """No element, attribute or URL in ``markup`` can run script (a whole page may have our own forms)."""
    collected = _Collector()
    collected.feed(markup)
    forbidden = {"script", "iframe", "svg", "style", "object", "embed", "base"}
    if not whole_page:
        forbidden |= {"form", "button", "meta", "link"}
    tags = set(collected.tags)
    if whole_page:
        # A page may load our own scripts (the policy's script-src 'self'): files under /static/, one src each.
        ours = [value for tag, name, value in collected.attributes if tag == "script" and name == "src"]
        if collected.tags.count("script") == len(ours) and all(src.startswith("/static/") for src in ours):
            tags.discard("script")
    assert not forbidden & tags
    for tag, name, value in collected.attributes:
        if tag == "meta":
            assert name in ("charset", "name", "content") and "url" not in value.lower(), (name, value)
    for tag, name, value in collected.attributes:
        assert not name.startswith("on"), (tag, name)
        assert name not in {"style", "srcdoc", "formaction", "xlink:href"} or (name == "style" and tag in ("th", "td"))
        if name in ("href", "src"):
            assert browser_scheme(value) in (None, "http", "https", "mailto"), (tag, name, value)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_renders_inert(payload):
    assert_inert(render(payload).html)


def test_raw_html_is_shown_as_text():
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in render("<script>alert(1)</script>").html


def test_template_syntax_stays_literal():
    out = render("{{ config }} {{ 7+7 }} {% for x in y %} &#x7b;&#x7b;7+7&#x7d;&#x7d;").html
    assert "{{ config }}" in out and "{{ 7+7 }}" in out and "{% for x in y %}" in out and "{{7+7}}" in out
    assert "14" not in out and "SECRET" not in out


def test_safe_links_and_relative_links_survive():
    out = render("[a](https://bnpb.go.id) [b](/practices/jakarta) [c](mailto:ops@example.org) [d](#h-steps)").html
    assert 'href="https://bnpb.go.id"' in out and 'href="/practices/jakarta"' in out
    assert 'href="mailto:ops@example.org"' in out and 'href="#h-steps"' in out
    assert 'rel="noopener noreferrer nofollow"' in out


def test_headings_get_prefixed_ids_and_a_table_of_contents():
    rendered = render("## Roles\n\n### Who warns\n\n## \\_\\_proto\\_\\_\n\n## location\n\n## 避難所の運営\n")
    ids = [h.id for h in rendered.toc]
    assert ids == ["h-roles", "h-who-warns", "h-__proto__", "h-location", "h-避難所の運営"]
    assert all(f'id="{i}"' in rendered.html for i in ids)
    assert [h.level for h in rendered.toc] == [2, 3, 2, 2, 2]


def test_tables_footnotes_and_task_lists():
    out = render("| Level | Action |\n|---|--:|\n| Siaga 1 | Evacuate |\n\nSee note[^1].\n\n"
                 "[^1]: BPBD data.\n\n- [ ] Check sirens\n- [x] Update contacts\n").html
    assert '<table tabindex="0">' in out and '<td style="text-align:right">Evacuate</td>' in out  # keyboard-scrollable
    assert 'href="#fn-note-1"' in out and 'id="fn-note-1"' in out
    assert out.count('type="checkbox"') == 2 and 'checked="checked"' in out and 'disabled' in out
    assert "<label><input" in out and "Check sirens</label>" in out  # each box named by its item


PATHOLOGICAL = {
    "emphasis": "*a **a " * 65000 + "b" + " a** a*" * 65000,
    "underscores": "a_ " * 65000,
    "underscore-words": "_a " * 65000,
    "close-brackets": "a]" * 65000,
    "open-brackets": "[a" * 65000,
    "nested-brackets": "[" * 50000 + "a" + "]" * 50000,
    "blockquotes": "> " * 50000 + "a",
    "nested-list": "".join("  " * i + "- a\n" for i in range(1000)),
    "backticks": "e" + "`" * 9999,
    "angle-links": "[a](<b" * 50000,
    "linkify-stars": "*" * 100000 + "x",
    "email-like": "a@" * 25000 + "b.com",
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_input_renders_inert_and_in_proportion(name):
    """R-1 as behaviour: no RecursionError, nothing that runs, no more HTML than twice the text.

    How long each takes depends on the machine: bench/rendering.py measures it, and render_bounded bounds it
    where people ask for renders at will (tests/test_bounded_rendering.py).
    """
    text = PATHOLOGICAL[name][:MAX_DOCUMENT_BYTES]
    html = render(text).html
    assert_inert(html)
    assert len(html) <= 2 * len(text) + 100


# Heading ids and task lists: the plugins' output, in linear time (threats R-2) --------------------

def plugins_rendering(markdown: str) -> str:
    """``markdown`` rendered with mdit-py-plugins' own tasklists and anchors, which rendering.py replaced."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    from exchange.library import rendering

    md = MarkdownIt("js-default", {"maxNesting": rendering.MAX_NESTING, "html": False, "linkify": False})
    md.use(footnote_plugin, inline=True)
    md.use(tasklists_plugin, enabled=False, label=True)  # each box labelled by its item's text
    md.use(anchors_plugin, min_level=2, max_level=4, slug_func=rendering.heading_slug)
    md.validateLink = rendering.is_safe_url  # type: ignore[method-assign]
    return str(rendering._cleaner().clean(md.render(markdown, {"docId": "note"})))


TASKS_AND_HEADINGS = {
    "repeated headings": "## a\n\n## a\n\n### a-1\n\n#### a\n\n## A\n\n# a\n\n##### a\n\n## a-2\n\n## a\n",
    "setext and empty": "a\n--\n\n##\n\n## \\_\\_\n\n## `code` *em* [link](/x)\n\n## section\n",
    "tasks": "- [ ] one\n- [x] two\n- [X] three\n- [] not\n- [ ]\tTab\n- [ ]\n- plain\n\n1. [ ] ordered\n",
    "nested tasks": "- [ ] a\n  - [x] b\n    - [ ] c\n  - d\n- e\n\n> - [ ] quoted\n>   1. [x] deeper\n",
    "loose tasks": "- [ ] a\n\n  more\n\n- [x] b\n\n---\n\n* [ ] star\n+ [x] plus\n",
    "tasks in headings": "## [ ] not a task\n\n- ## [ ] heading item\n- [ ] item with [^1]\n\n[^1]: note\n",
}


@pytest.mark.parametrize("markdown", TASKS_AND_HEADINGS.values(), ids=TASKS_AND_HEADINGS)
def test_heading_ids_and_task_lists_are_what_the_plugins_made(markdown):
    assert str(render(markdown).html) == plugins_rendering(markdown)


def test_twenty_thousand_repeated_headings_and_tasks_render():
    """Quadratic in the plugins: minutes for this; 512 KB of it took hours."""
    rendered = render("## a\n" * 20000 + "\n" + "- [ ] a\n" * 20000)
    assert [heading.id for heading in rendered.toc] == ["h-a"] + [f"h-a-{n}" for n in range(1, 20000)]
    assert rendered.html.count('<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">') == 20000


@pytest.mark.parametrize(("language", "markdown", "expected"), [
    ("en", "## Step 2\n\nEvacuate the **resi**dents [now](https://x.test).\nThen count them.\n",
     "Step 2 ·\nEvacuate the residents now.\nThen count them."),
    ("id", "## Langkah 2\n\n| Posko | Kapasitas |\n|---|---|\n| Sekolah | 200 |\n\n- Evakuasi *warga*\n",
     "Langkah 2 ·\nPosko ·\nKapasitas ·\nSekolah ·\n200 ·\nEvakuasi warga ·"),
    ("id", "- petugas\n- Gedung diperiksa.\n\nSelesai\n", "petugas ·\nGedung diperiksa.\nSelesai"),
    ("ja", "- 家具を固定\n- 水を備蓄\n", "家具を固定。\n水を備蓄。"),
    ("ja", "## 避難所\n\n**避難所**を開設する。\n\n| 施設 | 定員 |\n|---|---|\n| 学校 | 200 |\n",
     "避難所。\n避難所を開設する。\n施設。\n定員。\n学校。\n200。"),
    ("en", "# Done.\n\n| Ends: |\n|---|\n| Yes! |\n", "Done.\nEnds:\nYes!"),
])
def test_plain_text_keeps_blocks_apart_and_words_whole(language, markdown, expected):
    assert plain_text(markdown, language) == expected
