"""Finding the glossary's language-neutral concepts in a practice's text and in a query alike."""

from __future__ import annotations

import pytest

from exchange.library import vocabularies
from exchange.search.concepts import concept_keys
from exchange.search.concepts import concept_words
from exchange.search.concepts import metadata_keys
from exchange.search.expansion import concept_parts


@pytest.mark.parametrize(("text", "language", "key"), [
    ("Relawan membuka dapur umum bagi pengungsi.", "id", "public-kitchen"),
    ("避難所で炊き出しを行う。", "ja", "public-kitchen"),
    ("The public kitchen opens at noon.", "en", "public-kitchen"),
    ("Warga mengisi karung pasir di tanggul.", "id", "sandbag"),
    ("土のうを積む", "ja", "sandbag"),
    ("Fill sandbags along the levee.", "en", "sandbag"),
])
def test_a_concept_is_found_whatever_language_names_it(text, language, key):
    assert key in concept_keys(text, language)


def test_each_mention_counts_once_however_many_of_its_terms_overlap():
    keys = concept_keys("The early warning system failed; a second early warning came late.", "en")
    assert keys.count("early-warning-system") == 2


def test_inflected_forms_name_the_concept_as_the_glossary_does():
    assert "flood" in concept_keys("Sungai membanjiri kampung.", "id")
    assert "flood" in concept_keys("Flooding reached the houses.", "en")


def test_text_of_no_glossary_language_names_no_concept():
    assert concept_keys("inondation des quartiers bas", "fr") == []
    assert concept_keys("", "en") == []


def test_a_query_maps_to_the_same_concepts_as_a_practice():
    [keys] = concept_parts("dapur umum")
    assert set(keys) & set(concept_keys("炊き出しを行う", "ja"))
    assert len(concept_parts("洪水早期警報")) == 2  # a Japanese compound of two concepts needs both


def test_a_concept_is_highlighted_by_its_words_but_never_by_a_single_letter():
    words = concept_words("evacuation-shelter", "ja")
    assert "避難" in words and all(len(word) > 1 for word in words)


@pytest.mark.parametrize(("typed", "key"), [
    ("ひなんじょ", "evacuation-shelter"), ("ヒナンジョ", "evacuation-shelter"), ("どのう", "sandbag"),
    ("たきだし", "public-kitchen"), ("じしん", "earthquake"), ("えきじょうか", "liquefaction"),
])
def test_a_word_typed_in_kana_names_the_concept_of_its_kanji(typed, key):
    assert any(key in keys for keys in concept_parts(typed))


def test_kana_that_reads_as_no_term_names_nothing():
    assert concept_parts("ぬるぽ") == []


def test_every_hazard_kind_and_phase_names_a_concept_but_the_plain_plan():
    # a practice's metadata is language-neutral evidence of what it is about: each code must reach
    # the concept index (a generic "plan" names nothing more than its words do)
    codes = [*vocabularies.hazards().keys(), *vocabularies.kinds().keys(), *vocabularies.phases().keys()]
    assert [code for code in codes if not metadata_keys([code])] == ["plan"]


def test_a_compound_names_the_concepts_of_its_parts_when_the_rest_is_a_modifier():
    [part] = concept_parts("長期停電")  # long (長期) power outage (停電)
    assert "power-outage" in part
    assert concept_parts("避難じょ") == []  # a kana leftover is a slip for spelling to mend (避難所)


def test_a_kana_word_reading_exactly_as_a_term_is_that_term_not_one_that_reads_so_unvoiced():
    # じしん is 地震 (earthquake), not 指針 (guideline), which reads シシン
    assert concept_parts("じしん") == [("earthquake",)]


def test_preparing_builds_every_table_a_first_query_would():
    from exchange.search import concepts
    from exchange.search import expansion
    from exchange.search import lexicon
    from exchange.search.preparation import prepare

    prepare()
    tables = [concepts.terms, concepts._tables, concepts._words, expansion._readings, lexicon._english,
              lexicon._indonesian_roots]
    assert all(table.cache_info().currsize == 1 for table in tables)
