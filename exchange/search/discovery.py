"""Finding practices: the one service behind the search page, the home page, the city page and the API.

It asks the search engine (``instance.search``) for what the viewer may read: the engine leaves out
every other practice where the query is evaluated, before anything is counted, scored or suggested (in
the Whoosh engine, a mask over document numbers), never as a filter on results afterwards. When the
index is missing or damaged it answers from the catalogue table instead (titles and summaries only)
and says so, and asks the job runner to rebuild the index: a broken index never becomes an error page.
"""

from __future__ import annotations

import logging

from markupsafe import escape
from sqlalchemy.orm import Session

from exchange import policy
from exchange.instance import Instance
from exchange.library import catalogue
from exchange.models import PracticeRecord
from exchange.search import indexing
from exchange.search.backend import Hit
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults

log = logging.getLogger(__name__)

DEGRADED_NOTICE = ("Full-text search is being rebuilt; for now only titles and summaries are searched, "
                   "without spelling suggestions or snippets.")


def find(instance: Instance, session: Session, request: SearchRequest,
         viewer: policy.Viewer | None) -> SearchResults:
    """Practices matching ``request`` that ``viewer`` may read, with facets and suggestions."""
    visibilities = policy.readable_visibilities(viewer)
    try:
        return instance.search.search(request, visibilities, instance.search_seconds)
    except IndexUnavailable as error:
        log.warning("search degraded to the catalogue: %s", error)
        indexing.rebuild_soon(instance)
    except Exception:  # a damaged index shows itself in many ways; never as an error page
        log.exception("search failed; degraded to the catalogue and rebuilding the index")
        indexing.rebuild_soon(instance)
    return _from_catalogue(session, request, viewer)


def related(instance: Instance, practice_id: str, viewer: policy.Viewer | None, limit: int = 5) -> list[Hit]:
    """Practices like ``practice_id`` that ``viewer`` may read (none while the index is unusable)."""
    try:
        return instance.search.related(practice_id, policy.readable_visibilities(viewer), limit,
                                       instance.search_seconds)
    except Exception as error:  # related practices are a courtesy: never fail a page for them
        log.warning("related practices unavailable for %s: %r", practice_id, error)
        return []


def card(record: PracticeRecord) -> dict:
    """A result card from a catalogue row (the same shape the index stores)."""
    return {"title": record.title, "summary": record.summary, "city": record.city, "country": record.country,
            "language": record.language, "kind": record.kind, "hazards": list(record.hazards),
            "phases": list(record.phases), "published": record.published.isoformat(),
            "visibility": record.visibility, "review_by": record.meta.get("review_by")}


def _from_catalogue(session: Session, request: SearchRequest, viewer: policy.Viewer | None) -> SearchResults:
    listing = catalogue.browse(session, viewer, request.filters, request.page, request.per_page, text=request.q)
    hits = [Hit(id=r.id, card=card(r), snippet=escape(r.summary), score=None) for r in listing.records]
    return SearchResults(query=request.q, total=listing.total, page=request.page, per_page=request.per_page,
                         hits=hits, facets=listing.facets, notices=[DEGRADED_NOTICE], degraded=True)
