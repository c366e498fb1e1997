"""The numpy evaluator scores exactly as Whoosh's own BM25F does, except where it means not to.

``evaluation.py`` reads Whoosh's postings through private internals (``_read_ids``, ``_next_block``,
``_atend``) and re-implements its scoring; nothing else would notice if a Whoosh upgrade or a change
there moved a score. These tests pin every score the evaluator gives, over the bundled library, to the
score Whoosh's own searcher gives (``searcher.search``, BM25F with our field boosts).

Term, phrase, boolean (And, Or, boosts, nesting) and multi-field queries are pinned to Whoosh's score
for the whole query. Where a query holds one of the parts below, Whoosh scores that part differently
on purpose or by a bug of Whoosh 2.7, and the test pins each of the part's clauses to Whoosh's own
score and combines them as the evaluator means to (``reference``):

* **Disjunction-max** (a word's glossary equivalents, ``queries.EQUIVALENTS_TIEBREAK``): the best
  clause's score plus ``tiebreak`` times the others' (Lucene's rule, what the query object says).
  Whoosh 2.7's ``DisjunctionMaxMatcher.score`` ignores ``tiebreak``, and while both of its
  sub-matchers are active it takes the higher of their current scores without checking that both sit
  on the current document: a practice matching one equivalent gets the score another equivalent has
  in some later practice. This is the "compound query differs by up to 7 %" (``early warning``, whose
  equivalents include "early warning system" and 早期警報): up to 83 % on ``flood`` in this library.
* **Coordinated concepts** (a query of three words or more, ``evaluation.Coordinated``): Whoosh has no
  minimum-should-match (its ``Or(minmatch=…)`` is "not yet implemented"). A document matches when it
  covers at least ``minimum`` of the concepts, and scores the sum of their scores times the covered
  share of the concepts' weights to the power ``COVERAGE_EXPONENT``, a concept weighing
  log(N / (df + 1)) + 1 with df the documents it matches.
* **Negation and everything** (``-word``, ``NOT``, a query of filters only): score nothing. Whoosh
  scores every document its ``Every`` or ``Not`` matches 1.0, a constant added to whole result sets.
* **Prefixes** (``evacu*``): scored as the words they stand for, as ``Prefix(constantscore=False)``
  does in Whoosh; Whoosh's default scores every match 1.0.
* **Metadata fields** (``hazard:tsunami``, and related practices' shared hazards, kind and phase):
  score nothing, so a filter narrows without ranking. Whoosh scores a term of an unscorable field by its
  weight (1.0 times the boost). Kept as it is (issue 10 changes no behaviour); it makes the boosts in
  ``backend._related`` inert: shared metadata only widens the candidates there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from whoosh import query as wq

from exchange.search import query as ql
from exchange.search.analysis import tokens
from exchange.search.backend import FACETS
from exchange.search.whoosh.evaluation import COVERAGE_EXPONENT
from exchange.search.whoosh.evaluation import Coordinated
from exchange.search.whoosh.evaluation import Evaluation
from exchange.search.whoosh.evaluation import PostingsCache
from exchange.search.whoosh.evaluation import _field_lengths
from exchange.search.whoosh.queries import in_language
from exchange.search.whoosh.queries import text_query
from exchange.search.whoosh.queries import to_whoosh

EVERYONE = frozenset({"public", "partners"})
#: Relative tolerance: the evaluator adds in float32, Whoosh in float64.
FLOAT32 = 1e-6
#: Parts of a query whose score the evaluator works out otherwise than Whoosh (see the module docstring).
OWN_RULES = (Coordinated, wq.DisjunctionMax, wq.Not, wq.Every, wq.Prefix)

#: Queries the evaluator must score exactly as Whoosh does, whole.
WHOOSHS_OWN = {
    "term": wq.Term("body_en", "flood"),
    "term in a boosted field": wq.Term("title_en", "flood"),
    "term with a boost": wq.Term("summary_en", "warn", boost=0.3),
    "japanese term": wq.Term("body_ja", "避難"),
    "phrase": wq.Phrase("body_en", ["earli", "warn"]),
    "phrase in the title": wq.Phrase("title_en", ["earli", "warn"]),
    "phrase with a boost": wq.Phrase("body_id", ["ingat", "dini"], boost=0.3),
    "and": wq.And([wq.Term("body_en", "flood"), wq.Term("body_en", "warn")]),
    "or": wq.Or([wq.Term("body_en", "flood"), wq.Term("body_en", "tsunami")]),
    "boosted or": wq.Or([wq.Term("body_en", "flood"), wq.Term("body_en", "warn")], boost=0.3),
    "boosted and": wq.And([wq.Term("body_en", "flood"), wq.Term("body_en", "warn")], boost=0.3),
    "multi-field word": wq.Or(in_language("evacuation", "en")),
    "multi-field words, all required": wq.And([wq.Or(in_language("flood", "en")), wq.Or(in_language("warning", "en"))]),
    "multi-field phrase": wq.Or(in_language("early warning", "en")),
    "multi-language words": wq.Or([wq.Or(in_language("banjir", "id")), wq.Or(in_language("flood", "en")),
                                   wq.Or(in_language("洪水", "ja"))]),
    "nested": wq.Or([wq.And([wq.Term("body_en", "tsunami"), wq.Phrase("body_en", ["evacu", "drill"])]),
                     wq.And([wq.Term("title_en", "flood"), wq.Term("body_en", "gaug")], boost=2.0)]),
}

#: Users' queries, as the engine builds them: equivalents, negation, prefixes and filters included.
USERS_QUERIES = ["flood", "early warning", '"early warning"', "flood warning", "flood OR tsunami", "flood -tsunami",
                 "-flood", "evacuation shelter", "evacu*", "banjir", "peringatan dini", "避難所", "津波 避難",
                 "heatwave", "hazard:tsunami evacuation", "city:jakarta", "kind:plan (drill OR exercise)",
                 "checking river embankments before the monsoon season", "tsunami evacuation drill -flood",
                 "cara menyiapkan dapur umum untuk pengungsi banjir", "避難所 女性 プライバシー"]


@pytest.fixture(scope="module")
def searching(library_app):  # type: ignore[no-untyped-def]
    """(searcher, evaluate, ids): Whoosh's searcher of the bundled library, and our evaluator over it."""
    index = library_app.extensions["exchange"].search.index
    with index.searching() as searcher:
        cache = index.facet_cache(searcher)
        statistics = cache.statistics(EVERYONE)
        assert statistics.whole_index  # Whoosh's own collection statistics: the ones it scores with

        def evaluate(query: wq.Query) -> dict[int, float]:
            matched, scores = Evaluation(searcher, index.postings_cache(searcher), statistics).run(query)
            return {int(d): float(scores[d]) for d in np.flatnonzero(matched & statistics.readable)}

        yield searcher, evaluate


