"""The pack as an EPUB 3 book for tablets (EbookLib): one chapter per practice, sections in the contents.

Readers would fetch remote images themselves, so only ``data:`` images stay; everything else a practice
points at remains a link, never a fetch (threats X-12).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ebooklib import epub
from markupsafe import Markup

from exchange.packs.exports.course import Course
from exchange.packs.exports.course import Progress
from exchange.packs.exports.course import no_progress
from exchange.packs.exports.course import page
from exchange.packs.exports.words import words

_CSS = Path(__file__).resolve().parents[2] / "static" / "pack_epub.css"
_REMOTE_IMAGE = re.compile(r'<img\s[^>]*?src="(?!data:image/)[^"]*"[^>]*>')
_SITE_LINK = re.compile(r'\shref="/(?!/)')


def _offline(html: str, base_url: str) -> str:
    html = _REMOTE_IMAGE.sub("", html)
    return _SITE_LINK.sub(f' href="{base_url}/', html)


def write(course: Course, progress: Progress = no_progress) -> bytes:
    """The EPUB file's bytes."""
    language, w = course.pack.language, words(course.pack.language)
    book = epub.EpubBook()
    book.set_identifier(f"{course.base_url}/packs/{course.pack.id}#{course.edition}-{course.made}")
    book.set_title(f"{course.pack.title} ({w[course.edition]})")
    book.set_language(language)
    for number, organisation in enumerate(course.organisations, 1):
        book.add_author(organisation, uid=f"creator-{number}")  # ids must be unique (epubcheck RSC-005)
    book.add_metadata("DC", "publisher", "Practice Exchange")
    book.add_metadata("DC", "date", course.made)
    style = epub.EpubItem(uid="style", file_name="style/pack.css", media_type="text/css",
                          content=_CSS.read_bytes())
    book.add_item(style)

    spine: list = ["nav"]
    toc: list = []
    if course.introduction:
        intro = _page(book, style, "introduction.xhtml", w["introduction"], language,
                      f"<h1>{w['introduction']}</h1>{course.introduction}", course.base_url)
        spine.append(intro)
        toc.append(intro)
    total = max(1, len(course.chapters))
    for part in course.parts:
        chapters = []
        for index, ch in enumerate(part.chapters):
            progress(0.35 + 0.55 * ch.number / total, f"writing chapter {ch.number} of {total}")
            content = page("pack_epub_chapter.html", course, ch=ch, part_heading=part.heading if index == 0 else "")
            chapter = _page(book, style, f"practice-{ch.number}.xhtml", ch.practice.title, ch.practice.language,
                            content, course.base_url)
            spine.append(chapter)
            chapters.append(chapter)
        if part.heading and chapters:
            toc.append((epub.Section(part.heading, href=chapters[0].file_name), chapters))
        else:
            toc.extend(chapters)
    sources = _page(book, style, "sources.xhtml", w["sources"], language,
                    page("_pack_sources.html", course), course.base_url)
    spine.append(sources)
    toc.append(sources)
    book.toc = toc
    book.spine = spine
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "pack.epub")
        epub.write_epub(str(path), book)
        return path.read_bytes()


def _page(book, style, name: str, title: str, language: str, html: str | Markup, base_url: str):  # type: ignore[no-untyped-def]
    page = epub.EpubHtml(title=title, file_name=name, lang=language)
    page.content = _offline(str(html), base_url)
    page.add_item(style)
    book.add_item(page)
    return page
