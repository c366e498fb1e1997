"""Whether a word is a real word of English or Indonesian, whether or not any practice uses it.

Spelling must never mend a real word into another ("soal", about, is not "soil"; "phrase" is not
"phase"): a word no practice uses may still be a word. English words are pyspellchecker's English
dictionary; Indonesian words are those whose Sastrawi root (or the word itself) is in Sastrawi's
dictionary of root words, which its stemmer is built on.
"""

from __future__ import annotations

import functools
import importlib.resources

from exchange.search.analysis import is_japanese
from exchange.search.analysis import stem_indonesian
from exchange.search.places import is_place_word


@functools.cache
def _english() -> frozenset[str]:
    from spellchecker import SpellChecker  # loads its dictionary (~0.3 s) on the first word asked about

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.keys())


@functools.cache
def _indonesian_roots() -> frozenset[str]:
    text = importlib.resources.files("Sastrawi").joinpath("Stemmer/data/kata-dasar.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_word(word: str) -> bool:
    """Whether ``word`` (in small letters) is an English word, an Indonesian one (or its root is), or a
    place name of the partner countries (``places.py``: riau is not ribu)."""
    return word in _english() or _indonesian(word) or is_place_word(word)


def query_languages(words: list[str]) -> tuple[str, ...]:
    """The language a query seems written in, if it tells: Japanese when any word has kana or kanji;
    else Indonesian or English when more of its words are that language's and not the other's."""
    if any(is_japanese(word) for word in words):
        return ("ja",)
    lowered = [word.lower() for word in words if word.isalpha()]
    english = sum(1 for word in lowered if word in _english() and not _indonesian(word))
    indonesian = sum(1 for word in lowered if _indonesian(word) and word not in _english())
    if indonesian > english:
        return ("id",)
    return ("en",) if english > indonesian else ()


def _indonesian(word: str) -> bool:
    return word in _indonesian_roots() or stem_indonesian(word) in _indonesian_roots()