def whoosh(searcher, query: wq.Query) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """Whoosh's own score of every document ``query`` matches."""
    return {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}


def has_own_rules(query: wq.Query) -> bool:
    return (isinstance(query, OWN_RULES) or metadata(query)
            or any(has_own_rules(q) for q in getattr(query, "subqueries", ())))


def metadata(query: wq.Query) -> bool:
    """True for a term of a metadata field (a filter, or a related practice's shared hazard)."""
    return isinstance(query, wq.Term) and query.fieldname in FACETS


def reference(searcher, query: wq.Query) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """The score each document should get: Whoosh's own, with the parts in OWN_RULES combined from
    Whoosh's own scores of their clauses as the module docstring says."""
    if not has_own_rules(query):
        return whoosh(searcher, query)
    if isinstance(query, wq.Every) or metadata(query):
        return dict.fromkeys(whoosh(searcher, query), 0.0)
    if isinstance(query, wq.Not):
        left_out = reference(searcher, query.query)
        return {docnum: 0.0 for docnum in whoosh(searcher, wq.Every()) if docnum not in left_out}
    if isinstance(query, wq.Prefix):
        return whoosh(searcher, wq.Prefix(query.fieldname, query.text, boost=query.boost, constantscore=False))
    parts = [reference(searcher, q) for q in query.subqueries]
    if isinstance(query, Coordinated):
        weights = [math.log(searcher.doc_count_all() / (len(part) + 1)) + 1 for part in parts]
        combined = {}
        for docnum in set().union(*parts):
            covering = [i for i, part in enumerate(parts) if docnum in part]
            if len(covering) >= query.minimum:
                share = sum(weights[i] for i in covering) / sum(weights)
                combined[docnum] = sum(parts[i][docnum] for i in covering) * share ** COVERAGE_EXPONENT * query.boost
        return combined
    if isinstance(query, wq.DisjunctionMax):
        combined = {}
        for docnum in set().union(*parts):
            scores = [part[docnum] for part in parts if docnum in part]
            combined[docnum] = (max(scores) + query.tiebreak * (sum(scores) - max(scores))) * query.boost
        return combined
    matching = set.intersection(*map(set, parts)) if isinstance(query, wq.And) else set().union(*parts)
    assert isinstance(query, wq.And | wq.Or), query
    return {docnum: sum(part.get(docnum, 0.0) for part in parts) * query.boost for docnum in matching}


