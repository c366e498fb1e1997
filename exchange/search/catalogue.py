"""The degraded engine: searching the catalogue table, for while there is no usable index.

It keeps no copy of its own (the catalogue is the database's, changed by publishing), so ``update``,
``rebuild`` and ``sweep`` have nothing to do. It matches every word of a query in titles and summaries
only, lists the newest (or the most recently updated) first, counts and shows each translation as a
practice of its own, and offers none of ``CAPABILITIES``: no ranking, full text, stemming, cross-language
words, snippets, suggestions or related practices. What a viewer may not read is left out in the database query itself.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence

import sqlalchemy as sa
from markupsafe import escape

from exchange.db import Database
from exchange.models import PracticeRecord
from exchange.search import listing
from exchange.search.backend import TIME_LIMIT_SECONDS
from exchange.search.backend import Hit
from exchange.search.backend import IndexDocument
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults

#: What the catalogue's results say: full text cannot be searched now (why, and for how long, it cannot tell).
UNAVAILABLE_NOTICE = ("Full-text search is unavailable for now; only titles and summaries are searched, "
                      "without spelling suggestions or snippets.")
#: What they say instead while a rebuild of the index is under way (``discovery.find`` asks the engine).
DEGRADED_NOTICE = ("Full-text search is being rebuilt; for now only titles and summaries are searched, "
                   "without spelling suggestions or snippets.")


class CatalogueBackend:
    """Search answered from the catalogue table of ``db``."""

    capabilities: frozenset[str] = frozenset()

    def __init__(self, db: Database) -> None:
        self.db = db

    def search(self, request: SearchRequest, visibilities: frozenset[str],
               seconds: float = TIME_LIMIT_SECONDS) -> SearchResults:
        """Practices with every word of ``request.q`` in their title or summary, newest first, with a notice
        that search is degraded. One database query bounds the work, so ``seconds`` is not needed."""
        with self.db.session() as session:
            found = listing.listing(session, visibilities, request.filters, request.page, request.per_page,
                                   text=request.q, sort=request.sort)
            hits = [Hit(id=r.id, card=card(r, found.revised.get(r.id)), snippet=escape(r.summary), score=None)
                    for r in found.records]
        return SearchResults(query=request.q, total=found.total, page=request.page, per_page=request.per_page,
                             hits=hits, facets=found.facets, notices=[UNAVAILABLE_NOTICE], degraded=True)

    def related(self, practice_id: str, visibilities: frozenset[str], limit: int = 5,
                seconds: float = TIME_LIMIT_SECONDS) -> list[Hit]:
        """None: finding practices like another needs an index."""
        return []

    def suggest(self, request: SearchRequest, visibilities: frozenset[str],
                seconds: float = TIME_LIMIT_SECONDS) -> str | None:
        """None: spelling suggestions need an index."""
        return None

    def update(self, practice_ids: Sequence[str], document: Callable[[str], IndexDocument | None]) -> None:
        """Nothing to do: publishing changes the catalogue itself."""

    def rebuild(self, documents: Callable[[], Iterable[IndexDocument]], wait: bool = True) -> int:
        """Nothing to build; the number of practices in the catalogue."""
        with self.db.session() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(PracticeRecord)) or 0

    def check(self) -> dict[str, str]:
        """Every practice in the catalogue with its checksum: the catalogue never drifts from itself."""
        with self.db.session() as session:
            return dict(session.execute(sa.select(PracticeRecord.id, PracticeRecord.sha256)).tuples())

    def verify(self) -> None:
        """Nothing to verify: the catalogue is always there."""

    def sweep(self) -> list[str]:
        """Nothing is ever left behind."""
        return []

    def rebuilding(self) -> bool:
        """False: there is nothing to rebuild."""
        return False

    def close(self) -> None:
        """Nothing is held open (sessions close after each call)."""


def card(record: PracticeRecord, revised: datetime.datetime | None) -> dict:
    """A result card from a catalogue row and when its current version was received (the same shape the
    index stores: ``documents.card``)."""
    return {"title": record.title, "summary": record.summary, "city": record.city, "country": record.country,
            "language": record.language, "kind": record.kind, "hazards": list(record.hazards),
            "phases": list(record.phases), "published": record.published.isoformat(),
            "visibility": record.visibility, "review_by": record.meta.get("review_by"), "version": record.version,
            "revised": revised.isoformat() if revised is not None and record.version > 1 else None}
