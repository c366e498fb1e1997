"""Everything a query is read with, built before the first search of a process rather than during it."""

from __future__ import annotations

from exchange.search import analysis
from exchange.search import concepts
from exchange.search import expansion
from exchange.search import lexicon
from exchange.search import places
from exchange.search import romaji
from exchange.search import spelling


def prepare() -> None:
    """Load the analysers (MeCab, Sastrawi), the glossary's tables (terms, concepts, readings), the word
    lists spelling consults, the gazetteer and the romaji syllables, so that a process's first search
    costs what any other does (each is built once per process; a second call costs nothing)."""
    analysis.tokens("避難所 banjir floods", "ja")
    analysis.stem_indonesian("kebanjiran")
    concepts.concept_keys("flood", "en")
    concepts.concept_words("flood", "en")
    expansion.concept_parts("洪水早期警報")
    expansion.japanese_terms_reading_as("ひなんじょ")
    lexicon.is_word("banjir")
    places.countries_named(["jakarta"])
    romaji.romaji_key("hinanjo")
    spelling.prepare()
