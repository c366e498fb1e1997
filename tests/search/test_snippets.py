"""Snippets: whole words, passages that start where a sentence or a word does, one mark per marked word."""

from __future__ import annotations

import re

import pytest

from exchange.library import publishing
from exchange.library.rendering import plain_text
from exchange.search.backend import SNIPPETS
from exchange.search.snippets import SNIPPET_CHARS
from exchange.search.snippets import snippet

FILLER = {
    "en": "Volunteers phone older residents twice a day and write down who answered the call. ",
    "id": "Relawan menelepon warga lanjut usia dua kali sehari dan mencatat siapa yang menjawab. ",
    "ja": "自治会の役員は高齢者に一日二回電話をかけ、応答した人を記録する。",
}
#: (language, the text around the match, the index terms the query looked for, the word they mark)
MATCHES = [
    ("en", "The shelter team opens the evacuation centre at dawn.", {"evacu"}, "evacuation"),
    ("id", "Tim posko membuka pusat evakuasi saat subuh.", {"evakuasi"}, "evakuasi"),
    ("ja", "避難所運営委員会が夜明けに施設を開く。", {"避難", "所"}, "避難所"),
]


def marked(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def plain(html: str) -> str:
    return re.sub(r"</?mark>", "", html)


@pytest.mark.parametrize(("language", "sentence", "terms", "word"), MATCHES)
def test_a_long_text_is_cut_at_word_or_sentence_boundaries(language, sentence, terms, word):
    content = FILLER[language] * 12 + sentence + " " + FILLER[language] * 12
    shown = str(snippet(content, "summary", terms, language))
    assert shown.startswith("… ") and shown.endswith(" …")
    inner = plain(shown)[2:-2]
    assert inner in " ".join(content.split()) and len(inner) <= SNIPPET_CHARS
    assert word in marked(shown)
    if language == "ja":  # no spaces: begin at a sentence, end after a sentence or a clause
        assert inner.startswith(("自治会", "避難所")) and inner.endswith(("。", "、"))
    else:
        words = set(content.replace(".", " ").split())
        first, last = inner.split()[0], inner.split()[-1].rstrip(".")
        assert first in words and last in words, (first, last)


@pytest.mark.parametrize(("language", "sentence", "terms", "word"), MATCHES)
def test_a_passage_starts_at_the_sentence_that_matched_when_it_can(language, sentence, terms, word):
    content = FILLER[language] * 3 + sentence + " " + FILLER[language] * 3
    inner = plain(str(snippet(content, "summary", terms, language)))[2:]
    assert inner.startswith(sentence[:8])


@pytest.mark.parametrize(("language", "markdown", "terms", "expected"), [
    ("en", "## Step 2\n\nEvacuate the riverside first.\n", {"evacu"}, "Step 2 · <mark>Evacuate</mark> the riverside"),
    ("id", "## Langkah 2\n\nEvakuasi warga bantaran sungai.\n", {"evakuasi"},
     "Langkah 2 · <mark>Evakuasi</mark> warga"),
    ("ja", "## 手順2\n\n避難所を開設する。\n", {"避難", "所"}, "手順2。<mark>避難所</mark>を開設"),
])
def test_headings_do_not_run_into_the_text_below(language, markdown, terms, expected):
    assert expected in str(snippet(plain_text(markdown, language), "summary", terms, language))


@pytest.mark.parametrize(("language", "text", "terms", "expected"), [
    ("ja", "避難所運営委員会を設置する。", {"避難", "所", "運営"}, ["避難所運営"]),
    ("ja", "津波避難ビルと避難所。", {"避難", "所"}, ["避難", "避難所"]),
    # one kanji alone is part of too many words: 所 of 事務所, 者 of 担当者 stay unmarked
    ("ja", "事務所の担当者が避難所へ。", {"避難", "所", "者"}, ["避難所"]),
    ("en", "Flood warning sirens.", {"flood", "warn"}, ["Flood", "warning"]),
    ("id", "Peringatan dini banjir.", {"peringatan", "dini"}, ["Peringatan", "dini"]),
])
def test_marks_cover_whole_words_once(language, text, terms, expected):
    assert marked(str(snippet(text, "summary", terms, language))) == expected


@pytest.mark.needs(SNIPPETS)
@pytest.mark.parametrize(("language", "title", "body", "q", "expected"), [
    ("en", "Shelter steps", "## Step 2\n\nEvacuate the riverside first.\n", "evacuate",
     "Step 2 · <mark>Evacuate</mark> the riverside first."),
    ("id", "Langkah posko", "## Langkah 2\n\nEvakuasi warga bantaran sungai.\n", "evakuasi",
     "Langkah 2 · <mark>Evakuasi</mark> warga bantaran sungai."),
    ("ja", "避難の手順", "## 手順2\n\n避難所を開設する。\n", "避難所", "手順2。<mark>避難所</mark>を開設する。"),
])
def test_snippets_on_the_results_page(client, instance, make_practice, language, title, body, q, expected):
    publishing.publish(instance, make_practice(title=title, body=body, language=language), "steps", "test")
    page = client.get("/practices", query_string={"q": q}).get_data(as_text=True)
    [shown] = re.findall(r'<p class="snippet" translate="no">(.*?)</p>', page, re.S)
    assert re.sub(r'<mark[^>]*>', "<mark>", shown).strip() == expected


@pytest.mark.parametrize(("content", "expected"), [
    ("EVACUATION drills: the Evacuation centre opens.", ["EVACUATION", "Evacuation"]),
    # lowering İ gives two characters: positions in the lowered text would be off by one after it
    ("İzmir's evacuation centre (İİİ) opens; evacuation drills follow.", ["evacuation", "evacuation"]),
])
def test_marks_are_found_whatever_the_case_and_land_on_the_words(content, expected):
    shown = str(snippet(content, "summary", {"evacu"}, "en"))
    assert marked(shown) == expected
