"""What a practice becomes in the index."""

from __future__ import annotations

import datetime
import re

from exchange.library.practice import Practice
from exchange.library.rendering import plain_text
from exchange.search.analysis import analysis_language

EPOCH = datetime.date(1970, 1, 1)
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def days(date: datetime.date) -> int:
    return (date - EPOCH).days


def facet_values(practice: Practice) -> tuple[tuple[str, str], ...]:
    """(facet, value) pairs of a practice, as the facet counts see them."""
    pairs = [("city", practice.city), ("country", practice.country), ("kind", practice.kind),
             ("language", practice.language), ("year", str(practice.published.year))]
    pairs += [("hazard", h) for h in practice.hazards] + [("phase", p) for p in practice.phases]
    return tuple(pairs)


def card(practice: Practice) -> dict:
    """What a result shows of a practice, kept in the index so search answers without other lookups."""
    return {"title": practice.title, "summary": practice.summary, "city": practice.city,
            "country": practice.country, "language": practice.language, "kind": practice.kind,
            "hazards": list(practice.hazards), "phases": list(practice.phases),
            "published": practice.published.isoformat(), "visibility": practice.visibility,
            "review_by": practice.review_by.isoformat() if practice.review_by else None}


def index_document(practice: Practice, sha: str, places: tuple[str, ...] = ()) -> dict:
    """The fields of one practice's index document; ``places`` are its city's and country's names in
    our languages, so "Tokyo", "東京" or "Jepang" find Tokyo's practices in any language."""
    language = analysis_language(practice.language)
    body = plain_text(practice.body)
    tags = " ".join(practice.tags or ())
    document = {
        "id": practice.id,
        "group": practice.translation_of or practice.id,
        "sha": sha,
        "visibility": practice.visibility,
        "published": days(practice.published),
        "facets": facet_values(practice),
        "card": card(practice),
        "content": body,
        "organisation": practice.organisation or "",
        "place": " ".join(places),
        "city": practice.city, "country": practice.country, "kind": practice.kind,
        "language": practice.language, "year": str(practice.published.year),
        "hazard": ",".join(practice.hazards), "phase": ",".join(practice.phases),
        f"title_{language}": practice.title,
        f"summary_{language}": practice.summary,
        f"tags_{language}": tags,
        f"body_{language}": body,
    }
    if practice.visibility == "public":
        document["spell_public"] = " ".join(_WORD.findall(f"{practice.title} {practice.summary} {tags} {body}"))
    return document
