"""The Whoosh + numpy engine behind the ``SearchBackend`` protocol: the embedded default.

Whoosh keeps the index on disk (``index.py``: which folder is live, one writer, pooled searchers);
queries are translated to Whoosh queries (``queries.py``) and evaluated over the whole index at once
with numpy (``evaluation.py``). Permissions are a mask over document numbers (``FacetCache.readable``),
applied where a query is evaluated, so totals, facet counts, suggestions, snippets and related practices
only ever see what the viewer may read. The statistics that scores, the key terms of related practices
and spelling suggestions are computed from come from the same documents (``Statistics``), so a
restricted practice moves no score, rank or suggestion a visitor sees either.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from markupsafe import Markup
from markupsafe import escape
from whoosh import query as wq
from whoosh.searching import Searcher

from exchange.search import query as ql
from exchange.search import spelling
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import analysis_language
from exchange.search.analysis import is_japanese
from exchange.search.analysis import tokens
from exchange.search.backend import ALL_WORDS_NOTICE
from exchange.search.backend import CAPABILITIES
from exchange.search.backend import FACETS
from exchange.search.backend import STOPPED_NOTICE
from exchange.search.backend import TIME_LIMIT_SECONDS
from exchange.search.backend import Hit
from exchange.search.backend import IndexDocument
from exchange.search.backend import ReindexRunning
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.search.backend import Translation
from exchange.search.backend import sorted_counts
from exchange.search.concepts import concept_words
from exchange.search.lexicon import query_languages
from exchange.search.places import countries_named
from exchange.search.snippets import snippet
from exchange.search.whoosh import bulk
from exchange.search.whoosh.documents import fields
from exchange.search.whoosh.evaluation import Deadline
from exchange.search.whoosh.evaluation import Evaluation
from exchange.search.whoosh.evaluation import Statistics
from exchange.search.whoosh.index import FacetCache
from exchange.search.whoosh.index import SearchIndex
from exchange.search.whoosh.index import commit_small
from exchange.search.whoosh.queries import all_of
from exchange.search.whoosh.queries import in_language
from exchange.search.whoosh.queries import place_tokens
from exchange.search.whoosh.queries import to_whoosh

log = logging.getLogger(__name__)


class WhooshBackend:
    """The Whoosh index of one instance, in ``root`` (``<instance>/index``), searched with numpy."""

    capabilities = CAPABILITIES

    def __init__(self, root: Path) -> None:
        self.index = SearchIndex(root)

    def search(self, request: SearchRequest, visibilities: frozenset[str],
               seconds: float = TIME_LIMIT_SECONDS) -> SearchResults:
        """Results for ``request`` among practices whose visibility is in ``visibilities``.

        Matching stops once ``seconds`` have passed since it began (for all its attempts together: the query,
        a correction, any of its words), and the search answers with no results at all, only a notice that
        it was stopped (threats R-5): a partly evaluated query would rank by whichever clauses happened to
        finish. Opening the index and its caches comes before, and is not counted.
        """
        with self.index.searching() as searcher:
            return _search(self.index, searcher, request, visibilities, seconds)

    def related(self, practice_id: str, visibilities: frozenset[str], limit: int = 5,
                seconds: float = TIME_LIMIT_SECONDS) -> list[Hit]:
        """Practices like ``practice_id`` (shared hazards, kind and key words), never its own translations;
        none when the viewer may not read ``practice_id`` itself, or once matching has taken ``seconds``."""
        with self.index.searching() as searcher:
            return _related(self.index, searcher, practice_id, visibilities, limit, seconds)

    def suggest(self, request: SearchRequest, visibilities: frozenset[str],
                seconds: float = TIME_LIMIT_SECONDS) -> str | None:
        """A corrected ``request.q`` that finds more practices the viewer may read (with the request's
        filters), built from words of public practices; None when there is none, or past ``seconds``."""
        parsed = ql.parse(request.q)
        if not parsed.words():
            return None
        with self.index.searching() as searcher:
            cache = self.index.facet_cache(searcher)
            statistics = cache.statistics(visibilities)
            masks = {facet: cache.having(facet, values) for facet, values in request.facet_filters().items()}
            deadline = time.monotonic() + seconds
            found = _evaluate(self.index, searcher, to_whoosh(parsed.tree), statistics, deadline)
            if found.partial:
                return None
            total = len(np.unique(cache.group_codes[_apply(found.complete, masks)]))
            return _suggest(self.index, searcher, parsed, statistics, masks, total, cache, deadline)

    def update(self, practice_ids: Sequence[str], document: Callable[[str], IndexDocument | None]) -> None:
        """Index ``document(id)`` for each of ``practice_ids`` (or drop it, for None) in one small commit,
        holding the single writer while the documents are read."""
        with self.index.writing() as index:
            writer = index.writer(timeout=30.0, compound=False)
            try:
                for practice_id in practice_ids:
                    found = document(practice_id)
                    if found is None:
                        writer.delete_by_term("id", practice_id)
                    else:
                        writer.update_document(**fields(found))
                commit_small(writer)
            except BaseException:
                writer.cancel()
                raise

    def rebuild(self, documents: Callable[[], Iterable[IndexDocument]], wait: bool = True) -> int:
        """Build a fresh index of ``documents()`` in a new folder beside the live one and swap it in.

        Searches keep answering from the old folder meanwhile, and updates keep going into it (only the
        swap waits for the writer); a rebuild killed midway leaves a folder nothing points to, removed by
        the next ``sweep``.
        """
        with self._rebuild_lock(wait):
            self.index.sweep()
            folder = self.index.new_folder()
            count = bulk.write(self.index.building(folder), documents())
            with self.index.writing(folder):
                self.index.swap(folder)
        return count

    def check(self) -> dict[str, str]:
        """Every indexed practice id with the checksum of the text it was indexed from (for drift checks)."""
        with self.index.searching() as searcher:
            return {stored["id"]: stored["sha"] for stored in searcher.all_stored_fields()}

    def verify(self) -> None:
        """Raise IndexUnavailable unless the live index can be opened (built, undamaged, of this schema)."""
        self.index.open()

    def sweep(self) -> list[str]:
        """Remove index folders left by killed rebuilds (unless a rebuild is running now); their names."""
        try:
            with self._rebuild_lock(wait=False):
                return self.index.sweep()
        except ReindexRunning:
            return []

    def rebuilding(self) -> bool:
        """Whether a rebuild (of any process) holds this index's rebuild lock now."""
        try:
            with self._rebuild_lock(wait=False):
                return False
        except ReindexRunning:
            return True

    def close(self) -> None:
        """Close the pooled searchers."""
        self.index.close()

    @contextlib.contextmanager
    def _rebuild_lock(self, wait: bool) -> Iterator[None]:
        """One rebuild at a time, across threads and processes (ReindexRunning, unless ``wait``)."""
        self.index.root.mkdir(parents=True, exist_ok=True)
        with open(self.index.root / "rebuild.lock", "a+") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise ReindexRunning("another rebuild of the search index is running") from None
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def _search(index: SearchIndex, searcher: Searcher, request: SearchRequest,
            visibilities: frozenset[str], seconds: float) -> SearchResults:
    """The query is evaluated over the whole index at once (arrays of match flags and scores); facet
    counts, totals, translation grouping, sorting and the page are then worked out with arrays of
    per-document values cached per segment. Counts are of practices: translations count once.

    A practice covering every concept of the query ranks above one covering only most of them (which
    ``minimum_to_match`` lets match too); when none covers them all, a better spelling that some practice
    matches whole is tried, then the page says so. When nothing matches at all, a plain query's words are
    each enough (ranked by how many a practice covers), and the page says that instead.
    """
    parsed = ql.parse(request.q)
    notices = list(parsed.notices)
    cache = index.facet_cache(searcher)
    statistics = cache.statistics(visibilities)
    readable = statistics.readable
    masks = {facet: cache.having(facet, values) for facet, values in request.facet_filters().items()}
    newest = request.sort in ("newest", "updated") or parsed.tree is None  # in order of time, not scored

    text_query = to_whoosh(parsed.tree)
    deadline = time.monotonic() + seconds
    found = _evaluate(index, searcher, text_query, statistics, deadline)
    corrected = None
    had_complete = bool(_apply(found.complete, masks).any())
    if parsed.words() and (not had_complete or _wrong_kanji(index, searcher, parsed, statistics, deadline)):
        nothing = not _apply(found.matched, masks).any()
        corrected = _suggest(index, searcher, parsed, statistics, masks, 0, cache, deadline)
        if corrected:
            parsed = ql.parse(corrected)
            text_query = to_whoosh(parsed.tree)
            found = _evaluate(index, searcher, text_query, statistics, deadline)
            notices.append(spelling.corrected_notice(request.q, corrected, nothing))
    if not _apply(found.matched, masks).any() and parsed.plain and isinstance(parsed.tree, ql.All):
        any_query = all_of(parsed.tree, any_word=True)
        any_found = _evaluate(index, searcher, any_query, statistics, deadline)
        if _apply(any_found.matched, masks).any():
            text_query, found = any_query, any_found
            notices.append(ALL_WORDS_NOTICE)
    elif _apply(found.matched, masks).any() and not _apply(found.complete, masks).any():
        notices.append(ALL_WORDS_NOTICE)
    if found.partial:
        notices.append(STOPPED_NOTICE)
    matched, scores = found.matched, found.scores
    if not newest:
        scores = _prefer_named_places(index, searcher, parsed, statistics, scores, deadline)
    selected = _apply(matched, masks)

    docs = np.flatnonzero(selected)
    if newest:  # among translations published the same day, the original leads its group
        original = np.fromiter((cache.groups[d] == cache.ids[d] for d in docs), bool, len(docs))
        keys = (-docs, ~original, -cache.published[docs])
        # recently updated: the version received last first (the postgres engine orders alike)
        order = np.lexsort((*keys, -cache.revised[docs]) if request.sort == "updated" else keys)
    else:
        order = np.lexsort((docs, -scores[docs], ~found.complete[docs]))
    total = len(np.unique(cache.group_codes[docs]))
    start = (request.page - 1) * request.per_page
    # a reader reads the language they searched in first (banjir, 避難所), then their own
    reads = tuple(dict.fromkeys(query_languages(parsed.words()) + request.reads)) if request.reads else ()
    shown = [_in_reader_language(cache, docnum, selected, scores, reads)
             for docnum in _leaders(cache, docs[order], start + request.per_page)[start:]]
    terms = _body_terms(text_query)
    hits = []
    for docnum in shown:
        stored = searcher.stored_fields(docnum)
        hits.append(Hit(id=stored["id"], card=stored["card"], score=None if newest else round(float(scores[docnum]), 4),
                        snippet=_snippet(stored, terms), translations=_translations(searcher, cache, docnum, readable)))
    suggestion = None
    complete = len(np.unique(cache.group_codes[np.flatnonzero(_apply(found.complete, masks))]))
    if complete < spelling.SUGGEST_BELOW and parsed.words():
        suggestion = _suggest(index, searcher, parsed, statistics, masks, complete, cache, deadline)
    facets = {facet: sorted_counts(cache.group_counts(facet, _apply(matched, masks, skip=facet))) for facet in FACETS}
    return SearchResults(query=request.q, total=total, page=request.page, per_page=request.per_page,
                         hits=hits, facets=facets, suggestion=suggestion, notices=notices, corrected=corrected,
                         documents=len(docs))


