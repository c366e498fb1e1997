"""Places a query names that are not partner cities: provinces, prefectures, states and large cities of
the partner countries (``exchange/data/gazetteer.yaml``), each with its country."""

from __future__ import annotations

import functools
import importlib.resources

from exchange.library import yamlfile

#: How Japanese place names end when written whole (熊本県, 名古屋市, 東海地方): the name is what precedes.
_JAPANESE_ENDINGS = ("地方", "県", "府", "都", "道", "市", "町", "村", "区")
MAX_NAME_WORDS = 3


@functools.cache
def gazetteer() -> dict[str, str]:
    """Each place name (small letters) → its country's code."""
    text = importlib.resources.files("exchange").joinpath("data/gazetteer.yaml").read_text("utf-8")
    return {str(name).lower(): country for country, names in yamlfile.load_trusted(text).items() for name in names}


def countries_named(words: list[str]) -> set[str]:
    """The countries whose places ``words`` (a query's, in order) name, one to three words at a time."""
    lowered = [word.lower() for word in words]
    found = set()
    for start in range(len(lowered)):
        for size in range(1, MAX_NAME_WORDS + 1):
            name = " ".join(lowered[start:start + size])
            country = gazetteer().get(name) or gazetteer().get(_without_ending(name))
            if country:
                found.add(country)
    return found


def is_place_word(word: str) -> bool:
    """Whether ``word`` (small letters) is a place name or a word of one (so never misspelt)."""
    return word in _place_words()


@functools.cache
def _place_words() -> frozenset[str]:
    return frozenset(word for name in gazetteer() for word in name.split())


def _without_ending(name: str) -> str:
    for ending in _JAPANESE_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending) + 1:
            return name[:-len(ending)]
    return name
