"""Feeds of new and updated practices: which entries a feed holds, for whom, and what each says.

A feed holds the practices a viewer may read now, each at its current version, newest version first,
at most ``MAX_ENTRIES``: the whole library, or those of one city, hazard or kind, or those a search
finds. A practice appears only when its current version may be read by the viewer (the public feeds
ask as ``policy.ANONYMOUS``): a partners-only practice, or one whose current text was published
partners-only, is in no public feed, and since an entry carries only the current version's title and
summary, no earlier restricted text can show through one. The Atom document is written by the web
layer (``templates/feed.xml``); an entry's ``updated`` is the time its current version was published,
so it changes with each version while its id (the practice's address) does not.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import replace
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.errors import NotFound
from exchange.library import vocabularies
from exchange.models import City
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.search import discovery
from exchange.search.backend import SearchRequest

if TYPE_CHECKING:
    from exchange.instance import Instance

#: the most entries a feed holds
MAX_ENTRIES = 50
#: the scheme of a hazard's category when it has a code of the UNDRR-ISC Hazard Information Profiles
HIPS_SCHEME = "https://www.undrr.org/hips"


class FeedNotFound(NotFound):
    """No such city, hazard or kind to make a feed of."""


@dataclass(frozen=True)
class Category:
    """One category of an entry: a term in a scheme, with a label for people."""

    facet: str
    term: str
    label: str
    #: the HIPs scheme for a hazard that has a code; else None (the web layer names our own scheme)
    scheme: str | None = None


@dataclass(frozen=True)
class Entry:
    """A practice as a feed shows it: its current version's metadata."""

    id: str
    title: str
    summary: str
    language: str
    city: str
    city_name: str
    kind: str
    hazards: tuple[str, ...]
    version: int
    #: the date the practice says it was first published
    published: datetime.date
    #: when its current version was published here
    updated: datetime.datetime

    def categories(self, language: str) -> list[Category]:
        """The entry's hazards (by HIPs code where there is one), kind and city, labelled in ``language``."""
        found = []
        for key in self.hazards:
            term = vocabularies.hazards().terms.get(key)
            label = term.label(language) if term else key
            if term is not None and term.code:
                found.append(Category("hazard", term.code, label, HIPS_SCHEME))
            else:
                found.append(Category("hazard", key, label))
        found.append(Category("kind", self.kind, vocabularies.kinds().label(self.kind, language)))
        found.append(Category("city", self.city, self.city_name))
        return found


@dataclass(frozen=True)
class Feed:
    """The entries of one feed, newest first, and when the newest was published (None: an empty feed)."""

    entries: tuple[Entry, ...]

    @property
    def updated(self) -> datetime.datetime | None:
        return max((entry.updated for entry in self.entries), default=None)


def library(instance: Instance, viewer: policy.Viewer | None, *, city: str | None = None, hazard: str | None = None,
            kind: str | None = None, language: str = "en") -> Feed:
    """The newest practices ``viewer`` may read, of ``city``, ``hazard`` or ``kind`` when given.

    Raises FeedNotFound for an unknown city, hazard or kind. ``language``: the one city names are given in.
    """
    if hazard is not None and hazard not in vocabularies.hazards():
        raise FeedNotFound(f"hazard {hazard!r}")
    if kind is not None and kind not in vocabularies.kinds():
        raise FeedNotFound(f"kind {kind!r}")
    query = (sa.select(PracticeRecord, PracticeVersion)
             .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                            PracticeVersion.version == PracticeRecord.version))
             # the visibility as an expression, not a column: SQLite (which keeps no statistics) takes a test
             # of a column as selective, so it sorted every public practice to give the newest 50 (24 ms at
             # 10,000); asked so, it walks the versions' published_at index and stops at the 50th (0.3 ms)
             .where((PracticeRecord.visibility + "").in_(policy.readable_visibilities(viewer)))
             .order_by(PracticeVersion.published_at.desc(), PracticeRecord.id))
    if kind is not None:
        query = query.where(PracticeRecord.kind == kind)
    with instance.db.session() as session:
        if city is not None:
            if session.get(City, city) is None:
                raise FeedNotFound(f"city {city!r}")
            query = query.where(PracticeRecord.city == city)
        names = _city_names(session, language)
        rows = session.execute(query.execution_options(yield_per=200))
        wanted = ((record, version) for record, version in rows if hazard is None or hazard in record.hazards)
        return Feed(tuple(_readable(viewer, wanted, names)))


def search(instance: Instance, viewer: policy.Viewer | None, request: SearchRequest, language: str = "en") -> Feed:
    """The practices ``request`` finds for ``viewer`` whose current versions were received last (its page
    and sort are not used): a revision of an old practice comes back into the feed."""
    found = discovery.find(instance, replace(request, sort="updated", page=1, per_page=MAX_ENTRIES), viewer)
    ids = [hit.id for hit in found.hits]
    if not ids:
        return Feed(())
    with instance.db.session() as session:
        rows = session.execute(
            sa.select(PracticeRecord, PracticeVersion)
            .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                           PracticeVersion.version == PracticeRecord.version))
            .where(PracticeRecord.id.in_(ids))
            .order_by(PracticeVersion.published_at.desc(), PracticeRecord.id))
        return Feed(tuple(_readable(viewer, rows, _city_names(session, language))))


def _city_names(session: sa.orm.Session, language: str) -> dict[str, str]:
    return {city.slug: city.display_name(language) for city in session.scalars(sa.select(City))}


def _readable(viewer: policy.Viewer | None, rows: Iterable[tuple[PracticeRecord, PracticeVersion]],
              names: dict[str, str]) -> list[Entry]:
    """The entries of ``rows`` whose current version ``viewer`` may read, at most ``MAX_ENTRIES``."""
    entries: list[Entry] = []
    for record, version in rows:
        if not (policy.may_read(viewer, record)
                and policy.may_read_visibility(viewer, version.visibility or record.visibility)):
            continue
        entries.append(Entry(id=record.id, title=record.title, summary=record.summary, language=record.language,
                             city=record.city, city_name=names.get(record.city, record.city), kind=record.kind,
                             hazards=tuple(record.hazards), version=record.version, published=record.published,
                             updated=version.published_at))
        if len(entries) == MAX_ENTRIES:
            break
    return entries