def _evaluation(index: SearchIndex, searcher: Searcher, statistics: Statistics,
                deadline: float) -> Evaluation:
    """An evaluation for one viewer, due to stop at ``deadline``."""
    return Evaluation(searcher, index.postings_cache(searcher), statistics, deadline)


class Matches(NamedTuple):
    """What a query matched among readable documents: match flags, scores, which matched covering every
    concept of the query (``Evaluation.incomplete``), and whether it ran out of time (nothing then)."""

    matched: np.ndarray
    scores: np.ndarray
    complete: np.ndarray
    partial: bool


def _evaluate(index: SearchIndex, searcher: Searcher, text_query: wq.Query,
              statistics: Statistics, deadline: float) -> Matches:
    """Readable matches and their scores: readability is applied here, so nothing restricted is ever
    counted, suggested or shown, and the scores come from readable documents' statistics."""
    readable = statistics.readable
    evaluation = _evaluation(index, searcher, statistics, deadline)
    try:
        matched, scores = evaluation.run(text_query)
    except Deadline:
        nothing = np.zeros(len(readable), bool)
        return Matches(nothing, np.zeros(len(readable), np.float32), nothing, True)
    matched &= readable
    return Matches(matched, scores, matched & ~evaluation.incomplete, False)


#: How much more a practice of a city or country the query names scores (Jakarta, Jepang, 東京).
PLACE_PREFERENCE = 4.0


