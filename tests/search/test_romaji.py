"""Japanese typed in romaji (hinanjo, bousai) finds the Japanese practices whose words read so, in every
engine that offers it, without English and Indonesian words that happen to spell syllables taking over."""

from __future__ import annotations

import pytest

from exchange.search import query as ql
from exchange.search.analysis import reading_terms
from exchange.search.backend import ROMAJI
from exchange.search.backend import SearchRequest
from exchange.search.romaji import reading_key
from exchange.search.romaji import romaji_key
from tests.conftest import SEARCH_SECONDS

PUBLIC = frozenset({"public"})
SHELTER = "kobe/hinanjo-unei-tejun"  # 大規模地震時の避難所開設・運営の手順（神戸市）
LESSONS = "kobe/hanshin-awaji-kyokun"  # 阪神・淡路大震災の教訓：火災、液状化、…


@pytest.mark.parametrize("spellings", [
    ["hinanjo", "hinanjyo", "hinanzyo", "hinansho", "Hinanjo", "hinan-jo"],
    ["bousai", "bosai", "bōsai", "bohsai", "boosai"],
    ["ekijouka", "ekijoka", "ekijōka", "ekizyouka"],
    ["tsunami", "tunami"],
    ["unei", "un'ei"],
    ["shimbun", "shinbun", "sinbun"],
])
def test_every_usual_spelling_of_a_word_has_one_key(spellings):
    assert len({romaji_key(spelling) for spelling in spellings}) == 1
    assert romaji_key(spellings[0]) is not None


@pytest.mark.parametrize("word", ["flood", "banjir", "evakuasi", "community", "fire", "warning", "to", "a", "ka",
                                  "hinan\u00e9", "x" * 100])
def test_a_word_that_is_no_japanese_syllables_has_no_key(word):
    assert romaji_key(word) is None


def test_a_reading_meets_the_romaji_typed_for_it():
    assert reading_key("ヒナンショ") == romaji_key("hinanjo")  # the dictionary reads 所 unvoiced
    assert reading_key("ボウサイ") == reading_key("ボーサイ") == romaji_key("bosai")
    assert reading_key("ひなんじょ") == romaji_key("hinanjo")


def test_a_japanese_text_is_indexed_with_the_readings_of_its_words_and_of_words_written_together():
    terms = reading_terms("避難所の運営と液状化。防災訓練", "ja")
    for word in ("hinan", "hinanjo", "unei", "ekijoka", "bosai", "kunren", "bosaikunren"):
        assert romaji_key(word) in terms, word
    # a particle between two words parts them: 所 and 運営 are not one word
    assert romaji_key("shounei") not in terms
    assert reading_terms("Flood shelters", "en") == []


def test_a_query_reads_as_romaji_only_when_it_is_one_word_or_has_a_word_no_language_of_ours_has():
    def marked(q: str) -> list[bool]:
        return [node.romaji for node in _words(ql.parse(q).tree)]

    assert marked("hinanjo") == [True]
    assert marked("dan") == [True]  # alone, it may be 段 or 団 as well as "and"
    assert marked("jishu bosai soshiki") == [True, True, True]
    assert marked("kasai bosai") == [True, True]
    assert marked("heavy rain Nagoya") == [False, False, False]  # rain is not ライン
    assert marked("hinanjo flood") == [True, False]


def _words(node: ql.Node | None) -> list[ql.Word]:
    if isinstance(node, ql.Word):
        return [node]
    if isinstance(node, ql.All | ql.Any):
        return [word for child in node.nodes for word in _words(child)]
    return []


def find(app, q: str, **options):  # type: ignore[no-untyped-def]
    options.setdefault("per_page", 50)
    return app.extensions["exchange"].search.search(SearchRequest(q=q, **options), PUBLIC, seconds=SEARCH_SECONDS)


@pytest.mark.needs(ROMAJI)
@pytest.mark.parametrize("q", ["hinanjo", "hinanjyo", "hinanzyo", "hinanjo unei"])
def test_romaji_finds_the_bundled_practice_about_evacuation_shelters_first(library_app, q):
    results = find(library_app, q)
    assert results.hits[0].id == SHELTER
    assert results.corrected is None and results.suggestion is None


@pytest.mark.needs(ROMAJI)
def test_long_vowels_written_or_not_find_the_same_practices(library_app):
    ekijoka = [hit.id for hit in find(library_app, "ekijoka").hits]
    assert [hit.id for hit in find(library_app, "ekijouka").hits] == ekijoka and LESSONS in ekijoka
    bousai = find(library_app, "bousai")
    assert bousai.total > 0 and [hit.id for hit in bousai.hits] == [hit.id for hit in find(library_app, "bosai").hits]


@pytest.mark.needs(ROMAJI)
def test_own_language_practices_come_before_japanese_ones_that_merely_read_so(library_app):
    # "tsunami" is English and Indonesian too: Padang's English plan still leads
    assert find(library_app, "tsunami").hits[0].id == "padang/tsunami-vertical-evacuation-plan"
    # "dan" is Indonesian ("and"); 段 and 団 read so too, but come after
    dan = find(library_app, "dan")
    assert dan.hits[0].card["language"] == "id"
    # in an English question, rain is not ライン (line): no Japanese practice joins through it
    question = find(library_app, "heavy rain lessons")
    assert question.hits and all(hit.card["language"] != "ja" or "雨" in hit.card["title"] + hit.card["summary"]
                                 for hit in question.hits[:3])


@pytest.mark.needs(ROMAJI)
def test_romaji_with_filters_finds_only_what_the_filters_allow(library_app):
    sendai = find(library_app, "hinanjo", filters={"city": ["sendai"]})
    assert sendai.hits and all(hit.card["city"] == "sendai" for hit in sendai.hits)
    assert SHELTER not in [hit.id for hit in sendai.hits]
    assert sendai.facets["city"].get("kobe", 0) >= 1  # the city facet still counts the other cities
    assert [hit.id for hit in find(library_app, "hinanjo city:kobe").hits] == [SHELTER]
    assert find(library_app, "hinanjo", filters={"language": ["en"]}).total == 0
