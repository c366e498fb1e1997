"""Finding practices: the one service behind the search page, the home page, the city page and the API.

It asks the search engine (``instance.search``) for what the viewer may read: the engine leaves out
every other practice where the query is evaluated, before anything is counted, scored or suggested (in
the Whoosh engine, a mask over document numbers), never as a filter on results afterwards. When the
index is missing or damaged it answers from the catalogue table instead (titles and summaries only)
and says so, and asks the job runner to rebuild the index: a broken index never becomes an error page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from exchange import policy
from exchange.search import indexing
from exchange.search.backend import Hit
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.catalogue import CatalogueBackend

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)


def find(instance: Instance, request: SearchRequest, viewer: policy.Viewer | None) -> SearchResults:
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
    return CatalogueBackend(instance.db).search(request, visibilities, instance.search_seconds)


def related(instance: Instance, practice_id: str, viewer: policy.Viewer | None, limit: int = 5) -> list[Hit]:
    """Practices like ``practice_id`` that ``viewer`` may read (none while the index is unusable)."""
    try:
        return instance.search.related(practice_id, policy.readable_visibilities(viewer), limit,
                                       instance.search_seconds)
    except Exception as error:  # related practices are a courtesy: never fail a page for them
        log.warning("related practices unavailable for %s: %r", practice_id, error)
        return []
