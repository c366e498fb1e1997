"""The records a harvester may know of, read from the catalogue rows (never every file), and the sets.

Harvesters are anonymous. A practice whose current version is public is a record, dated when that
version was published. A practice that was public once and is not now (made partners-only, say) is a
*deleted* record, dated when it stopped being public: the first version after its last public one. A
practice that was never public is not known at all. A record's sets are those of the version it stands
for: the current one, or for a deleted record its last public one (read from its file, which never
changes, so it is read once per process) — never a text that was not public.
"""

from __future__ import annotations

import datetime
import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import policy
from exchange.library import vocabularies
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import LibraryStore
from exchange.library.storage import UnsafePath
from exchange.models import City
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: what an anonymous reader may read, as the one policy says (DESIGN 4): harvesters are anonymous
PUBLIC = tuple(sorted(policy.readable_visibilities(policy.ANONYMOUS)))
#: the top of each set hierarchy, with its name
FAMILIES = {"city": "Cities", "country": "Countries", "hazard": "Hazards", "kind": "Kinds of document"}


@dataclass(frozen=True)
class Header:
    """One record as a harvester sees it."""

    practice_id: str
    #: when its current public version was published, or when it stopped being public (naive UTC)
    moment: datetime.datetime
    deleted: bool
    #: the version it stands for: the current public one, or (deleted) the last public one
    version: int
    sets: tuple[str, ...]

    @property
    def datestamp(self) -> datetime.datetime:
        """The moment to the second, the repository's granularity."""
        return self.moment.replace(microsecond=0)

    @property
    def key(self) -> tuple[datetime.datetime, str]:
        """Where it stands in every list: lists are in (moment, id) order."""
        return (self.moment, self.practice_id)

    def in_set(self, set_spec: str) -> bool:
        """True when the record is in ``set_spec`` or a set below it (``city`` holds ``city:jakarta``)."""
        return any(spec == set_spec or spec.startswith(set_spec + ":") for spec in self.sets)


@dataclass(frozen=True)
class OaiSet:
    """A set harvesters may select by: its spec (``city:jakarta``) and its name."""

    spec: str
    name: str


@dataclass(frozen=True)
class Selection:
    """Which records a list asks for: a datestamp range (seconds, both ends included) and a set."""

    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    set_spec: str | None = None
    practice_id: str | None = None

    def __call__(self, header: Header) -> bool:
        return ((self.start is None or header.datestamp >= self.start)
                and (self.end is None or header.datestamp <= self.end)
                and (self.set_spec is None or header.in_set(self.set_spec))
                and (self.practice_id is None or header.practice_id == self.practice_id))

    def narrow(self, query: sa.Select) -> sa.Select:
        """``query`` of current public versions narrowed to this selection, in the database."""
        if self.start is not None:  # a datestamp is published_at cut to the second
            query = query.where(PracticeVersion.published_at >= self.start)
        if self.end is not None:
            query = query.where(PracticeVersion.published_at < self.end + datetime.timedelta(seconds=1))
        family, _, value = (self.set_spec or "").partition(":")
        if value and family == "city":
            query = query.where(PracticeRecord.city == value)
        elif value and family == "country":
            query = query.where(PracticeRecord.country == value.upper())
        elif value and family == "kind":
            query = query.where(PracticeRecord.kind == value)
        elif value and family == "hazard":
            # the JSON list's text holds the key in quotes exactly when the list holds the key
            query = query.where(sa.cast(PracticeRecord.hazards, sa.Text).contains(f'"{value}"', autoescape=True))
        elif value or (family and family not in FAMILIES):
            query = query.where(sa.false())
        if self.practice_id is not None:
            query = query.where(PracticeRecord.id == self.practice_id)
        return query


@dataclass(frozen=True)
class Page:
    """Part of a list: its records, how many the whole list holds, and whether more follow."""

    headers: list[Header]
    complete_size: int
    more: bool


def set_specs(city: str, country: str, kind: str, hazards: list[str]) -> tuple[str, ...]:
    """The sets of a practice with these facts."""
    return (f"city:{city}", f"country:{country.lower()}", *(f"hazard:{hazard}" for hazard in hazards),
            f"kind:{kind}")


_CURRENT = (sa.select(PracticeRecord.id, PracticeRecord.version, PracticeRecord.city, PracticeRecord.country,
                      PracticeRecord.kind, PracticeRecord.hazards, PracticeVersion.published_at)
            .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                           PracticeVersion.version == PracticeRecord.version))
            .where(PracticeRecord.visibility.in_(PUBLIC)))


