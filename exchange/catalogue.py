"""Listing published practices by their metadata, for the home, browse and city pages.

Reads the catalogue table only (no practice file is parsed). Browsing by text is the search
service's job; this is the metadata view every page can afford.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import policy
from exchange.models import PracticeRecord

#: The filters a listing accepts, each a metadata field that can hold one or several values.
FACETS = ("hazard", "city", "country", "kind", "phase", "language", "year")


@dataclass
class Listing:
    """One page of practices, their total, and the facet counts of everything that matched."""

    records: list[PracticeRecord]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _values(record: PracticeRecord, facet: str) -> list[str]:
    if facet == "hazard":
        return list(record.hazards)
    if facet == "phase":
        return list(record.phases)
    if facet == "year":
        return [str(record.published.year)]
    return [getattr(record, facet)]


def visible(session: Session, viewer: policy.Viewer | None) -> list[PracticeRecord]:
    """Every published practice ``viewer`` may read, newest first."""
    query = (sa.select(PracticeRecord)
             .where(PracticeRecord.visibility.in_(policy.readable_visibilities(viewer)))
             .order_by(PracticeRecord.published.desc(), PracticeRecord.id))
    return list(session.scalars(query))


def browse(session: Session, viewer: policy.Viewer | None, filters: dict[str, list[str]],
           page: int = 1, per_page: int = 20) -> Listing:
    """Practices matching every filter (any of the values within one filter), with facet counts."""
    records = [r for r in visible(session, viewer)
               if all(not wanted or set(wanted) & set(_values(r, facet)) for facet, wanted in filters.items())]
    facets = {facet: dict(Counter(v for r in records for v in _values(r, facet)).most_common())
              for facet in FACETS}
    start = (page - 1) * per_page
    return Listing(records=records[start:start + per_page], total=len(records), page=page,
                   per_page=per_page, facets=facets)


def counts(session: Session, viewer: policy.Viewer | None) -> dict[str, dict[str, int]]:
    """How many readable practices each facet value has, for the home page."""
    return browse(session, viewer, {}, per_page=1).facets
