"""Comparing practices across cities: two or three practices a viewer may read, side by side, their
metadata one field a row and their sections aligned by heading (``alignment.py``).

Each practice is read exactly as its own page reads it (``reading.get``): one the viewer may not read is
refused as if it did not exist, and nothing of it (not even its title) reaches the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.catalogs import gettext
from exchange.errors import Invalid
from exchange.errors import PracticeNotFound
from exchange.library import alignment
from exchange.library import cities
from exchange.library import reading
from exchange.library import rendering
from exchange.library.labels import Labels
from exchange.library.practice import Practice
from exchange.library.practice import check_slug
from exchange.search import concepts

if TYPE_CHECKING:
    from markupsafe import Markup

    from exchange.instance import Instance

#: At most this many practices are compared at once (wider than three columns does not read).
MAX_PRACTICES = 3
#: At least this many make a comparison.
MIN_PRACTICES = 2


class InvalidComparison(Invalid):
    """The practices asked for cannot be compared as given; the message says why."""


class UnreadablePractice(PracticeNotFound):
    """A chosen practice does not exist or the viewer may not read it (the two look the same)."""

    def __init__(self, practice_id: str) -> None:
        super().__init__(practice_id)
        self.practice_id = practice_id


@dataclass(frozen=True)
class Compared:
    """One practice of a comparison: what its column heads and each of its cells names it by."""

    id: str
    title: str
    language: str
    city: str
    city_name: str


@dataclass(frozen=True)
class FieldRow:
    """One metadata field across the practices: its label and each practice's values, as labels.

    ``field`` is the front-matter key; dates are ISO strings (the page writes them in its language).
    """

    field: str
    label: str
    values: tuple[tuple[str, ...], ...]

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class SectionCell:
    """A practice's section in a row: its own heading and its text as safe HTML."""

    heading: str
    html: Markup


@dataclass(frozen=True)
class SectionRow:
    """Sections of the practices that say the same kind of thing; None where a practice has none."""

    key: str
    label: str
    #: the language of ``label`` when it is a heading of one of the practices; "" when it is ours
    label_language: str
    cells: tuple[SectionCell | None, ...]


@dataclass(frozen=True)
class Comparison:
    """Practices side by side."""

    practices: tuple[Compared, ...]
    fields: tuple[FieldRow, ...]
    sections: tuple[SectionRow, ...]


#: The metadata compared, in the order shown: front-matter key and row label.
FIELDS = (
    ("city", N_("City")), ("country", N_("Country")), ("hazards", N_("Hazards")), ("phases", N_("Phases")),
    ("kind", N_("Kind")), ("language", N_("Language")), ("organisation", N_("Organisation")),
    ("published", N_("Published")), ("updated", N_("Updated")), ("sendai_priorities", N_("Sendai Framework")),
    ("license", N_("Licence")), ("visibility", N_("Visibility")),
)


def chosen(ids: Sequence[str]) -> tuple[str, ...]:
    """The practice ids of a comparison as given (repeats dropped), checked: each ``city/slug``, at most
    ``MAX_PRACTICES``. Fewer than ``MIN_PRACTICES`` is not an error: the reader is still choosing."""
    unique = tuple(dict.fromkeys(i.strip() for i in ids if i.strip()))
    for practice_id in unique:
        if not _well_formed(practice_id):
            raise InvalidComparison(Message(N_("%(id)s is not a practice id (city/slug, such as "
                                               "kobe/shelter-operation-procedure)."), id=repr(practice_id[:100])))
    if len(unique) > MAX_PRACTICES:
        raise InvalidComparison(Message(N_("At most %(most)s practices can be compared at once; %(count)s were "
                                           "chosen."), most=MAX_PRACTICES, count=len(unique)))
    return unique


def choosing(ids: Sequence[str]) -> tuple[str, ...]:
    """The well-formed ids of a list still being chosen (on search results), at most ``MAX_PRACTICES``:
    what ``chosen`` would refuse is dropped, so a stale address never stops a search."""
    unique = dict.fromkeys(i.strip() for i in ids)
    return tuple(i for i in unique if _well_formed(i))[:MAX_PRACTICES]


