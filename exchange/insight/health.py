"""Content health: what in the library needs a city's attention, for administrators.

Four lists, each row naming a practice and its owning city: reviews overdue (``review_by`` passed),
translations behind their original (made from an earlier version of it than the current one, as the
practice page says), broken links (to practices or sections of this library that do not exist, and
malformed addresses), and practices without a translation into another of the network's languages.
Everything is read from the catalogue and the renderings stored at publish: one pass over the
database, no practice file read (but for a version published before renderings were kept), no network:
links to other sites are shown as their last check by the background job (``links.py``) found them.
"""

from __future__ import annotations

import datetime
import html
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.insight import links
from exchange.library import reading
from exchange.library import vocabularies
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import RenderedVersion

if TYPE_CHECKING:
    from exchange.instance import Instance

_HREF = re.compile(r'<a\b[^>]*?\bhref="([^"]*)"')
_ID = re.compile(r'\bid="([^"]*)"')
# a practice's page, one of its versions, its PDF or its comparison page
_PRACTICE_PATH = re.compile(r"^/practices/([a-z0-9-]+)/([a-z0-9-]+)(?:/versions/([0-9]{1,9}))?(?:\.pdf|/compare)?/?$")
# a domain name with a top-level domain, an IPv4 address, or an IPv6 one (urlsplit drops its brackets)
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$"
                   r"|^localhost$|^[0-9.]{7,15}$|^[0-9a-f:.]+$")

#: why a link is broken
NO_SUCH_PRACTICE = "no-such-practice"
NO_SUCH_VERSION = "no-such-version"
NO_SUCH_SECTION = "no-such-section"
MALFORMED = "malformed"
#: a link to another site whose last check (``links.py``) failed: ``BrokenLink.detail`` says how
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Row:
    """A practice in one of the lists."""

    id: str
    title: str
    language: str
    city: str
    visibility: str


@dataclass(frozen=True)
class Overdue:
    practice: Row
    review_by: str


@dataclass(frozen=True)
class Behind:
    practice: Row
    original: Row
    made_from: int
    original_version: int


@dataclass(frozen=True)
class BrokenLink:
    practice: Row
    href: str
    problem: str
    #: for UNREACHABLE: the check's problem (links.NO_SUCH_HOST …, or http-<status>)
    detail: str = ""


@dataclass(frozen=True)
class Untranslated:
    practice: Row
    #: the network's languages it has no version in
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Health:
    """The four lists (of ``city`` alone when given) and, per language pair, how many lack a translation."""

    city: str | None
    overdue: list[Overdue] = field(default_factory=list)
    behind: list[Behind] = field(default_factory=list)
    broken_links: list[BrokenLink] = field(default_factory=list)
    untranslated: list[Untranslated] = field(default_factory=list)
    #: (from language, to language) → practices of the first with no version in the second
    missing_pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    #: when links to other sites were last checked (None: never)
    links_checked_at: datetime.datetime | None = None


def health(instance: Instance, base_url: str, city: str | None = None,
           today: datetime.date | None = None) -> Health:
    """The content health of the library (of ``city``'s practices when given); ``base_url`` is the site's
    address, so absolute links to this library are checked too."""
    with instance.db.session() as session:
        records = {r.id: r for r in session.scalars(sa.select(PracticeRecord).order_by(PracticeRecord.id))}
        latest = _latest_versions(session)
        renderings = reading.stored_renderings(session, [(r.id, r.version) for r in records.values()])
        contents = dict(renderings)
        mine = [r for r in records.values() if city is None or r.city == city]
        sections = {key[0]: _ids(row.html) for key, row in contents.items()}
        for record in mine:  # a version published before renderings were kept: render it once now
            if (record.id, record.version) not in contents:
                sections[record.id] = set()
                rendered = _render(instance, session, record)
                if rendered is not None:
                    contents[(record.id, record.version)] = rendered
                    sections[record.id] = _ids(rendered.html)
    checked = links.checks(instance)
    found = Health(city=city, links_checked_at=max((c.checked_at for c in checked.values()), default=None))
    date = (today or datetime.date.today()).isoformat()
    for record in mine:
        row = _row(record)
        review_by = str(record.meta.get("review_by") or "")
        if review_by and review_by < date:
            found.overdue.append(Overdue(row, review_by))
        original = records.get(record.translation_of or "")
        behind = reading.original_updated(original, latest.get(record.id))
        if original is not None and behind is not None:
            found.behind.append(Behind(row, _row(original), *behind))
        stored = contents.get((record.id, record.version))
        if stored is not None:
            found.broken_links.extend(BrokenLink(row, href, problem) for href, problem in
                                      _broken(stored.html, record, records, sections, base_url))
            found.broken_links.extend(BrokenLink(row, href, UNREACHABLE, checked[href].problem)
                                      for href in _other_sites(stored.html)
                                      if href in checked and checked[href].problem)
    _untranslated(found, mine, records.values())
    found.overdue.sort(key=lambda o: (o.review_by, o.practice.id))
    return found


