"""Listing published practices from the catalogue table alone (no practice file is parsed).

Search normally answers from the index; this is what answers while the index is being rebuilt.
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
from exchange.search.backend import FACETS


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


def values(record: PracticeRecord, facet: str) -> list[str]:
    """The values ``record`` has of ``facet`` (its hazards, its city, its year…), as they are filtered on."""
    if facet == "hazard":
        return list(record.hazards)
    if facet == "phase":
        return list(record.phases)
    if facet == "year":
        return [str(record.published.year)]
    return [getattr(record, facet)]


def visible(session: Session, viewer: policy.Viewer | None) -> list[PracticeRecord]:
    """Every published practice ``viewer`` may read, newest first."""
    return readable(session, policy.readable_visibilities(viewer))


def readable(session: Session, visibilities: frozenset[str]) -> list[PracticeRecord]:
    """Every published practice of one of ``visibilities``, newest first."""
    query = (sa.select(PracticeRecord)
             .where(PracticeRecord.visibility.in_(visibilities))
             .order_by(PracticeRecord.published.desc(), PracticeRecord.id))
    return list(session.scalars(query))


def browse(session: Session, viewer: policy.Viewer | None, filters: dict[str, list[str]],
           page: int = 1, per_page: int = 20, text: str = "") -> Listing:
    """Practices ``viewer`` may read matching every filter (any value within one filter) and every word
    of ``text`` in their title or summary, with facet counts."""
    return listing(session, policy.readable_visibilities(viewer), filters, page, per_page, text)


def listing(session: Session, visibilities: frozenset[str], filters: dict[str, list[str]],
            page: int = 1, per_page: int = 20, text: str = "") -> Listing:
    """Practices of ``visibilities`` matching every filter (any value within one filter) and every word
    of ``text`` in their title or summary, with facet counts."""
    words = text.casefold().split()
    records = [r for r in readable(session, visibilities)
               if all(not wanted or set(wanted) & set(values(r, facet)) for facet, wanted in filters.items())
               and all(w in f"{r.title} {r.summary}".casefold() for w in words)]
    facets = {facet: dict(Counter(v for r in records for v in values(r, facet)).most_common())
              for facet in FACETS}
    start = (page - 1) * per_page
    return Listing(records=records[start:start + per_page], total=len(records), page=page,
                   per_page=per_page, facets=facets)
