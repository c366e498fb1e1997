"""What a practice contributes to search (``IndexDocument``), whatever the engine."""

from __future__ import annotations

import datetime

from exchange.library.practice import Practice
from exchange.library.rendering import plain_text
from exchange.search.backend import IndexDocument


def facet_values(practice: Practice) -> tuple[tuple[str, str], ...]:
    """(facet, value) pairs of a practice, as the facet counts see them."""
    pairs = [("city", practice.city), ("country", practice.country), ("kind", practice.kind),
             ("language", practice.language), ("year", str(practice.published.year))]
    pairs += [("hazard", h) for h in practice.hazards] + [("phase", p) for p in practice.phases]
    return tuple(pairs)


def card(practice: Practice, version: int, revised: datetime.datetime) -> dict:
    """What a result shows of a practice, kept with its document so search answers without other lookups.

    ``revised`` (when its current version was published here) is shown only once there is more than one
    version: a first version's date is its ``published``.
    """
    return {"title": practice.title, "summary": practice.summary, "city": practice.city,
            "country": practice.country, "language": practice.language, "kind": practice.kind,
            "hazards": list(practice.hazards), "phases": list(practice.phases),
            "published": practice.published.isoformat(), "visibility": practice.visibility,
            "review_by": practice.review_by.isoformat() if practice.review_by else None,
            "version": version, "revised": revised.isoformat() if version > 1 else None}


def index_document(practice: Practice, sha: str, places: tuple[str, ...] = (), *, version: int,
                   revised: datetime.datetime) -> IndexDocument:
    """The search document of one practice at ``version``, which the library received at ``revised``;
    ``places`` are its city's and country's names in our languages.

    Recently updated comes first by the time its current version came in when it has been revised, else by
    its own publication date: a library imported at once (a new instance's seeded practices, a bulk import)
    lists its newest practices first, not the order they were read in."""
    updated = revised if version > 1 else datetime.datetime.combine(practice.published, datetime.time())
    return IndexDocument(
        id=practice.id, sha256=sha, visibility=practice.visibility, group=practice.translation_of or practice.id,
        language=practice.language, published=practice.published, version=version, revised=updated,
        texts={"title": practice.title, "summary": practice.summary, "tags": " ".join(practice.tags or ()),
               "body": plain_text(practice.body, practice.language)},
        organisation=practice.organisation or "", places=places, facets=facet_values(practice),
        card=card(practice, version, revised))
