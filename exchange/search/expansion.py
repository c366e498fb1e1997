"""Cross-language expansion: a query word that names a glossary concept also asks for its other terms."""

from __future__ import annotations

import functools
from collections import defaultdict

from exchange.search import glossary
from exchange.search.analysis import tokens

MAX_CONCEPTS = 3
MAX_PHRASE_WORDS = 4
#: A compound is split into concepts only when it is word-sized (bounded work for any query).
MAX_COMPOUND_MORPHEMES = 8
MAX_PART_MORPHEMES = 4
MAX_TERMS_PER_LANGUAGE = 6


@functools.cache
def _lookup() -> dict[tuple[str, tuple[str, ...]], tuple[str, ...]]:
    """(language, analysed tokens of a term) → concept keys; built once per process."""
    table: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for concept in glossary.concepts():
        for language, terms in concept.terms.items():
            for term in terms:
                key = (language, tuple(tokens(term, language)))
                if key[1] and concept.key not in table[key]:
                    table[key].append(concept.key)
    return {k: tuple(v) for k, v in table.items()}


@functools.cache
def _concepts_by_key() -> dict[str, glossary.Concept]:
    return {c.key: c for c in glossary.concepts()}


def concepts_for(text: str) -> list[glossary.Concept]:
    """The glossary concepts ``text`` names, in any of our languages (at most a few)."""
    found: list[str] = []
    for language in glossary.LANGUAGES:
        analysed = tuple(tokens(text, language))
        for key in _lookup().get((language, analysed), ()):
            if key not in found:
                found.append(key)
    return [_concepts_by_key()[key] for key in found[:MAX_CONCEPTS]]


def expansion_parts(text: str) -> list[dict[str, list[str]]]:
    """What ``text`` means in the glossary, as parts that must all be present (language → terms each).

    A text naming one concept is one part. A Japanese compound written without spaces (洪水早期警報)
    is split into its longest glossary concepts (洪水 + 早期警報), each a part.
    """
    whole = expansion_terms(text)
    if whole:
        return [whole]
    morphemes = tokens(text, "ja")
    if not 1 < len(morphemes) <= MAX_COMPOUND_MORPHEMES:
        return []
    parts, start = [], 0
    while start < len(morphemes):
        for end in range(min(len(morphemes), start + MAX_PART_MORPHEMES), start, -1):
            terms = expansion_terms("".join(morphemes[start:end]))
            if terms:
                parts.append(terms)
                start = end
                break
        else:
            start += 1
    return parts if len(parts) > 1 else []


def expansion_terms(text: str) -> dict[str, list[str]]:
    """Language → the other terms of the concepts ``text`` names (excluding ``text`` itself)."""
    terms: dict[str, list[str]] = defaultdict(list)
    for concept in concepts_for(text):
        for language, words in concept.terms.items():
            for word in words:
                if word.casefold() != text.casefold() and word not in terms[language]:
                    terms[language].append(word)
    return {language: words[:MAX_TERMS_PER_LANGUAGE * MAX_CONCEPTS] for language, words in terms.items()}
