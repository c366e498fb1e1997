"""What a query's words name in the glossary: concepts, which practices are indexed with (``concepts.py``)."""

from __future__ import annotations

import functools
import re
from collections import defaultdict

from exchange.search import glossary
from exchange.search.analysis import is_japanese
from exchange.search.analysis import is_kana
from exchange.search.analysis import japanese_reading
from exchange.search.analysis import tokens
from exchange.search.concepts import terms

MAX_CONCEPTS = 3
MAX_PHRASE_WORDS = 4
#: A compound is split into concepts only when it is word-sized (bounded work for any query).
MAX_COMPOUND_MORPHEMES = 8
MAX_PART_MORPHEMES = 4
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _readings() -> dict[str, tuple[tuple[str, str, str], ...]]:
    """How each Japanese term reads, voicing folded (``japanese_reading``) → (term, concept key, its
    reading unfolded) triples; built once per process."""
    table: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for concept in glossary.concepts():
        for term in concept.terms["ja"]:
            reading = japanese_reading(term)
            entry = (term, concept.key, japanese_reading(term, fold=False))
            if reading and entry not in table[reading]:
                table[reading].append(entry)
    return {k: tuple(v) for k, v in table.items()}


def _read_as(text: str) -> list[tuple[str, str, str]]:
    """The glossary's Japanese terms that read as ``text``: those reading exactly so if any (じしん: 地震,
    not 指針, シシン once voicing is folded), else those reading so with voicing folded (ひなんじょ: 避難所,
    which the dictionary reads ヒナンショ)."""
    found = _readings().get(japanese_reading(text), ())
    exact = japanese_reading(text, fold=False)
    return [entry for entry in found if entry[2] == exact] or list(found)


def japanese_terms_reading_as(text: str) -> list[str]:
    """The glossary's Japanese terms that read as ``text`` does (非難所 and ひなんじょ: 避難所), but ``text``."""
    return [term for term in dict.fromkeys(term for term, _key, _reading in _read_as(text)) if term != text]


@functools.cache
def _concepts_by_key() -> dict[str, glossary.Concept]:
    return {c.key: c for c in glossary.concepts()}


def concepts_for(text: str) -> list[glossary.Concept]:
    """The glossary concepts ``text`` names, in any of our languages (at most a few); a word typed in kana
    names the concepts of the Japanese terms that read so (ひなんじょ: 避難所)."""
    found: list[str] = []
    for language in glossary.LANGUAGES:
        analysed = tuple(tokens(text, language))
        for key in terms().get((language, analysed), ()):
            if key not in found:
                found.append(key)
    if not found and is_kana(text):
        found = list(dict.fromkeys(key for _term, key, _reading in _read_as(text)))
    return [_concepts_by_key()[key] for key in found[:MAX_CONCEPTS]]


def concept_parts(text: str) -> list[tuple[str, ...]]:
    """What ``text`` means in the glossary, as parts that must all be present (concept keys each).

    A text naming one concept is one part. A Japanese compound written without spaces (洪水早期警報)
    is split into its longest glossary concepts (洪水 + 早期警報), each a part; morphemes naming none
    are left to the words themselves (長期停電: 停電).
    """
    whole = concepts_for(text)
    if whole:
        return [tuple(concept.key for concept in whole)]
    morphemes = tokens(text, "ja") if is_japanese(text) else []
    if not 1 < len(morphemes) <= MAX_COMPOUND_MORPHEMES:
        return []
    parts, start, guessed = [], 0, False
    while start < len(morphemes):
        for end in range(min(len(morphemes), start + MAX_PART_MORPHEMES), start, -1):
            found = concepts_for("".join(morphemes[start:end]))
            if found:
                parts.append(tuple(concept.key for concept in found))
                start = end
                break
        else:
            # a leftover in kana is more likely a slip (避難じょ) than a modifier (長期): spelling's to mend
            guessed |= not _KANJI.search(morphemes[start])
            start += 1
    return parts if len(parts) > 1 or not guessed else []