def _prefer_named_places(index: SearchIndex, searcher: Searcher, parsed: ql.Parsed, statistics: Statistics,
                         scores: np.ndarray, deadline: float) -> np.ndarray:
    """``scores``, raised for practices of the places the query's words name (partner cities and
    countries, and the provinces, prefectures and states of ``places.py`` for their country): someone
    asking for Japan's early warning system wants Japan's first, though other cities' may answer too."""
    places = [wq.Term("place", token) for word in parsed.words() for token in place_tokens(word)]
    countries = countries_named(parsed.words())
    if not places and not countries:
        return scores
    named = _evaluate(index, searcher, wq.Or(places), statistics, deadline).matched
    if countries:
        named = named | index.facet_cache(searcher).having("country", sorted(countries))
    return scores * np.where(named, 1 + PLACE_PREFERENCE, 1).astype(np.float32)


def _apply(matched: np.ndarray, masks: dict[str, np.ndarray], skip: str | None = None) -> np.ndarray:
    """``matched`` narrowed by every facet filter (but ``skip``'s own, for that facet's counts)."""
    result = matched
    for facet, mask in masks.items():
        if facet != skip:
            result = result & mask
    return result


def _leaders(cache: FacetCache, ranked: np.ndarray, wanted: int) -> list[int]:
    """The best-ranked document of each translation group, in rank order, up to ``wanted`` of them."""
    seen: set[int] = set()
    leaders = []
    for docnum in ranked.tolist():
        group = int(cache.group_codes[docnum])
        if group not in seen:
            seen.add(group)
            leaders.append(docnum)
            if len(leaders) >= wanted:
                break
    return leaders