def page(instance: Instance, selection: Selection, after: tuple[datetime.datetime, str] | None,
         size: int) -> Page:
    """The first ``size`` records of ``selection`` after the key ``after`` (from the start when None).

    The database pages the public records (a big library is never read whole); deleted records, few,
    are merged in.
    """
    with instance.db.session() as session:
        query = selection.narrow(_CURRENT)
        total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        if after is not None:
            query = query.where(sa.or_(PracticeVersion.published_at > after[0],
                                       sa.and_(PracticeVersion.published_at == after[0],
                                               PracticeRecord.id > after[1])))
        rows = session.execute(query.order_by(PracticeVersion.published_at, PracticeRecord.id).limit(size + 1))
        found = [Header(row.id, row.published_at, False, row.version,
                        set_specs(row.city, row.country, row.kind, list(row.hazards or []))) for row in rows]
        deleted = _deleted(instance, session, selection)
    found += [header for header in deleted if after is None or header.key > after]
    found.sort(key=lambda header: header.key)
    return Page(found[:size], total + len(deleted), len(found) > size)


def header(instance: Instance, practice_id: str) -> Header | None:
    """The record of ``practice_id``, or None when a harvester may not know of it."""
    found = page(instance, Selection(practice_id=practice_id), None, 1).headers
    return found[0] if found else None


def _deleted(instance: Instance, session: Session, selection: Selection) -> list[Header]:
    """The deleted records of ``selection``: practices public once and not now."""
    query = (sa.select(PracticeVersion.practice_id, PracticeVersion.version, PracticeVersion.visibility,
                       PracticeVersion.published_at, PracticeRecord.city, PracticeRecord.country)
             .join(PracticeRecord, PracticeRecord.id == PracticeVersion.practice_id)
             .where(PracticeRecord.visibility.not_in(PUBLIC))
             .where(PracticeVersion.practice_id.in_(
                 sa.select(PracticeVersion.practice_id).where(PracticeVersion.visibility.in_(PUBLIC))))
             .order_by(PracticeVersion.practice_id, PracticeVersion.version))
    if selection.practice_id is not None:
        query = query.where(PracticeVersion.practice_id == selection.practice_id)
    by_practice: dict[str, list[sa.Row]] = {}
    for row in session.execute(query):
        by_practice.setdefault(row.practice_id, []).append(row)
    found = []
    for practice_id, rows in by_practice.items():
        last_public = max(row.version for row in rows if policy.may_read_visibility(policy.ANONYMOUS, row.visibility))
        later = [row for row in rows if row.version > last_public]
        if not later:
            continue  # the catalogue says not public but no later version does: drift for `exchange check`
        first = later[0]
        dated = Header(practice_id, first.published_at, True, last_public, ())
        if not Selection(selection.start, selection.end)(dated):
            continue  # outside the range: its last public version's sets need not be read
        found.append(Header(practice_id, first.published_at, True, last_public,
                            _kept_sets(instance, practice_id, last_public, first.city, first.country)))
    return [header for header in found if selection(header)]


def earliest(instance: Instance) -> datetime.datetime:
    """The earliest datestamp any record has had (its first public version), or now for an empty library."""
    with instance.db.session() as session:
        first = session.scalar(sa.select(sa.func.min(PracticeVersion.published_at))
                               .where(PracticeVersion.visibility.in_(PUBLIC)))
    return _second(first or datetime.datetime.now(datetime.UTC).replace(tzinfo=None))


def sets(instance: Instance) -> list[OaiSet]:
    """Every set: the four families, then each partner city and country, hazard and kind."""
    found = [OaiSet(spec, name) for spec, name in FAMILIES.items()]
    with instance.db.session() as session:
        cities = list(session.scalars(sa.select(City).order_by(City.slug)))
    found += [OaiSet(f"city:{city.slug}", city.display_name("en")) for city in cities]
    found += [OaiSet(f"country:{code.lower()}", vocabularies.country_name(code))
              for code in sorted({city.country for city in cities})]
    for key, term in vocabularies.hazards().terms.items():
        found.append(OaiSet(f"hazard:{key}", f"{term.label()} (HIPs {term.code})" if term.code else term.label()))
    found += [OaiSet(f"kind:{key}", term.label()) for key, term in vocabularies.kinds().terms.items()]
    return found


def _second(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(microsecond=0, tzinfo=None)


def _kept_sets(instance: Instance, practice_id: str, version: int, city: str, country: str) -> tuple[str, ...]:
    """The sets of a kept version, or only its city's and country's when its file cannot be read."""
    facts = _kept_facts(instance.store, practice_id, version)
    if facts is None:
        return (f"city:{city}", f"country:{country.lower()}")
    kind, hazards = facts
    return set_specs(city, country, kind, list(hazards))


@functools.lru_cache(maxsize=8192)
def _kept_facts(store: LibraryStore, practice_id: str, version: int) -> tuple[str, tuple[str, ...]] | None:
    """The kind and hazards of a kept version, None when unreadable (history is append-only: a version's
    file never changes, so what was read is kept for the process)."""
    try:
        practice = parse(store.read_version(practice_id, version), practice_id.partition("/")[2])
    except (OSError, UnsafePath, InvalidPractice, ValueError) as error:
        log.warning("cannot read %r v%d for its OAI-PMH sets: %s", practice_id, version, error)
        return None
    return practice.kind, tuple(practice.hazards or ())
