"""A pack assembled once for export: parts and chapters with rendered, safe HTML, read as the exporter may.

Every format (single-file HTML, PDF, EPUB, Markdown ZIP) starts from :func:`assemble`, so permissions
(threats A-6), size limits (R-7) and sanitising (X-12) are decided in one place. The exporting person's
permissions are checked now, when the export runs, not when a practice was added to the pack.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from exchange import policy
from exchange.errors import Invalid
from exchange.library import cities
from exchange.library import rendering
from exchange.library import vocabularies
from exchange.library.labels import Labels
from exchange.library.practice import Practice
from exchange.models import City
from exchange.models import Pack
from exchange.models import PackItem
from exchange.packs import packs
from exchange.packs.exports.words import words

if TYPE_CHECKING:
    from exchange.instance import Instance

EDITIONS = ("trainer", "participant")
#: the site's templates, which the export templates are among
TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
#: Beyond these a pack is refused with a message, before anything is rendered (threats R-7).
MAX_PRACTICES = 200
MAX_CHARACTERS = 4_000_000
#: deeper element nesting in a practice is exported as plain text
MAX_DEPTH = 100

#: progress(fraction done 0..1, what is happening now)
Progress = Callable[[float, str], None]


class PackTooLarge(Invalid):
    """The pack is over an export limit; the message says which and what to do."""


def no_progress(_fraction: float, _stage: str) -> None:
    """A progress callback that reports nowhere."""


@dataclass(frozen=True)
class Chapter:
    """One practice of the pack as it is exported."""

    number: int
    anchor: str
    section: str
    entry: packs.Entry
    body: Markup
    notes: Markup
    exercises: Markup
    answers: Markup
    #: the stable address of exactly this version
    url: str

    @property
    def practice(self) -> Practice:
        assert self.entry.practice is not None  # chapters are made of practice entries only
        return self.entry.practice

    @property
    def licence_name(self) -> str:
        licence = vocabularies.licences().get(self.practice.licence, {})
        return licence.get("name", self.practice.licence)

    @property
    def licence_url(self) -> str:
        return vocabularies.licences().get(self.practice.licence, {}).get("url", "")


@dataclass(frozen=True)
class Part:
    """A section of the pack (the practices before the first section have no heading)."""

    heading: str
    anchor: str
    chapters: list[Chapter] = field(default_factory=list)


@dataclass(frozen=True)
class Course:
    """The whole pack, ready to be written in any format."""

    pack: Pack
    entries: list[packs.Entry]
    edition: str
    parts: list[Part]
    introduction: Markup
    made: str
    base_url: str
    #: the partner cities of the practices in the pack
    cities: list[City]

    @property
    def trainer(self) -> bool:
        return self.edition == "trainer"

    @property
    def chapters(self) -> list[Chapter]:
        return [chapter for part in self.parts for chapter in part.chapters]

    @property
    def organisations(self) -> list[str]:
        names = (c.practice.organisation or c.practice.city for c in self.chapters)
        return list(dict.fromkeys(names))


def assemble(instance: Instance, viewer: policy.Viewer, pack_id: int, edition: str, base_url: str,
             progress: Progress = no_progress, link_digest: str | None = None) -> Course:
    """The pack as ``viewer`` may read it now; PackTooLarge when over a limit.

    Only the owner gets the trainer edition; anyone else who may read the pack gets the participant one.
    """
    if edition not in EDITIONS:
        raise Invalid(f"edition must be one of {', '.join(EDITIONS)}")
    pack, entries = packs.read(instance, viewer, pack_id, token_digest=link_digest)
    check_limits(entries)
    if not policy.may_export_trainer_edition(viewer, pack):
        edition = "participant"
    trainer = edition == "trainer"
    base_url = base_url.rstrip("/")
    parts = [Part("", "part-0")]
    total = max(1, sum(1 for e in entries if e.practice))
    for entry in entries:
        if entry.practice is None:
            parts.append(Part(entry.item.heading or "", f"part-{len(parts)}"))
            continue
        number = sum(len(p.chapters) for p in parts) + 1
        progress(0.05 + 0.25 * number / total, f"preparing practice {number} of {total}")
        prefix = f"c{number}-"
        item = entry.item
        assert entry.rendered is not None  # packs.read renders every practice entry it returns
        parts[-1].chapters.append(Chapter(
            number=number, anchor=f"practice-{number}", section=parts[-1].heading, entry=entry,
            body=printable_body(entry.rendered.html, entry.practice.body, prefix),
            notes=_markdown(item.trainer_notes, f"{prefix}n-") if trainer else Markup(""),
            exercises=_markdown(item.exercises, f"{prefix}e-"),
            answers=_markdown(item.answers, f"{prefix}a-") if trainer else Markup(""),
            url=f"{base_url}/practices/{entry.practice.id}/versions/{entry.version}"))
    parts = [part for part in parts if part.heading or part.chapters]
    slugs = {e.practice.city for e in entries if e.practice}
    partner_cities = [city for city in cities.all_cities(instance) if city.slug in slugs]
    return Course(pack=pack, entries=entries, edition=edition, parts=parts,
                  introduction=_markdown(pack.introduction, "intro-"), made=datetime.date.today().isoformat(),
                  base_url=base_url, cities=partner_cities)


def one_practice(practice: Practice, version: int, body: rendering.Rendered, language: str, base_url: str,
                 partner_cities: list[City]) -> Course:
    """A course of one practice at ``version``, its words and labels in ``language``: what "Save as PDF"
    prints for a practice someone may read (the caller has checked that they may)."""
    base_url = base_url.rstrip("/")
    # A pack that is never stored: it only carries the title and the language of the words around the text.
    pack = Pack(id=0, title=practice.title, language=language, introduction="")
    entry = packs.Entry(item=PackItem(practice_id=practice.id, version=version, trainer_notes="", exercises="",
                                      answers=""),
                        practice=practice, latest_version=version, version=version, rendered=body)
    chapter = Chapter(number=1, anchor="practice-1", section="", entry=entry,
                      body=printable_body(body.html, practice.body, "c1-"), notes=Markup(""), exercises=Markup(""),
                      answers=Markup(""), url=f"{base_url}/practices/{practice.id}/versions/{version}")
    slugs = {practice.city}
    return Course(pack=pack, entries=[entry], edition="participant", parts=[Part("", "part-0", [chapter])],
                  introduction=Markup(""), made=datetime.date.today().isoformat(), base_url=base_url,
                  cities=[city for city in partner_cities if city.slug in slugs])


def printable_body(html: Markup, markdown: str, prefix: str) -> Markup:
    """A practice's rendered body as every export prints it: ids unique within the export, too deep a
    nesting flattened to text, checklists with their boxes in their items' lines."""
    return _boxed(_printable(_prefixed(html, prefix), markdown))


