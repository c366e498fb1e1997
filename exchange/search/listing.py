"""Listing published practices from the catalogue table alone (no practice file is parsed).

Search normally answers from the index; this is what answers while the index is being rebuilt.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import policy
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.search.backend import FACETS


@dataclass
class Listing:
    """One page of practices, their total, and the facet counts of everything that matched."""

    records: list[PracticeRecord]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    #: when the library received the current version of each of ``records``, by id
    revised: dict[str, datetime.datetime] = field(default_factory=dict)

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


def readable(session: Session, visibilities: frozenset[str], sort: str = "newest") -> list[PracticeRecord]:
    """Every published practice of one of ``visibilities``, newest first (``sort="updated"``: a revised one by
    when its current version came in, any other by its publication date, latest first).

    A practice's current version has the practice's visibility, so its time is only ever ordered by for
    viewers who may read that version.
    """
    query = sa.select(PracticeRecord).where(PracticeRecord.visibility.in_(visibilities))
    records = list(session.scalars(query.order_by(PracticeRecord.published.desc(), PracticeRecord.id)))
    if sort == "updated":  # as the engines' documents order it (documents.index_document): stable, so ties
        # keep the order above
        received = revised(session, [record for record in records if record.version > 1])
        records.sort(key=lambda record: received.get(record.id) or datetime.datetime.combine(record.published,
                                                                                             datetime.time()),
                     reverse=True)
    return records


def revised(session: Session, records: list[PracticeRecord]) -> dict[str, datetime.datetime]:
    """When the library received the current version of each of ``records``, by id."""
    if not records:
        return {}
    rows = session.execute(sa.select(PracticeRecord.id, PracticeVersion.published_at)
                           .join(PracticeVersion, _current_version())
                           .where(PracticeRecord.id.in_([record.id for record in records])))
    return {row.id: row.published_at for row in rows}


def _current_version() -> sa.ColumnElement[bool]:
    return sa.and_(PracticeVersion.practice_id == PracticeRecord.id, PracticeVersion.version == PracticeRecord.version)


def browse(session: Session, viewer: policy.Viewer | None, filters: dict[str, list[str]],
           page: int = 1, per_page: int = 20, text: str = "") -> Listing:
    """Practices ``viewer`` may read matching every filter (any value within one filter) and every word
    of ``text`` in their title or summary, with facet counts."""
    return listing(session, policy.readable_visibilities(viewer), filters, page, per_page, text)


def listing(session: Session, visibilities: frozenset[str], filters: dict[str, list[str]],
            page: int = 1, per_page: int = 20, text: str = "", sort: str = "newest") -> Listing:
    """Practices of ``visibilities`` matching every filter (any value within one filter) and every word
    of ``text`` in their title or summary, in ``sort``'s order (see ``readable``), with facet counts."""
    words = text.casefold().split()
    records = [r for r in readable(session, visibilities, sort)
               if all(not wanted or set(wanted) & set(values(r, facet)) for facet, wanted in filters.items())
               and all(w in f"{r.title} {r.summary}".casefold() for w in words)]
    facets = {facet: dict(Counter(v for r in records for v in values(r, facet)).most_common())
              for facet in FACETS}
    start = (page - 1) * per_page
    shown = records[start:start + per_page]
    return Listing(records=shown, total=len(records), page=page, per_page=per_page, facets=facets,
                   revised=revised(session, shown))
