"""Whether a word is a real word of English or Indonesian, whether or not any practice uses it.

Spelling must never mend a real word into another ("soal", about, is not "soil"; "phrase" is not
"phase"): a word no practice uses may still be a word. English words are pyspellchecker's English
dictionary; Indonesian words are those whose Sastrawi root (or the word itself) is in Sastrawi's
dictionary of root words, which its stemmer is built on.
"""

from __future__ import annotations

import functools
import importlib.resources

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
    return (word in _english() or word in _indonesian_roots() or stem_indonesian(word) in _indonesian_roots()
            or is_place_word(word))
