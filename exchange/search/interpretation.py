"""What a parsed query asks for, whatever the engine: which words are required, which name a concept.

The parser (``query.py``) only reads the query's syntax. Before an engine matches it, two things about
its words are settled here, so every engine settles them alike: in a group of words that must all
match, common words (the, yang, の …) are not required while other words remain; and consecutive plain
words that together name a glossary concept ("early warning") are also looked for as that concept.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange.search import query as ql
from exchange.search.analysis import is_query_stopword
from exchange.search.expansion import MAX_PHRASE_WORDS
from exchange.search.expansion import concepts_for


@dataclass(frozen=True)
class ConceptRun:
    """Consecutive plain words that together name a glossary concept: ``text``, made of ``words``."""

    text: str
    words: tuple[ql.Node, ...]


def required(nodes: tuple[ql.Node, ...]) -> tuple[ql.Node, ...]:
    """The parts of an all-of group that must match: all but its common words, unless nothing else is left."""
    meaningful = tuple(n for n in nodes if not (isinstance(n, ql.Word) and is_query_stopword(n.text)))
    return meaningful if any(not isinstance(n, ql.Not) for n in meaningful) else nodes


def join_concept_words(nodes: tuple[ql.Node, ...]) -> list[ql.Node | ConceptRun]:
    """``nodes``, with each longest run of consecutive plain words that names a glossary concept joined
    into a ``ConceptRun``; the words on their own should still match too."""
    joined: list[ql.Node | ConceptRun] = []
    index = 0
    while index < len(nodes):
        for size in range(MAX_PHRASE_WORDS, 1, -1):
            run = nodes[index:index + size]
            words = [n for n in run if isinstance(n, ql.Word)]
            if len(words) == size:
                text = " ".join(n.text for n in words)
                if concepts_for(text):
                    joined.append(ConceptRun(text, tuple(run)))
                    index += size
                    break
        else:
            joined.append(nodes[index])
            index += 1
    return joined


#: Groups of up to this many concepts need them all; in longer ones (questions) each is optional.
ALL_CONCEPTS_UP_TO = 2


def minimum_to_match(concepts: int) -> int:
    """How many of an all-of group's ``concepts`` (plain words, glossary concepts) a practice must cover
    to match: both of two, and any one of three or more.

    A natural question (five to eight words) rarely has all its words in one practice, and a practice
    answering it often says some of them in another language the glossary does not bridge; engines rank
    practices covering more of the concepts first instead (all of them before the rest).
    """
    return concepts if concepts <= ALL_CONCEPTS_UP_TO else 1
