"""A parsed query (``exchange/search/query.py``) as SQL conditions over ``search_documents``.

Each word or phrase becomes a tsquery of the terms our analysers give it in every language (a phrase
as ``<->``), OR its organisation and place terms, OR the glossary concepts it names
(``documents.py`` says how those are marked), matched with ``terms @@ tsquery`` on the GIN index;
filters are conditions on the facet columns; AND, OR and NOT are SQL's. An all-of group is read as
the Whoosh engine reads it (``interpretation.py``): common words are not required, runs of words naming
a glossary concept also match as that concept, and a question needs only ``minimum_to_match`` of its
concepts, while ``complete`` says which practices have them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql.elements import ColumnElement

from exchange.search import query as ql
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import analysis_language
from exchange.search.analysis import katakana
from exchange.search.analysis import tokens
from exchange.search.backend import MULTI_VALUED_FACETS
from exchange.search.backend import normal_value
from exchange.search.concepts import concept_words
from exchange.search.expansion import concept_parts
from exchange.search.interpretation import ConceptRun
from exchange.search.interpretation import join_concept_words
from exchange.search.interpretation import minimum_to_match
from exchange.search.interpretation import required
from exchange.search.postgres.documents import CONCEPT
from exchange.search.postgres.documents import ORGANISATION
from exchange.search.postgres.documents import PLACE
from exchange.search.postgres.documents import READING
from exchange.search.postgres.documents import quoted
from exchange.search.romaji import romaji_key

#: The facet columns of ``search_documents``: multi-valued facets are arrays.
FACET_COLUMNS = {"hazard": "hazards", "phase": "phases", "city": "city", "country": "country", "kind": "kind",
                 "language": "language", "year": "year"}


@dataclass
class Condition:
    """Which rows a query matches, and which of them cover every concept it asks for; ``needs``: a tsquery
    every matched row matches (None: no such words), which the GIN index can answer while ``matched``
    (a question's count of concepts covered, say) may be one it cannot."""

    matched: ColumnElement[bool]
    complete: ColumnElement[bool]
    needs: str | None = None
    #: ``matched`` is ``terms @@ needs`` itself (nothing to add before it)
    indexed: bool = False
    #: every matched row is complete (no need to test each row's terms again)
    exact: bool = False

    @property
    def completes(self) -> ColumnElement[bool]:
        """``complete`` as a column of the matched rows: a constant when every one of them is."""
        return sa.true() if self.exact else self.complete


@dataclass
class Translated:
    """A query tree as SQL: its condition, the tsqueries its wanted words make (to rank and highlight by),
    and those words' texts (for snippets)."""

    condition: Condition
    ranked: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    #: For each group of which a practice need cover only some concepts: the share it covers (0 to 1).
    coverage: list[ColumnElement[Any]] = field(default_factory=list)

    def rank_query(self) -> str | None:
        """One tsquery of every wanted word: what ``ts_rank_cd`` scores a matched row by."""
        return " | ".join(f"({q})" for q in self.ranked) or None


def text_tsquery(text: str, romaji: bool = False) -> str | None:
    """``text`` in every language, its organisation and place terms, or the glossary concepts it names; with
    ``romaji`` (``query.Word.romaji``), text naming none also finds the Japanese words that read so."""
    alternatives = []
    for language in LANGUAGES:
        analysed = tokens(text, language)
        if analysed:
            alternatives.append(" <-> ".join(quoted(term) for term in analysed))
    if text.strip():
        alternatives.append(quoted(ORGANISATION + text.lower()))
    alternatives += [quoted(PLACE + term) for term in place_tokens(text)]
    parts = concept_parts(text)
    reading = romaji_key("".join(text.split())) if romaji else None
    if reading and not parts:  # romaji: the Japanese words that read so (hinanjo: 避難所), as in the Whoosh engine
        alternatives.append(quoted(READING + reading))
    if parts:
        alternatives.append(" & ".join("(" + " | ".join(quoted(CONCEPT + key) for key in keys) + ")"
                                       for keys in parts))
    return " | ".join(f"({a})" for a in dict.fromkeys(alternatives)) or None


def place_tokens(text: str) -> list[str]:
    """The terms ``text`` would be as a city's or country's name (hiragana read as katakana)."""
    return tokens(katakana(text), "xx")


def places_tsquery(words: list[str]) -> str | None:
    """The place terms of ``words``, any of them."""
    terms = dict.fromkeys(quoted(PLACE + t) for word in words for t in place_tokens(word))
    return " | ".join(terms) or None


def snippet_terms(texts: list[str], language: str) -> set[str]:
    """The index terms of a practice in ``language`` that ``texts`` (a query's wanted words) match: their
    analysed words and the words the practice may name their glossary concepts with."""
    language = analysis_language(language)
    found: set[str] = set()
    for text in texts:
        found.update(tokens(text, language))
        for keys in concept_parts(text):
            for key in keys:
                found.update(concept_words(key, language))
    return found


class Translator:
    """Translates query trees against the columns of one table."""

    def __init__(self, table: sa.Table) -> None:
        self.c = table.c
        self._matching = table.alias("matching")

    def translate(self, node: ql.Node | None, any_word: bool = False) -> Translated:
        """The SQL of ``node`` (everything, for None); ``any_word``: a plain all-of group matches on any word."""
        translated = Translated(Condition(sa.true(), sa.true(), exact=True))
        if node is None:
            return translated
        if any_word and isinstance(node, ql.All):
            condition = self._all_of(node, True, translated)
        else:
            condition = self._condition(node, translated)
        if condition.needs:  # the rows the index finds, then the rest of the condition
            found = self.matches(condition.needs)
            condition = Condition(found if condition.indexed else sa.and_(found, condition.matched),
                                  condition.complete, condition.needs, condition.indexed, condition.exact)
        translated.condition = condition
        return translated

    def matches(self, tsquery: str) -> ColumnElement[bool]:
        """``terms @@ tsquery``: what the GIN index answers as a condition of the statement's rows."""
        return self.c.terms.bool_op("@@")(sa.cast(sa.literal(tsquery), TSQUERY))

    def contains(self, tsquery: str) -> ColumnElement[bool]:
        """Whether a row matches ``tsquery``, as a part of an expression (a concept covered, say): its id among
        those the GIN index finds, a set built once per statement, rather than ``terms @@`` row by row, which
        reads each row's tsvector out of TOAST once for every such part."""
        return self.c.id.in_(sa.select(self._matching.c.id).where(
            self._matching.c.terms.bool_op("@@")(sa.cast(sa.literal(tsquery), TSQUERY))))

    def indexed(self, tsquery: str) -> Condition:
        """Rows matching ``tsquery``: a condition the GIN index answers whole."""
        found = self.contains(tsquery)
        return Condition(found, found, tsquery, indexed=True, exact=True)

    def filter(self, facet: str, values: list[str]) -> ColumnElement[bool]:
        """Rows with any of ``values`` (in their indexed form) of ``facet``."""
        column = self.c[FACET_COLUMNS[facet]]
        if facet in MULTI_VALUED_FACETS:
            return column.bool_op("&&")(sa.cast(sa.literal(list(values)), sa.ARRAY(sa.Text)))
        return column.in_(values)

    def _condition(self, node: ql.Node, into: Translated) -> Condition:
        if isinstance(node, ql.Word | ql.Phrase):
            tsquery = text_tsquery(node.text, node.romaji)
            if tsquery is None:
                return _same(sa.false())
            into.ranked.append(tsquery)
            into.texts.append(node.text)
            return self.indexed(tsquery)
        if isinstance(node, ql.Prefix):
            start = node.text.lower()
            tsquery = quoted(start) + ":*"
            into.ranked.append(tsquery)
            return self.indexed(tsquery)
        if isinstance(node, ql.Filter):
            if node.name not in FACET_COLUMNS:
                return _same(sa.false())
            return _same(self.filter(node.name, [normal_value(node.name, node.value)]))
        if isinstance(node, ql.Not):  # words left out are neither ranked nor highlighted
            inner = self._condition(node.node, Translated(Condition(sa.true(), sa.true())))
            return _same(sa.not_(inner.matched))
        if isinstance(node, ql.All):
            return self._all_of(node, False, into)
        children = [self._condition(child, into) for child in node.nodes]
        return Condition(sa.or_(*(c.matched for c in children)), sa.or_(*(c.complete for c in children)),
                         any_of([c.needs for c in children]), indexed=all(c.indexed for c in children),
                         exact=all(c.exact for c in children))

    def _all_of(self, node: ql.All, any_word: bool, into: Translated) -> Condition:
        """An all-of group, as the Whoosh engine's ``queries.all_of`` reads it: its plain words and concepts
        coordinated (at least ``minimum_to_match``, or one when ``any_word``), the rest required and its
        negations excluded."""
        nodes = required(_words_of(node) if any_word else node.nodes)
        items = nodes if any_word else join_concept_words(nodes)
        words = sum(len(required(item.words)) if isinstance(item, ConceptRun) else 1
                    for item in items if not isinstance(item, ql.Not))
        question = not any_word and minimum_to_match(words) < words
        concepts: list[Condition] = []
        positives: list[Condition] = []
        for item in items:
            if isinstance(item, ConceptRun):
                run = self._condition(ql.Word(item.text), into)
                each = [self._condition(word, into) for word in item.words]
                concepts.append(Condition(sa.or_(run.matched, sa.and_(*(c.matched for c in each))),
                                          sa.or_(run.complete, sa.and_(*(c.complete for c in each))),
                                          any_of([run.needs, all_of([c.needs for c in each])]),
                                          indexed=run.indexed and all(c.indexed for c in each),
                                          exact=run.exact and all(c.exact for c in each)))
                if question:
                    concepts.extend(self._condition(word, into) for word in required(item.words))
            elif isinstance(item, ql.Word):
                concepts.append(self._condition(item, into))
            elif not isinstance(item, ql.Not):
                positives.append(self._condition(item, into))
        negatives = [self._condition(n, into) for n in nodes if isinstance(n, ql.Not)]
        minimum = 1 if any_word or question else len(concepts)
        rest = positives + negatives
        if minimum < len(concepts):
            covered: Any = sum((sa.cast(c.matched, sa.Integer) for c in concepts[1:]),
                               sa.cast(concepts[0].matched, sa.Integer))
            into.coverage.append(sa.cast(covered, sa.Float) / len(concepts))
            # a row covering at least one concept matches one of their tsqueries: what the index can find
            # covering them all is one set of the index's (their tsqueries and-ed), not one per concept
            every_concept = (self.contains(all_of([c.needs for c in concepts]) or "")
                             if all(c.indexed for c in concepts) else sa.and_(*(c.complete for c in concepts)))
            return Condition(sa.and_(covered >= minimum, *(c.matched for c in rest)),
                             sa.and_(every_concept, *(c.complete for c in rest)),
                             all_of([any_of([c.needs for c in concepts])] + [c.needs for c in positives]))
        every = concepts + rest
        if not every:
            return _same(sa.true())
        return Condition(sa.and_(*(c.matched for c in every)), sa.and_(*(c.complete for c in every)),
                         all_of([c.needs for c in concepts + positives]), indexed=all(c.indexed for c in every),
                         exact=all(c.exact for c in every))


def _same(condition: ColumnElement[bool], needs: str | None = None) -> Condition:
    return Condition(condition, condition, needs, exact=True)


def any_of(needs: list[str | None]) -> str | None:
    """A tsquery of rows matching any of ``needs`` (None when one of them is None: that one needs no words)."""
    if not needs or any(need is None for need in needs):
        return None
    return " | ".join(f"({need})" for need in dict.fromkeys(needs))


def all_of(needs: list[str | None]) -> str | None:
    """A tsquery of rows matching every one of ``needs`` that is a tsquery (None when none is)."""
    known = [need for need in dict.fromkeys(needs) if need]
    return " & ".join(f"({need})" for need in known) or None


def _words_of(node: ql.All) -> tuple[ql.Node, ...]:
    """A plain query's nodes, its groups of words opened into their words."""
    return tuple(word for child in node.nodes
                 for word in (_words_of(child) if isinstance(child, ql.All) else (child,)))