def _in_reader_language(cache: FacetCache, docnum: int, selected: np.ndarray, scores: np.ndarray,
                        reads: tuple[str, ...]) -> int:
    """The version of ``docnum``'s practice to show: its best-scoring selected version in the first
    language of ``reads`` that has one, else ``docnum`` (the best-ranked version)."""
    if not reads or cache.languages[docnum] == reads[0]:
        return docnum
    members = _group(cache, docnum, selected)
    for language in reads:
        versions = [member for member in members if cache.languages[member] == language]
        if versions:
            return max(versions, key=lambda member: (scores[member], -member))
    return docnum


def _translations(searcher: Searcher, cache: FacetCache, docnum: int, readable: np.ndarray) -> list[Translation]:
    """The other readable members of ``docnum``'s translation group, by id."""
    return sorted(Translation(cache.ids[d], cache.languages[d], searcher.stored_fields(d)["card"]["title"])
                  for d in _group(cache, docnum, readable) if d != docnum)


def _group(cache: FacetCache, docnum: int, mask: np.ndarray) -> list[int]:
    """The members of ``docnum``'s translation group (itself included) that ``mask`` holds."""
    return np.flatnonzero((cache.group_codes == cache.group_codes[docnum]) & mask).tolist()


def _body_terms(text_query: wq.Query) -> dict[str, set[str]]:
    """The query's terms in each body field, for highlighting: never those of words it leaves out (NOT)."""
    terms: dict[str, set[str]] = {}
    for fieldname, text in _wanted_terms(text_query):
        if fieldname.startswith("body_"):
            terms.setdefault(fieldname, set()).add(text)
        elif fieldname.startswith("concepts_"):  # a concept: its words in each language
            for language in LANGUAGES:
                terms.setdefault(f"body_{language}", set()).update(concept_words(text, language))
    return terms


def _wanted_terms(query: wq.Query) -> Iterator[tuple[str, str]]:
    if isinstance(query, wq.Not):
        return
    children = list(query.children())
    if not children:
        yield from query.iter_all_terms()
    for child in children:
        yield from _wanted_terms(child)


def _suggest(index: SearchIndex, searcher: Searcher, parsed: ql.Parsed, statistics: Statistics,
             masks: dict[str, np.ndarray], total: int, cache: FacetCache, deadline: float) -> str | None:
    """``parsed`` with its misspelt words corrected (``spelling.correction``), written back as a query, when
    more practices the viewer may read have all its words than ``total`` did; none past ``deadline``."""
    if time.monotonic() >= deadline:
        return None
    return spelling.correction(parsed, _Vocabulary(index, searcher, statistics, masks, cache, deadline), total)


def _wrong_kanji(index: SearchIndex, searcher: Searcher, parsed: ql.Parsed, statistics: Statistics,
                 deadline: float) -> bool:
    """Whether a Japanese word of the query is written with the wrong kanji (``spelling.wrong_kanji``)."""
    cache = index.facet_cache(searcher)
    return spelling.wrong_kanji(parsed, _Vocabulary(index, searcher, statistics, {}, cache, deadline))


