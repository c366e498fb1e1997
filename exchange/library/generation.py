"""How far the library has come: a token that changes whenever anything a reading page shows may have changed.

Versions are never deleted (DESIGN invariant 2), so their count grows with every publish, restore and
change of visibility (visibility belongs to a version); cities are only added. The index outbox's pending
rows tell whether the search index has caught up with the latest publish: a page rendered from the index
while one is pending is stored under a token that changes again once the index has it. One query, for
any process: web workers compare the token, not a message from whoever published.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange.models import City
from exchange.models import IndexOutbox
from exchange.models import PracticeVersion

if TYPE_CHECKING:
    from exchange.instance import Instance

EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Generation:
    """The library's state as reading pages see it."""

    #: changes whenever a version is published, a city added, or the index catches up
    token: str
    #: when the latest version was published or city added (UTC)
    last_modified: datetime.datetime


def current(instance: Instance) -> Generation:
    """The library's generation now (one query)."""
    pending = IndexOutbox.done_at.is_(None)
    parts = (sa.select(sa.func.count()).select_from(PracticeVersion),
             sa.select(sa.func.max(PracticeVersion.published_at)),
             sa.select(sa.func.count()).select_from(City), sa.select(sa.func.max(City.created_at)),
             sa.select(sa.func.count()).select_from(IndexOutbox).where(pending))
    query = sa.select(*(part.scalar_subquery() for part in parts))
    with instance.db.session() as session:
        row = session.execute(query).one()
    token = hashlib.sha256(repr(tuple(row)).encode()).hexdigest()[:24]
    latest = [_utc(moment) for moment in (row[1], row[3]) if moment is not None]
    return Generation(token, max(latest, default=EPOCH))


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
