"""The glossary's data: every concept has terms in our three languages and sources that exist.

These tests read the glossary files only; they need no search engine.
"""

from __future__ import annotations

import importlib.resources
import re
from collections import Counter

import pytest

from exchange.library import yamlfile
from exchange.search import concepts
from exchange.search import expansion
from exchange.search import glossary
from exchange.search.analysis import tokens
from exchange.search.concepts import concept_keys

KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _files() -> dict[str, list[dict]]:
    folder = importlib.resources.files("exchange").joinpath("data/glossary")
    return {entry.name: yamlfile.load_trusted(entry.read_text("utf-8"))["concepts"]
            for entry in folder.iterdir() if entry.name.endswith(".yaml") and not entry.name.startswith("_")}


def test_every_concept_has_a_key_terms_in_each_language_and_a_source():
    for name, entries in _files().items():
        for raw in entries:
            assert KEY.match(raw["key"]), (name, raw["key"])
            for language in glossary.LANGUAGES:
                terms = raw.get(language)
                assert terms and all(isinstance(t, str) and t.strip() for t in terms), (name, raw["key"], language)
            assert raw.get("sources"), (name, raw["key"])


def test_a_key_appears_once_in_each_file():
    for name, entries in _files().items():
        twice = [key for key, n in Counter(raw["key"] for raw in entries).items() if n > 1]
        assert not twice, (name, twice)


def test_a_term_appears_once_in_its_concept():
    for name, entries in _files().items():
        for raw in entries:
            for language in glossary.LANGUAGES:
                twice = [t for t, n in Counter(t.casefold() for t in raw[language]).items() if n > 1]
                assert not twice, (name, raw["key"], language, twice)


def test_every_source_a_concept_names_is_described():
    described = glossary.sources()
    missing = {(c.key, s) for c in glossary.concepts() for s in c.sources if s not in described}
    assert not missing


def test_every_described_source_is_used():
    used = {s for c in glossary.concepts() for s in c.sources}
    assert set(glossary.sources()) <= used


def test_every_term_leaves_something_to_search_for():
    empty = [(c.key, language, term) for c in glossary.concepts() for language, terms in c.terms.items()
             for term in terms if not tokens(term, language)]
    assert not empty


def test_no_term_names_more_concepts_than_a_query_can_ask_for():
    crowded = {k: v for k, v in concepts.terms().items() if len(v) > expansion.MAX_CONCEPTS}
    assert not crowded


@pytest.mark.parametrize(("query", "language", "expected"), [
    ("sandbags", "id", "karung pasir"),
    ("karung pasir", "ja", "土のう"),
    ("土嚢", "en", "sandbag"),
    ("dapur umum", "ja", "炊き出し"),
    ("炊き出し", "en", "public kitchen"),
    ("kursi roda", "ja", "車椅子"),
    ("給水車", "id", "mobil tangki air"),
])
def test_everyday_relief_words_cross_languages(query, language, expected):
    asked = {key for keys in expansion.concept_parts(query) for key in keys}
    assert asked & set(concept_keys(expected, language))


def test_no_idea_is_filed_twice_under_a_singular_and_a_plural_key():
    # two keys for one idea would count a practice naming it twice, and split its weight
    keys = {concept.key for concept in glossary.concepts()}
    assert not [key for key in keys if f"{key}s" in keys]