def _latest_versions(session: Session) -> dict[str, PracticeVersion]:
    newest = sa.select(PracticeVersion.practice_id, sa.func.max(PracticeVersion.version).label("version")) \
        .group_by(PracticeVersion.practice_id).subquery()
    rows = session.scalars(sa.select(PracticeVersion).join(newest, sa.and_(
        PracticeVersion.practice_id == newest.c.practice_id, PracticeVersion.version == newest.c.version)))
    return {row.practice_id: row for row in rows}


def _render(instance: Instance, session: Session, record: PracticeRecord) -> RenderedVersion | None:
    try:
        practice = parse(instance.store.read_version(record.id, record.version), record.slug)
    except (FileNotFoundError, UnsafePath, InvalidPractice):
        return None
    body = reading.rendered(instance, session, practice, record.version)
    return RenderedVersion(practice_id=record.id, version=record.version, renderer="", html=str(body.html),
                           contents=body.stored_contents())


def _row(record: PracticeRecord) -> Row:
    return Row(record.id, record.title, record.language, record.city, record.visibility)


def _ids(body: str) -> set[str]:
    return {html.unescape(value) for value in _ID.findall(body)}


def _broken(body: str, record: PracticeRecord, records: dict[str, PracticeRecord], sections: dict[str, set[str]],
            base_url: str) -> list[tuple[str, str]]:
    """Each broken link of ``body`` (the rendering of ``record``) with its problem, once per address."""
    site = urllib.parse.urlsplit(base_url)
    page = f"{site.scheme}://{site.netloc}/practices/{record.id}"
    problems: dict[str, str] = {}
    for raw in _HREF.findall(body):
        href = html.unescape(raw)
        if href in problems:
            continue
        problem = _problem(href, page, site.netloc, record, records, sections)
        if problem is not None:
            problems[href] = problem
    return list(problems.items())


def _other_sites(body: str) -> list[str]:
    """The addresses of ``body``'s links that ``links.py`` checks (any of http and https; ``checks`` holds
    only those of other sites)."""
    return list(dict.fromkeys(html.unescape(raw) for raw in _HREF.findall(body) if raw.startswith(("http:", "https:"))))


def _problem(href: str, page: str, host: str, record: PracticeRecord, records: dict[str, PracticeRecord],
             sections: dict[str, set[str]]) -> str | None:
    try:
        parts = urllib.parse.urlsplit(href)
        if parts.scheme == "mailto":
            return None if re.fullmatch(r"[^@\s]+@[^@\s]+", urllib.parse.unquote(parts.path)) else MALFORMED
        if parts.scheme in ("http", "https") or href.startswith("//"):
            if not parts.hostname or not _HOST.match(parts.hostname) or " " in href:
                return MALFORMED
            if parts.netloc.lower() != host.lower():
                return None  # another site's: not fetched here
        target = urllib.parse.urlsplit(urllib.parse.urljoin(page, href))
    except ValueError:
        return MALFORMED
    if target.path == f"/practices/{record.id}" and not target.query:
        return None if not target.fragment or target.fragment in sections.get(record.id, set()) else NO_SUCH_SECTION
    found = _PRACTICE_PATH.match(target.path)
    if found is None:
        return None if target.path.rstrip("/") == "/practices" or not target.path.startswith("/practices/") \
            else NO_SUCH_PRACTICE
    linked = records.get(f"{found.group(1)}/{found.group(2)}")
    if linked is None:
        return NO_SUCH_PRACTICE
    if found.group(3) is not None and not 0 < int(found.group(3)) <= linked.version:
        return NO_SUCH_VERSION
    if target.fragment and found.group(3) is None and target.fragment not in sections.get(linked.id, set()):
        return NO_SUCH_SECTION
    return None


def _untranslated(found: Health, mine: list[PracticeRecord], everything: Iterable[PracticeRecord]) -> None:
    families: dict[str, set[str]] = {}
    for record in everything:
        families.setdefault(record.translation_of or record.id, set()).add(record.language)
    network = vocabularies.UI_LANGUAGES
    for record in mine:
        if record.translation_of is not None:
            continue
        have = families.get(record.id, set())
        missing = tuple(code for code in network if code not in have)
        if missing:
            found.untranslated.append(Untranslated(_row(record), missing))
            for code in missing:
                pair = (record.language, code)
                found.missing_pairs[pair] = found.missing_pairs.get(pair, 0) + 1
