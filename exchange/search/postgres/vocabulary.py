"""Spelling's vocabulary on PostgreSQL: what ``spelling.Vocabulary`` asks, answered from the database.

``search_words`` holds, per visibility, every word the practices of that visibility use and how often
(``documents.vocabulary``: their texts' words as written, and Indonesian bodies' root words). Each row of
``search_documents`` keeps what it brought, so an update takes back what the practice's earlier text
brought before it brings the new (under the engine's single writer), and a rebuild counts them all again.
A viewer's vocabulary is the sum over the visibilities they may read: a word only a restricted practice
uses has no row they can see, so it is never offered to them.

A word's near neighbours are found in the database: the rows of its first letter and of a length within
reach (an index), whose ``levenshtein_less_equal`` (fuzzystrmatch) is at most twice the edits allowed, as
two swapped letters are two of its edits; spelling's own ``distance``, which counts a swap as one, then
keeps those within reach.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.search import query as ql
from exchange.search import spelling
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import is_japanese
from exchange.search.analysis import tokens
from exchange.search.postgres.documents import INDONESIAN_ROOTS
from exchange.search.postgres.documents import WORDS
from exchange.search.postgres.documents import quoted
from exchange.search.postgres.queries import Translator
from exchange.search.postgres.queries import text_tsquery

#: A document's words, by visibility and source, as rows (``:id``'s).
_BROUGHT = ("SELECT d.visibility, s.key AS source, e.key AS word, e.value::int AS uses "
            "FROM search_documents AS d, jsonb_each(d.vocabulary) AS s, jsonb_each_text(s.value) AS e")
TAKE_BACK = sa.text(f"UPDATE search_words AS w SET uses = w.uses - old.uses FROM ({_BROUGHT} WHERE d.id = :id) AS old "
                    "WHERE w.visibility = old.visibility AND w.source = old.source AND w.word = old.word")
DROP_UNUSED = sa.text(f"DELETE FROM search_words AS w USING ({_BROUGHT} WHERE d.id = :id) AS old "
                      "WHERE w.visibility = old.visibility AND w.source = old.source AND w.word = old.word "
                      "AND w.uses <= 0")
BRING = sa.text(f"INSERT INTO search_words (visibility, source, word, uses) {_BROUGHT} WHERE d.id = :id "
                "ON CONFLICT (visibility, source, word) DO UPDATE SET uses = search_words.uses + EXCLUDED.uses")
COUNT_ALL = [sa.text("DELETE FROM search_words"),
             sa.text("INSERT INTO search_words (visibility, source, word, uses) "
                     f"SELECT visibility, source, word, sum(uses) FROM ({_BROUGHT}) AS brought "
                     "GROUP BY visibility, source, word")]
#: levenshtein_less_equal refuses longer words
LONGEST = 255


def take_back(session: Session | sa.Connection, practice_id: str) -> None:
    """Take from ``search_words`` what ``practice_id``'s row brought (before it changes or goes)."""
    session.execute(TAKE_BACK, {"id": practice_id})
    session.execute(DROP_UNUSED, {"id": practice_id})


def bring(session: Session | sa.Connection, practice_id: str) -> None:
    """Add to ``search_words`` what ``practice_id``'s row brings (once it is written)."""
    session.execute(BRING, {"id": practice_id})


def count_all(connection: sa.Connection) -> None:
    """Count every row's words again (after a rebuild replaced the rows)."""
    for statement in COUNT_ALL:
        connection.execute(statement)


class Vocabulary:
    """Spelling's questions (``spelling.Vocabulary``) about the rows of ``visibilities``; ``filters`` are
    the request's facet filters, conditions of those rows."""

    def __init__(self, session: Session, translator: Translator, visibilities: Sequence[str],
                 filters: Sequence[sa.ColumnElement[bool]]) -> None:
        self.session = session
        self.translator = translator
        self.visibilities = sorted(visibilities)
        self.filters = list(filters)
        self.table = translator.c

    def _count(self, tsquery: str | None, *conditions: sa.ColumnElement[bool]) -> int:
        if tsquery is None:
            return 0
        return self.session.scalar(sa.select(sa.func.count()).where(
            self.table.visibility.in_(self.visibilities), self.translator.matches(tsquery), *conditions)) or 0

    def known(self, word: str) -> bool:
        if is_japanese(word):  # as it is written: a glossary concept among its parts (住宅 in 仮説住宅) is not it
            written = [" <-> ".join(quoted(t) for t in tokens(word, language)) for language in LANGUAGES]
            tsquery = " | ".join(f"({w})" for w in dict.fromkeys(written) if w) or None
        else:
            tsquery = text_tsquery(word, romaji=True)  # a word in romaji is in use where its reading is
        if tsquery is None:
            return False
        return bool(self.session.scalar(sa.select(sa.exists().where(
            self.table.visibility.in_(self.visibilities), self.translator.matches(tsquery)))))

    def finding(self, word: str) -> int:
        return self._count(text_tsquery(word))

    def uses(self, words: Collection[str]) -> dict[str, float]:
        if not words:
            return {}
        return self._words(WORDS, sa.text("word = ANY(:words)"), {"words": list(words)})

    def near(self, word: str, edits: int) -> dict[str, float]:
        return self._near(WORDS, word, edits)

    def near_root(self, root: str, edits: int) -> dict[str, float]:
        return self._near(INDONESIAN_ROOTS, root, edits)

    def _near(self, source: str, word: str, edits: int) -> dict[str, float]:
        if not word or len(word) + edits > LONGEST:
            return {}
        found = self._words(source, sa.text(
            "left(word, 1) = :first AND length(word) BETWEEN :shortest AND :longest "
            "AND levenshtein_less_equal(word, :word, :reach) <= :reach"),
            {"first": word[0], "shortest": len(word) - edits, "longest": len(word) + edits, "word": word,
             "reach": 2 * edits})
        return {near: uses for near, uses in found.items() if spelling.distance(near, word, edits) <= edits}

    def _words(self, source: str, condition: sa.TextClause, parameters: dict[str, Any]) -> dict[str, float]:
        rows = self.session.execute(sa.text(
            f"SELECT word, sum(uses) AS uses FROM search_words WHERE source = :source "
            f"AND visibility = ANY(:visibilities) AND {condition.text} GROUP BY word"),
            {"source": source, "visibilities": self.visibilities, **parameters})
        return {row.word: float(row.uses) for row in rows}

    def complete(self, tree: ql.Node) -> int:
        condition = self.translator.translate(tree).condition
        return self.session.scalar(sa.select(sa.func.count(sa.distinct(self.table.group_id))).where(
            self.table.visibility.in_(self.visibilities), condition.matched, condition.complete,
            *self.filters)) or 0

    def matches(self, tree: ql.Node, any_word: bool) -> bool:
        condition = self.translator.translate(tree, any_word=any_word).condition
        return bool(self.session.scalar(sa.select(sa.exists().where(
            self.table.visibility.in_(self.visibilities), condition.matched, *self.filters))))
