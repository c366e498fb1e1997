"""Text analysis: inflected words meet their stems, and Japanese compounds are split into morphemes."""

from __future__ import annotations

import pytest

from exchange.library import publishing
from exchange.search.analysis import is_query_stopword
from exchange.search.analysis import tokens
from exchange.search.backend import STEMMING
from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS

pytestmark = pytest.mark.needs(STEMMING)

PUBLIC = frozenset({"public"})


def found(instance, q: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The ids an anonymous visitor finds for ``q``."""
    results = instance.search.search(SearchRequest(q=q, per_page=100), PUBLIC, seconds=SEARCH_SECONDS)
    return {hit.id for hit in results.hits}


@pytest.mark.parametrize(("language", "words"), [
    ("id", ("banjir", "kebanjiran", "membanjiri")),
    ("id", ("evakuasi", "mengevakuasi", "dievakuasi")),
    ("en", ("flood", "floods", "flooding", "flooded")),
    ("en", ("evacuation", "evacuate")),
    ("en", ("warning", "warnings")),
])
def test_inflected_forms_share_one_stem(language, words):
    stems = {tuple(tokens(word, language)) for word in words}
    assert len(stems) == 1, stems
    assert len(next(iter(stems))) == 1


def test_japanese_compounds_are_split_into_morphemes():
    assert "避難" in tokens("避難所運営", "ja")
    assert "避難" in tokens("津波避難ビル", "ja")
    assert tokens("避難", "ja") == ["避難"]


def test_full_width_latin_is_folded_in_japanese():
    assert tokens("ＢＯＫＯＭＩ", "ja") == tokens("BOKOMI", "ja") == ["bokomi"]


def test_indonesian_practice_is_found_by_any_inflection(instance, make_practice):
    publishing.publish(instance, make_practice(
        title="Posko pengungsian", summary="Apa yang disiapkan relawan.", language="id",
        body="Ketika sungai membanjiri kampung, relawan mengevakuasi warga lanjut usia.\n"), "posko", "test")
    for q in ("banjir", "kebanjiran", "membanjiri", "evakuasi", "mengevakuasi", "dievakuasi"):
        assert found(instance, q) == {"jakarta/posko"}, q


def test_english_practice_is_found_by_any_inflection(instance, make_practice):
    publishing.publish(instance, make_practice(
        title="Riverside plan", summary="What crews do.", body="The river flooded; crews evacuate the ward.\n"),
        "riverside", "test")
    for q in ("flood", "floods", "flooding", "evacuation", "evacuate"):
        assert found(instance, q) == {"jakarta/riverside"}, q


def test_japanese_query_finds_the_word_inside_compounds(instance, make_practice):
    japanese = {"city": "tokyo", "country": "JP", "language": "ja", "hazards": "[earthquake]"}
    publishing.publish(instance, make_practice(
        title="運営の手順", summary="大地震の後の手順。", body="避難所運営委員会を設置する。\n", **japanese),
        "unei", "test")
    publishing.publish(instance, make_practice(
        title="沿岸部の計画", summary="建物を指定する。",
        body="津波避難ビルを指定し、表示板を設置する。\n", **japanese),
        "biru", "test")
    publishing.publish(instance, make_practice(
        title="熱中症の手順", summary="暑い日の手順。",
        body="ＢＯＫＯＭＩの会合で水分補給を呼びかける。\n", **japanese),
        "necchusho", "test")
    assert found(instance, "避難") == {"tokyo/unei", "tokyo/biru"}
    assert found(instance, "bokomi") == found(instance, "ＢＯＫＯＭＩ") == {"tokyo/necchusho"}


@pytest.mark.parametrize("word", ["apa", "bagaimana", "cara", "dilakukan", "contoh", "soal"])
def test_words_that_only_frame_an_indonesian_question_are_not_required(word):
    # "apa yang dilakukan jepang saat gempa": what Japan does in earthquakes, not practices saying "dilakukan"
    assert is_query_stopword(word)