@pytest.mark.parametrize("name", WHOOSHS_OWN)
def test_scores_are_whooshs_own_bm25f(searching, name):
    searcher, evaluate = searching
    query = WHOOSHS_OWN[name]
    assert not has_own_rules(query)
    expected = whoosh(searcher, query)
    assert expected, "the query should match something in the bundled library"
    assert evaluate(query) == pytest.approx(expected, rel=FLOAT32)


@pytest.mark.parametrize("q", USERS_QUERIES)
def test_users_queries_score_as_whoosh_with_our_own_rules(searching, q):
    searcher, evaluate = searching
    query = to_whoosh(ql.parse(q).tree)
    expected = reference(searcher, query)
    assert expected
    assert evaluate(query) == pytest.approx(expected, rel=FLOAT32, abs=1e-6)


def test_whoosh_scores_disjunction_max_otherwise(searching):
    """Why the reference combines equivalents itself: Whoosh's own disjunction-max differs, by a lot."""
    searcher, evaluate = searching
    equivalents = text_query("減災")  # two concepts: disaster risk reduction, mitigation
    assert any(isinstance(q, wq.DisjunctionMax) for q in equivalents.subqueries)
    ours, whoosh_own = evaluate(equivalents), whoosh(searcher, equivalents)
    assert ours.keys() == whoosh_own.keys()
    assert max(abs(ours[d] - whoosh_own[d]) / whoosh_own[d] for d in ours) > 0.07



@pytest.mark.parametrize("fieldname", ["body_ja", "body_en", "body_id", "title_ja", "summary_en"])
def test_phrases_match_the_documents_whooshs_span_matcher_finds(searching, fieldname):
    """The evaluator finds words side by side from their positions arrays (``PostingsCache._adjacent``),
    not by Whoosh's span matcher: the same documents, for runs of two and three words of the practices'
    own text (which stand together somewhere), for words of the field taken in order (which mostly do
    not), and for a word repeated."""
    searcher, evaluate = searching
    reader = searcher.reader()
    name, language = fieldname.split("_")
    words = [text.decode() for field, text in reader.terms_from(fieldname, "") if field == fieldname][:40]
    phrases = [words[i:i + 2] for i in range(0, 40, 2)] + [words[i:i + 3] for i in range(0, 30, 3)]
    phrases.append([words[0], words[0]])
    for fields in list(reader.all_stored_fields())[:40]:
        if fields["card"]["language"] != language:
            continue
        analysed = tokens(fields["content"] if name == "body" else fields["card"][name], language)
        phrases += [analysed[i:i + 2] for i in range(0, max(0, len(analysed) - 1), 9)][:6]
        phrases += [analysed[i:i + 3] for i in range(0, max(0, len(analysed) - 2), 13)][:4]
    found = 0
    for phrase in phrases:
        query = wq.Phrase(fieldname, phrase)
        expected = set(whoosh(searcher, query))
        assert set(evaluate(query)) == expected, phrase
        found += bool(expected)
    assert found >= 10


def test_the_postings_cache_forgets_segments_merged_away_and_only_those():
    cache = PostingsCache()
    one, two = np.arange(3, dtype=np.int32), np.ones(3, np.float32)
    for segment in ("a", "b"):
        cache._terms[(segment, "body_en", "flood")] = (one, two)
        cache._phrases[(segment, "body_en", ("earli", "warn"), 1)] = one
    cache._size = 6
    cache.forget_segments_except({"a", "b"})
    assert len(cache._terms) == 2 and len(cache._phrases) == 2
    cache.forget_segments_except({"a", "c"})  # b merged into c
    assert [key[0] for key in cache._terms] == ["a"] and [key[0] for key in cache._phrases] == ["a"]
    assert cache._size == 3
    cache._terms[("b", "body_en", "warn")] = (one, two)  # left by a search still on the old searcher
    cache._size += 3
    cache.forget_segments_except({"c"})
    assert not cache._terms and not cache._phrases and cache._size == 0


def test_field_lengths_read_whole_are_those_whoosh_gives_each_document(searching):
    searcher, _evaluate = searching
    checked = 0
    for sub, _offset in searcher.leaf_searchers():
        reader = sub.reader()
        for name, field in searcher.schema.items():
            if field.scorable:
                size = reader.doc_count_all()
                expected = [reader.doc_field_length(d, name, 0) or 0 for d in range(size)]
                assert _field_lengths(reader, name, size).tolist() == expected, name
                checked += any(expected)
    assert checked >= 10
