"""An ``IndexDocument`` as the fields of a Whoosh document (see ``schema.py``)."""

from __future__ import annotations

import datetime

from exchange.search.analysis import analysis_language
from exchange.search.analysis import reading_terms
from exchange.search.backend import IndexDocument
from exchange.search.concepts import concept_keys
from exchange.search.concepts import metadata_keys
from exchange.search.spelling import text_words

EPOCH = datetime.date(1970, 1, 1)
_EPOCH_TIME = datetime.datetime(1970, 1, 1)


def days(date: datetime.date) -> int:
    """``date`` as the number the ``published`` field holds."""
    return (date - EPOCH).days


def microseconds(moment: datetime.datetime) -> int:
    """``moment`` (UTC, naive) as the number the ``revised`` field holds: exact, so that two versions
    received within one second still come in the order they were received."""
    return (moment - _EPOCH_TIME) // datetime.timedelta(microseconds=1)


def fields(document: IndexDocument) -> dict:
    """The Whoosh fields of one document: its texts in the fields of its analysis language."""
    language = analysis_language(document.language)
    texts = document.texts
    values = {
        "id": document.id,
        "group": document.group,
        "sha": document.sha256,
        "visibility": document.visibility,
        "published": days(document.published),
        "revised": microseconds(document.revised),
        "facets": document.facets,
        "card": dict(document.card),
        "content": texts["body"],
        "organisation": document.organisation,
        "place": " ".join(document.places),
        "hazard": ",".join(document.values("hazard")), "phase": ",".join(document.values("phase")),
        **{f"{name}_{language}": text for name, text in texts.items()},
        "concepts_head": " ".join([key for name in ("title", "summary", "tags")
                                   for key in concept_keys(texts[name], document.language)]
                                  + metadata_keys([value for facet in ("hazard", "kind", "phase")
                                                   for value in document.values(facet)])),
        "concepts_body": " ".join(concept_keys(texts["body"], document.language)),
        "reading_head": " ".join(key for name in ("title", "summary", "tags")
                                 for key in reading_terms(texts[name], document.language)),
        "reading_body": " ".join(reading_terms(texts["body"], document.language)),
    }
    for facet in ("city", "country", "kind", "language", "year"):
        [values[facet]] = document.values(facet)
    if document.visibility == "public":
        words = f"{texts['title']} {texts['summary']} {texts['tags']} {texts['body']}"
        values["spell_public"] = " ".join(text_words(words))
    return values