class _Vocabulary:
    """What spelling asks of the practices one viewer may read (``spelling.Vocabulary``), from this index:
    the words of their texts are the ``spell_public`` field's (public practices' words, so a restricted
    word is never offered), Indonesian roots the ``body_id`` field's, each counted among readable
    documents only."""

    def __init__(self, index: SearchIndex, searcher: Searcher, statistics: Statistics,
                 masks: dict[str, np.ndarray], cache: FacetCache, deadline: float) -> None:
        self.index, self.searcher, self.statistics = index, searcher, statistics
        self.masks, self.cache, self.deadline = masks, cache, deadline
        self.evaluation = _evaluation(index, searcher, statistics, deadline)

    def _found(self, query: wq.Query) -> Matches:
        found = _evaluate(self.index, self.searcher, query, self.statistics, self.deadline)
        if found.partial:
            raise Deadline
        return found

    def known(self, word: str) -> bool:
        # a Japanese compound must be used as it is written: a glossary concept among its parts (住宅 in
        # 仮説住宅) does not make it a word
        query = (wq.Or([q for language in LANGUAGES for q in in_language(word, language)]) if is_japanese(word)
                 else to_whoosh(ql.Word(word, romaji=True)))  # a word in romaji is in use where its reading is
        return bool(self._found(query).matched.any())

    def finding(self, word: str) -> int:
        return int(self._found(to_whoosh(ql.Word(word))).matched.sum())

    def uses(self, words: Collection[str]) -> dict[str, float]:
        return {word: self.evaluation.frequency("spell_public", word) for word in words}

    def near(self, word: str, edits: int) -> dict[str, float]:
        return self.evaluation.words_within("spell_public", word, edits, 1)

    def near_root(self, root: str, edits: int) -> dict[str, float]:
        return self.evaluation.words_within("body_id", root, edits, 1)

    def complete(self, tree: ql.Node) -> int:
        found = self._found(to_whoosh(tree))
        return len(np.unique(self.cache.group_codes[_apply(found.complete, self.masks)]))

    def matches(self, tree: ql.Node, any_word: bool) -> bool:
        query = all_of(tree, any_word=True) if any_word and isinstance(tree, ql.All) else to_whoosh(tree)
        return bool(_apply(self._found(query).matched, self.masks).any())


def _snippet(stored: dict, terms: dict[str, set[str]]) -> Markup:
    """The snippet of a stored document, from the query's terms in its body field."""
    language = analysis_language(stored["card"]["language"])
    return snippet(stored["content"], stored["card"]["summary"], terms.get(f"body_{language}", set()), language)


def _related(index: SearchIndex, searcher: Searcher, practice_id: str, visibilities: frozenset[str],
             limit: int, seconds: float) -> list[Hit]:
    docnum = searcher.document_number(id=practice_id)
    cache = index.facet_cache(searcher)
    statistics = cache.statistics(visibilities)
    readable = statistics.readable
    if docnum is None or not readable[docnum]:
        return []
    deadline = time.monotonic() + seconds
    stored = searcher.stored_fields(docnum)
    card = stored["card"]
    language = analysis_language(card["language"])
    try:
        evaluation = _evaluation(index, searcher, statistics, deadline)
        key_terms = evaluation.key_terms(f"body_{language}", stored["content"], 8)
    except Deadline:  # as when the likeness query itself runs out of time
        return []
    likeness = [wq.Term(f"body_{language}", term, boost=0.5) for term in key_terms]
    likeness += [wq.Term("hazard", h, boost=2.0) for h in card["hazards"]]
    likeness += [wq.Term("kind", card["kind"]), wq.Term("phase", card["phases"][0], boost=0.5)]
    likeness += [wq.Term(f"title_{language}", t, boost=0.5) for t in tokens(card["title"], language) if len(t) > 1]
    matched, scores, _complete, _partial = _evaluate(index, searcher, wq.Or(likeness), statistics, deadline)
    matched &= cache.group_codes != cache.group_codes[docnum]
    docs = np.flatnonzero(matched)
    hits = []
    for other in _leaders(cache, docs[np.lexsort((docs, -scores[docs]))], limit):
        found = searcher.stored_fields(other)
        hits.append(Hit(id=found["id"], card=found["card"], snippet=escape(found["card"]["summary"]),
                        score=round(float(scores[other]), 4),
                        translations=_translations(searcher, cache, other, readable)))
    return hits
