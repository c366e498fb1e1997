"""The warm-up a server runs before it listens leaves a process's first search no first-time work.

What a first search would otherwise build (spelling's glossary tables, every scored field's lengths) is
checked to be there after ``warm_up``, and to stay as it was through searches of every kind: misspelt
words, a city, a Japanese homophone, a filter, each for a visitor and for partner staff.
"""

from __future__ import annotations

import dataclasses

import pytest

from exchange import initialise
from exchange.initialise import READERS
from exchange.initialise import warm_up
from exchange.search import spelling
from exchange.search.backend import SearchRequest
from exchange.search.whoosh.backend import WhooshBackend

#: What the glossary's spelling tables are built by (once per process, on first use).
SPELLING_TABLES = (spelling._glossary_vocabulary, spelling._glossary_words, spelling._glossary_terms_by_word)
#: Searches of every kind, none of them the warm-up's own.
FIRST_SEARCHES = ["tsunamu evacuaton", "banjr rob", "kebakaran hutan", "非難訓練", "ひなんじょ", "surabaya",
                  "heatwave -drill", '"early warning"', "evacu*", "kesiapsiagaan"]


@pytest.fixture(scope="module")
def warmed(library_app):  # type: ignore[no-untyped-def]
    """A fresh engine over the seeded library's index (nothing read yet, as in a new process), warmed up."""
    instance = library_app.extensions["exchange"]
    fresh = dataclasses.replace(instance, search=WhooshBackend(instance.search.index.root))
    for table in SPELLING_TABLES:
        table.cache_clear()
    with pytest.MonkeyPatch.context() as patch:  # the related practices it finds are bounded by time, not here
        patch.setattr(initialise, "WARM_UP_RELATED_SECONDS", 3600.0)
        warm_up(fresh)
    yield fresh.search
    fresh.search.close()


def field_lengths_read(engine: WhooshBackend) -> set[tuple[str, str]]:
    """(segment, field) of every field's lengths the engine has read."""
    return {(segment.id, fieldname) for cache in engine.index._postings.values()
            for segment in cache._segments.values() for fieldname in segment.lengths}


def test_the_warm_up_reads_every_scored_fields_lengths_and_builds_the_spelling_tables(warmed):
    with warmed.index.searching() as searcher:
        scored = {(sub.reader().segment().segment_id(), name) for sub, _offset in searcher.leaf_searchers()
                  for name, field in searcher.schema.items() if field.scorable and sub.reader().field_length(name)}
    assert {name for _segment, name in scored} >= {"body_en", "title_ja", "tags_id", "place", "spell_public"}
    assert field_lengths_read(warmed) == scored
    assert all(table.cache_info().currsize for table in SPELLING_TABLES)


def test_searches_after_the_warm_up_read_no_field_and_build_no_table(warmed):
    lengths, tables = field_lengths_read(warmed), [table.cache_info().misses for table in SPELLING_TABLES]
    for visibilities in READERS:
        for q in FIRST_SEARCHES:
            warmed.search(SearchRequest(q=q, filters={"language": ["en", "id"]}), visibilities)
            warmed.search(SearchRequest(q=q), visibilities)
    assert field_lengths_read(warmed) == lengths
    assert [table.cache_info().misses for table in SPELLING_TABLES] == tables



def counts_made(engine: WhooshBackend) -> int:
    """How many word counts (``PostingsCache.frequency``) the engine has made and kept."""
    return sum(len(cache._frequencies) for cache in engine.index._postings.values())


def test_the_newest_practices_related_practices_count_no_word_after_the_warm_up(warmed):
    # Related practices weigh a practice's words by how often visitors' documents use them: the warm-up
    # finds the newest practices' (the first pages people read), so those words are counted already.
    made = counts_made(warmed)
    assert made
    for hit in warmed.search(SearchRequest(sort="newest", per_page=3), READERS[0]).hits:
        assert warmed.related(hit.id, READERS[0])
    assert counts_made(warmed) == made