def page(template: str, course: Course, **context: object) -> str:
    """A template of an exported pack, with its words and labels in the pack's language."""
    language = course.pack.language
    labels = Labels(language, {city.slug: city.display_name(language) for city in course.cities})
    return _templates().get_template(template).render(course=course, w=words(language), labels=labels, **context)


@functools.cache
def _templates() -> jinja2.Environment:
    """The export templates' own Jinja environment: the site's templates folder, autoescaped, and nothing
    of the web app (no ``url_for``, request or session), so that a worker renders without building it."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


def check_limits(entries: list[packs.Entry]) -> None:
    """PackTooLarge when the pack has more practices or text than an export may hold."""
    practices = [e.practice for e in entries if e.practice]
    if len(practices) > MAX_PRACTICES:
        raise PackTooLarge(f"This pack has {len(practices)} practices; an export holds at most {MAX_PRACTICES}. "
                           "Duplicate the pack and split it into smaller ones.")
    characters = sum(len(p.body) for p in practices)
    if characters > MAX_CHARACTERS:
        raise PackTooLarge(f"This pack has {characters:,} characters of text; an export holds at most "
                           f"{MAX_CHARACTERS:,}. Duplicate the pack and split it into smaller ones.")


_ANCHORS = re.compile(r'(\sid="|\shref="#)')


def _prefixed(html: Markup, prefix: str) -> Markup:
    """Heading and footnote ids made unique within the whole pack (each practice has its own)."""
    # The HTML comes from nh3, which quotes every attribute value and escapes quotes inside text,
    # so this only ever matches real id and in-page href attributes.
    return Markup(_ANCHORS.sub(lambda m: m.group(1) + prefix, str(html)))


class _Depth(HTMLParser):
    """The deepest element nesting of an HTML fragment."""

    VOID = frozenset({"br", "hr", "img", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in self.VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1


def _printable(html: Markup, markdown: str) -> Markup:
    """``html``, or the plain text when its elements nest deeper than a layout engine can follow.

    Inline emphasis is not bounded by markdown-it's block nesting limit: ``*a **a `` repeated nests
    tens of thousands of elements, and WeasyPrint spends half a minute before a RecursionError (R-7).
    """
    depth = _Depth()
    depth.feed(str(html))
    if depth.deepest <= MAX_DEPTH:
        return html
    return Markup('<p class="flattened">{}</p><p>{}</p>').format(
        "This practice's formatting nests too deeply to lay out; its text is shown without formatting.",
        " ".join(rendering.plain_text(markdown).split()))


def _markdown(text: str, prefix: str) -> Markup:
    return _boxed(_prefixed(rendering.render(text).html, prefix)) if text.strip() else Markup("")


#: a task-list item's checkbox as rendering.render writes it (nh3 quotes and orders the attributes)
_CHECKBOX = re.compile(r'<input class="task-list-item-checkbox"( checked="checked")? disabled="disabled" '
                       r'type="checkbox"\s*/?>')
#: a task-list item's label (the page's screen readers name its checkbox by it): no control to name in print
_LABELLED = re.compile(r'<label>(<input class="task-list-item-checkbox"[^>]*>)(.*?)</label>', re.S)


def _boxed(html: Markup) -> Markup:
    """``html`` with each task-list checkbox drawn as a box character in the line of its item's text.

    A form control is laid out as a block of its own by WeasyPrint and some e-book readers, so a checklist
    printed one box per line, its text below; a ballot box glyph (☐, or ☑ when done) flows with the text.
    """
    unlabelled = _LABELLED.sub(r"\1\2", str(html))
    return Markup(_CHECKBOX.sub(lambda m: '<span class="task-box">{}</span>'.format("☑" if m.group(1) else "☐"),
                                unlabelled))
