"""The bundled library meets what a new instance promises its readers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from exchange.library import vocabularies
from exchange.library.practice import parse

PRACTICES = Path(__file__).parent.parent / "practices"
FILES = sorted(PRACTICES.glob("*/*.md"))
DOCUMENTS = {f"{f.parent.name}/{f.stem}": parse(f.read_bytes(), f.stem, str(f)) for f in FILES}


def words(text: str, language: str) -> int:
    if language == "ja":  # about two Japanese characters make a word
        return len(re.findall(r"[\u3040-\u30ff\u3400-\u9fff]", text)) // 2
    return len(re.findall(r"\w+", text))


def test_size_and_spread():
    assert len(DOCUMENTS) >= 36
    cities = {d.city for d in DOCUMENTS.values()}
    assert len(cities) >= 9 and {"jakarta", "tokyo", "melbourne"} <= cities
    countries = {d.country for d in DOCUMENTS.values()}
    assert {"ID", "JP", "AU"} <= countries and countries - {"ID", "JP", "AU"}  # South-East Asia too
    languages = Counter(d.language for d in DOCUMENTS.values())
    assert languages["en"] >= 16 and languages["id"] >= 10 and languages["ja"] >= 10


def test_vocabulary_coverage():
    assert {d.kind for d in DOCUMENTS.values()} == set(vocabularies.kinds().keys())
    assert len({h for d in DOCUMENTS.values() for h in d.hazards}) >= 12
    assert {p for d in DOCUMENTS.values() for p in d.phases} == set(vocabularies.phases().keys())


def test_translation_pairs_are_real_links():
    pairs = [(d.id, d.translation_of) for d in DOCUMENTS.values() if d.translation_of]
    assert len(pairs) >= 5
    for translation, original in pairs:
        assert original in DOCUMENTS, translation
        a, b = DOCUMENTS[translation], DOCUMENTS[original]
        assert a.language != b.language and a.city == b.city and a.kind == b.kind and a.hazards == b.hazards


@pytest.mark.parametrize("practice_id", sorted(DOCUMENTS))
def test_each_practice_is_a_labelled_example_of_useful_length(practice_id):
    document = DOCUMENTS[practice_id]
    assert "example" in document.tags
    assert "Practice Exchange" in document.source
    assert any(p in document.source.lower() for p in ("not an official document", "bukan dokumen resmi"))
    assert 300 <= words(document.body, document.language) <= 1200
    assert document.body.count("\n## ") >= 3, "a practice is structured with headings"
    assert document.licence == "CC-BY-4.0"
