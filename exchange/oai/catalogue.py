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
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange.library import vocabularies
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.library.storage import read_file
from exchange.models import City
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

PUBLIC = "public"
#: the top of each set hierarchy, with its name
FAMILIES = {"city": "Cities", "country": "Countries", "hazard": "Hazards", "kind": "Kinds of document"}


@dataclass(frozen=True)
class Header:
    """One record as a harvester sees it."""

    practice_id: str
    #: when its current public version was published, or when it stopped being public (naive UTC, seconds)
    datestamp: datetime.datetime
    deleted: bool
    #: the version it stands for: the current public one, or (deleted) the last public one
    version: int
    sets: tuple[str, ...]

    @property
    def key(self) -> tuple[datetime.datetime, str]:
        return (self.datestamp, self.practice_id)

    def in_set(self, set_spec: str) -> bool:
        """True when the record is in ``set_spec`` or a set below it (``city`` holds ``city:jakarta``)."""
        return any(spec == set_spec or spec.startswith(set_spec + ":") for spec in self.sets)


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str


def set_specs(city: str, country: str, kind: str, hazards: list[str]) -> tuple[str, ...]:
    """The sets of a practice with these facts."""
    return (f"city:{city}", f"country:{country.lower()}", *(f"hazard:{hazard}" for hazard in hazards),
            f"kind:{kind}")


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
        """``query`` of current public versions, narrowed in the database where the columns allow."""
        if self.start is not None:
            query = query.where(PracticeVersion.published_at >= self.start)
        if self.end is not None:  # a datestamp is published_at cut to the second
            query = query.where(PracticeVersion.published_at < self.end + datetime.timedelta(seconds=1))
        family, _, value = (self.set_spec or "").partition(":")
        if value and family == "city":
            query = query.where(PracticeRecord.city == value)
        elif value and family == "country":
            query = query.where(PracticeRecord.country == value.upper())
        elif value and family == "kind":
            query = query.where(PracticeRecord.kind == value)
        if self.practice_id is not None:
            query = query.where(PracticeRecord.id == self.practice_id)
        return query


def headers(instance: Instance, selection: Selection | None = None) -> list[Header]:
    """The records a harvester may know of that ``selection`` asks for (all), in (datestamp, id) order."""
    selection = selection or Selection()
    found: list[Header] = []
    with instance.db.session() as session:
        current = session.execute(selection.narrow(
            sa.select(PracticeRecord.id, PracticeRecord.version, PracticeRecord.city, PracticeRecord.country,
                      PracticeRecord.kind, PracticeRecord.hazards, PracticeVersion.published_at)
            .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                           PracticeVersion.version == PracticeRecord.version))
            .where(PracticeRecord.visibility == PUBLIC)))
        for row in current:
            found.append(Header(row.id, _second(row.published_at), False, row.version,
                                set_specs(row.city, row.country, row.kind, list(row.hazards or []))))
        hidden = sa.select(PracticeVersion.practice_id, PracticeVersion.version, PracticeVersion.visibility,
                           PracticeVersion.published_at, PracticeRecord.city, PracticeRecord.country) \
            .join(PracticeRecord, PracticeRecord.id == PracticeVersion.practice_id) \
            .where(PracticeRecord.visibility != PUBLIC) \
            .where(PracticeVersion.practice_id.in_(
                sa.select(PracticeVersion.practice_id).where(PracticeVersion.visibility == PUBLIC))) \
            .order_by(PracticeVersion.practice_id, PracticeVersion.version)
        if selection.practice_id is not None:
            hidden = hidden.where(PracticeVersion.practice_id == selection.practice_id)
        hidden_rows = session.execute(hidden).all()
    by_practice: dict[str, list[sa.Row]] = {}
    for version_row in hidden_rows:
        by_practice.setdefault(version_row.practice_id, []).append(version_row)
    for practice_id, rows in by_practice.items():
        last_public = max(row.version for row in rows if row.visibility == PUBLIC)
        after = [row for row in rows if row.version > last_public]
        if not after:
            continue  # the catalogue says not public but no later version does: drift for `exchange check`
        first = after[0]
        stopped = _second(first.published_at)
        if (selection.start and stopped < selection.start) or (selection.end and stopped > selection.end):
            continue  # dated outside the range: no need to read its last public version's sets
        found.append(Header(practice_id, stopped, True, last_public,
                            _kept_sets(instance, practice_id, last_public, first.city, first.country)))
    found = [header for header in found if selection(header)]
    found.sort(key=lambda header: header.key)
    return found


def header(instance: Instance, practice_id: str) -> Header | None:
    """The record of ``practice_id``, or None when a harvester may not know of it."""
    found = headers(instance, Selection(practice_id=practice_id))
    return found[0] if found else None


def earliest(instance: Instance) -> datetime.datetime:
    """The earliest datestamp any record has had (its first public version), or now for an empty library."""
    with instance.db.session() as session:
        first = session.scalar(sa.select(sa.func.min(PracticeVersion.published_at))
                               .where(PracticeVersion.visibility == PUBLIC))
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
    try:
        kind, hazards = _kept_facts(instance.store.version_path(practice_id, version), practice_id.partition("/")[2])
    except (OSError, UnsafePath, InvalidPractice, ValueError) as error:
        log.warning("cannot read %r v%d for its OAI-PMH sets: %s", practice_id, version, error)
        return (f"city:{city}", f"country:{country.lower()}")
    return set_specs(city, country, kind, list(hazards))


@functools.lru_cache(maxsize=4096)
def _kept_facts(path: Path, slug: str) -> tuple[str, tuple[str, ...]]:
    """The kind and hazards of a kept version (history is append-only: a version's file never changes)."""
    practice = parse(read_file(path), slug)
    return practice.kind, tuple(practice.hazards or ())
