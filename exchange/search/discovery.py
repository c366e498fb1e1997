"""Finding practices: the one service behind the search page, the home page, the city page and the API.

It asks the search engine (``instance.search``) for what the viewer may read: the engine leaves out
every other practice where the query is evaluated, before anything is counted, scored or suggested (in
the Whoosh engine, a mask over document numbers), never as a filter on results afterwards. When the
index is missing or damaged it answers from the catalogue table instead (titles and summaries only)
and says so, and asks the job runner to rebuild the index: a broken index never becomes an error page.
The page says the index is being rebuilt only while a rebuild is under way (the engine's rebuild lock
is held); otherwise, that full text is unavailable for now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import replace
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.models import PracticeRecord
from exchange.search import indexing
from exchange.search import listing
from exchange.search.backend import MAX_PER_PAGE
from exchange.search.backend import Hit
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.catalogue import DEGRADED_NOTICE
from exchange.search.catalogue import UNAVAILABLE_NOTICE
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
    results = CatalogueBackend(instance.db).search(request, visibilities, instance.search_seconds)
    if _rebuilding(instance):  # else the catalogue's notice stands: full text is unavailable, for how long unknown
        results.notices = [DEGRADED_NOTICE if notice == UNAVAILABLE_NOTICE else notice for notice in results.notices]
    return results


def _rebuilding(instance: Instance) -> bool:
    """Whether a rebuild of the index is under way now (what the page may then say); False when that cannot
    be told either."""
    try:
        return instance.search.rebuilding()
    except Exception as error:  # the engine's own trouble: the page says only what it knows
        log.warning("could not tell whether the search index is being rebuilt: %r", error)
        return False


def related(instance: Instance, practice_id: str, viewer: policy.Viewer | None, limit: int = 5) -> list[Hit]:
    """Practices like ``practice_id`` that ``viewer`` may read (none while the index is unusable)."""
    try:
        return instance.search.related(practice_id, policy.readable_visibilities(viewer), limit,
                                       instance.search_seconds)
    except Exception as error:  # related practices are a courtesy: never fail a page for them
        log.warning("related practices unavailable for %s: %r", practice_id, error)
        return []


#: With a query, the API's list pages through at most this many of the best matches.
MAX_LISTED_MATCHES = 1000
#: catalogue rows read at a time while filling a page
_CHUNK = 200


@dataclass(frozen=True)
class PracticePage:
    """One page of the practices a viewer may read, in the order of their ids, and where the next page starts."""

    records: list[PracticeRecord]
    #: the id of the last practice on this page when more follow (the next page starts after it), else None
    after: str | None


def practice_page(instance: Instance, request: SearchRequest, viewer: policy.Viewer | None, after: str | None,
                  limit: int) -> PracticePage:
    """The practices ``viewer`` may read that match ``request``'s filters (and its query, if any), ordered by
    id, the first ``limit`` of those whose id comes after ``after``.

    Ordered by id, a page never moves: a practice published while someone pages through comes on a later
    page if its id sorts after where they are, and no practice is skipped or listed twice. A query
    keeps the best ``MAX_LISTED_MATCHES`` matches; each group of translations counts once, by the member
    that matched best, as in search.
    """
    filters = request.facet_filters()
    matches = _matching_ids(instance, request, viewer) if request.q.strip() else None
    visibilities = policy.readable_visibilities(viewer)
    query = (sa.select(PracticeRecord).where(PracticeRecord.visibility.in_(visibilities))
             .order_by(PracticeRecord.id).limit(_CHUNK))
    if matches is not None:
        query = query.where(PracticeRecord.id.in_(sorted(matches)))
    found: list[PracticeRecord] = []
    with instance.db.session() as session:
        while len(found) <= limit:  # read in chunks: the filters on lists of values are checked here
            chunk = list(session.scalars(query.where(PracticeRecord.id > after) if after is not None else query))
            found += [record for record in chunk
                      if all(set(values) & set(listing.values(record, facet)) for facet, values in filters.items())]
            if len(chunk) < _CHUNK:
                break
            after = chunk[-1].id
    more = len(found) > limit
    return PracticePage(found[:limit], found[limit - 1].id if more else None)


def _matching_ids(instance: Instance, request: SearchRequest, viewer: policy.Viewer | None) -> set[str]:
    """The ids of the best ``MAX_LISTED_MATCHES`` matches of ``request``'s query and filters."""
    ids: set[str] = set()
    page = 1
    while len(ids) < MAX_LISTED_MATCHES:
        results = find(instance, replace(request, sort="relevance", page=page, per_page=MAX_PER_PAGE, reads=()),
                       viewer)
        ids.update(hit.id for hit in results.hits)
        if not results.hits or page * MAX_PER_PAGE >= results.total:
            break
        page += 1
    return ids
