"""The language-neutral concepts a text names: the glossary's terms found in it, as concept keys.

A practice is indexed with the concepts its title, summary, tags and body contain, and a query is
mapped to concepts the same way, so an Indonesian query meets a Japanese practice on what both are
about (``dapur umum`` and 炊き出し are both ``mass-feeding``) with one term per concept, however many
words each language has for it. Terms are matched on analysed tokens (``analysis.tokens``): a text's
``banjir bandang`` and a glossary's ``Banjir Bandang`` are the same tokens, and so are 避難所 in running
Japanese text and on its own.
"""

from __future__ import annotations

import functools
from collections import defaultdict

from exchange.search import glossary
from exchange.search.analysis import analysis_language
from exchange.search.analysis import tokens

#: Glossary terms longer than this many tokens are never looked for (none are today).
MAX_TERM_TOKENS = 8
#: Metadata values (``vocabularies.yaml``) that name a glossary concept under another key; every other
#: hazard, kind and phase code is a glossary key itself.
METADATA_CONCEPTS = {"extreme-rainfall": "torrential-rain", "procedure": "standard-operating-procedure",
                     "training-material": "training", "response": "emergency-response"}

#: first token → [(the term's further tokens, concept keys)], longest terms first.
_Table = dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]


@functools.cache
def terms() -> dict[tuple[str, tuple[str, ...]], tuple[str, ...]]:
    """(language, the analysed tokens of a glossary term) → the keys of the concepts it names; built once
    per process, for finding concepts in a practice's text (``concept_keys``) and in a query
    (``expansion.concepts_for``) alike."""
    table: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for concept in glossary.concepts():
        for language, language_terms in concept.terms.items():
            for term in language_terms:
                key = (language, tuple(tokens(term, language)))
                if key[1] and concept.key not in table[key]:
                    table[key].append(concept.key)
    return {key: tuple(found) for key, found in table.items()}


@functools.cache
def _tables() -> dict[str, _Table]:
    """Per glossary language, its terms (``terms``) indexed by their first token, longest terms first."""
    tables: dict[str, _Table] = {}
    for (language, analysed), keys in terms().items():
        if len(analysed) <= MAX_TERM_TOKENS:
            tables.setdefault(language, defaultdict(list))[analysed[0]].append((analysed[1:], keys))
    for table in tables.values():
        for entries in table.values():
            entries.sort(key=lambda entry: -len(entry[0]))
    return {language: dict(table) for language, table in tables.items()}


def concept_keys(text: str, language: str, mode: str = "index") -> list[str]:
    """The concept keys of every glossary term in ``text`` (written in ``language``), once per occurrence,
    in order; a term inside a longer one counts too ("early warning" in "early warning system")."""
    table = _tables().get(analysis_language(language))
    if not table or not text:
        return []
    analysed = tokens(text, language, mode)
    found: list[str] = []
    for start, first in enumerate(analysed):
        here: dict[str, None] = {}  # two terms of one concept starting here are one mention of it
        for rest, keys in table.get(first, ()):
            if tuple(analysed[start + 1:start + 1 + len(rest)]) == rest:
                here.update(dict.fromkeys(keys))
        found.extend(here)
    return found


def metadata_keys(values: list[str]) -> list[str]:
    """The concept keys a practice's hazards, kind and phases name: what its contributor said it is about,
    in no language at all."""
    known = _concept_keys()
    return [key for key in (METADATA_CONCEPTS.get(value, value) for value in values) if key in known]


@functools.cache
def _concept_keys() -> frozenset[str]:
    return frozenset(concept.key for concept in glossary.concepts())


@functools.cache
def _words() -> dict[tuple[str, str], frozenset[str]]:
    """(concept key, language) → the analysed tokens of the concept's terms in that language."""
    words: dict[tuple[str, str], set[str]] = defaultdict(set)
    for concept in glossary.concepts():
        for language, terms in concept.terms.items():
            for term in terms:  # one letter (所 of 避難所) would mark every word it is part of
                words[concept.key, language].update(t for t in tokens(term, language) if len(t) > 1)
    return {key: frozenset(found) for key, found in words.items()}


def concept_words(key: str, language: str) -> frozenset[str]:
    """The index terms a practice in ``language`` names the concept ``key`` with (to highlight them)."""
    return _words().get((key, analysis_language(language)), frozenset())