def picked(instance: Instance, ids: Sequence[str], viewer: policy.Viewer | None, language: str) -> list[Compared]:
    """Those of ``ids`` (already ``chosen``) that ``viewer`` may read, named; the others left out silently
    (for a list still being chosen, where a stale or foreign id must not stop the page)."""
    if not ids:  # (most search pages)
        return []
    names = _city_names(instance, language)
    found = []
    for practice_id in ids:
        try:
            found.append(_compared(reading.get(instance, practice_id, viewer).practice, names))
        except PracticeNotFound:
            continue
    return found


def compare(instance: Instance, ids: Sequence[str], viewer: policy.Viewer | None, language: str) -> Comparison:
    """The practices ``ids`` (already ``chosen``) side by side, labelled in ``language``.

    Raises ``UnreadablePractice`` naming the first id the viewer may not read (or that does not exist).
    """
    practices = []
    for practice_id in ids:
        try:
            practices.append(reading.get(instance, practice_id, viewer).practice)
        except PracticeNotFound:
            raise UnreadablePractice(practice_id) from None
    names = _city_names(instance, language)
    labels = Labels(language, names)
    rows = alignment.align([(p.body, p.language) for p in practices], concepts.concept_keys)
    return Comparison(
        practices=tuple(_compared(p, names) for p in practices),
        fields=tuple(row for row in (_field(key, label, practices, labels, language) for key, label in FIELDS)
                     if any(row.values)),
        sections=tuple(_section_row(row, language, practices) for row in rows))


def _well_formed(practice_id: str) -> bool:
    parts = practice_id.split("/")
    return len(parts) == 2 and not any(check_slug(part) for part in parts)


def _city_names(instance: Instance, language: str) -> dict[str, str]:
    return {city.slug: city.display_name(language) for city in cities.all_cities(instance)}


def _compared(practice: Practice, names: dict[str, str]) -> Compared:
    return Compared(id=practice.id, title=practice.title, language=practice.language, city=practice.city,
                    city_name=names.get(practice.city, practice.city))


def _field(key: str, label: str, practices: list[Practice], labels: Labels, language: str) -> FieldRow:
    return FieldRow(field=key, label=gettext(language, label),
                    values=tuple(_values(key, practice, labels) for practice in practices))


def _values(key: str, practice: Practice, labels: Labels) -> tuple[str, ...]:
    """A practice's values of a field, as the page names them."""
    named = {
        "city": lambda: [labels.city(practice.city)],
        "country": lambda: [labels.country(practice.country)],
        "hazards": lambda: [labels.hazard(h) for h in practice.hazards],
        "phases": lambda: [labels.phase(p) for p in practice.phases],
        "kind": lambda: [labels.kind(practice.kind)],
        "language": lambda: [labels.language_name(practice.language)],
        "organisation": lambda: [practice.organisation] if practice.organisation else [],
        "published": lambda: [practice.published.isoformat()],
        "updated": lambda: [practice.updated.isoformat()] if practice.updated else [],
        "sendai_priorities": lambda: [labels.sendai(n) for n in practice.sendai_priorities or []],
        "license": lambda: [labels.licence(practice.licence)["name"]],
        "visibility": lambda: [labels.visibility(practice.visibility)],
    }
    return tuple(named[key]())


def _section_row(row: alignment.Row, language: str, practices: list[Practice]) -> SectionRow:
    cells = tuple(SectionCell(cell.heading, rendering.render(cell.markdown).html) if cell is not None else None
                  for cell in row.cells)
    if row.kind:
        return SectionRow(row.key, gettext(language, alignment.kind_label(row.kind)), "", cells)
    first = next(column for column, cell in enumerate(row.cells) if cell is not None)
    return SectionRow(row.key, row.label, practices[first].language, cells)
