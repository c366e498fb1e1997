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
import functools
import logging
import time
from collections.abc import Callable
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
from whoosh.support.levenshtein import distance

from exchange.search import glossary
from exchange.search import query as ql
from exchange.search.analysis import LANGUAGES
from exchange.search.analysis import analysis_language
from exchange.search.analysis import is_japanese
from exchange.search.analysis import is_kana
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
from exchange.search.expansion import japanese_terms_reading_as
from exchange.search.interpretation import ALL_CONCEPTS_UP_TO
from exchange.search.lexicon import is_word
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

#: A search finding fewer practices than this also looks for a better spelling of its words.
SUGGEST_BELOW = 3


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
            notices.append(f"Nothing matched “{request.q}”; showing results for “{corrected}”." if nothing else
                           f"Showing results for “{corrected}” instead of “{request.q}”.")
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
    if complete < SUGGEST_BELOW and parsed.words():
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
    """``parsed`` with its misspelt words corrected, written back as a query, when more practices have all
    its words than ``total`` did; none past ``deadline``.

    A word is misspelt when it is no word of the glossary and no practice the viewer may read uses it, in
    any of our languages; it is replaced by the nearest word of public practices the viewer may read, or
    of the glossary when practices they may read answer to it (``_nearest``). Only those words change, in
    the parsed tree: phrases, OR, NOT (whose words are never corrected) and filters stay as they were. A
    real word is never swapped for a commoner one (banjir *bandang* is not banjir *badan*).
    """
    if time.monotonic() >= deadline:
        return None
    evaluation = _evaluation(index, searcher, statistics, deadline)
    typed = [w.lower() for w in parsed.words()]
    # three letters are too few to mend alone, but enough beside a word they make a term with (kabut asp)
    words = [word for word in dict.fromkeys(typed) if _correctable(word) or is_japanese(word)
             or (len(word) == 3 and word.isalpha() and word.isascii())]
    corrections: dict[str, str] = {}
    try:
        for word in words:
            if _known(index, searcher, word, statistics, deadline):
                continue
            if is_japanese(word):
                nearest = _homophone(index, searcher, word, statistics, deadline)
            else:  # a real word nothing uses is mended only into a term with its neighbour (kabut asp: asap)
                nearest = _completing(word, _neighbours(typed, word)) or (
                    _nearest(index, searcher, evaluation, word, statistics, deadline)
                    if _correctable(word) and not is_word(word) else None)
            if nearest:
                corrections[word] = nearest
    except Deadline:
        return None
    candidate = _corrected(parsed.tree, corrections)
    if not corrections or candidate == parsed.tree:
        return None
    found = _evaluate(index, searcher, to_whoosh(candidate), statistics, deadline)
    if found.partial:
        return None
    if len(np.unique(cache.group_codes[_apply(found.complete, masks)])) > total:
        return ql.to_text(candidate)
    # A correction of words nothing matched can only add to what is found: a question (which needs only
    # some of its words) takes it when it finds anything at all, and so does a plain query that only its
    # words one by one would answer.
    if len(parsed.words()) <= ALL_CONCEPTS_UP_TO and parsed.plain and isinstance(candidate, ql.All) and not total:
        found = _evaluate(index, searcher, all_of(candidate, any_word=True), statistics, deadline)
    elif len(parsed.words()) <= ALL_CONCEPTS_UP_TO:
        return None
    return ql.to_text(candidate) if not found.partial and _apply(found.matched, masks).any() else None


def _corrected(tree: ql.Node | None, corrections: dict[str, str]) -> ql.Node | None:
    """``tree`` with the words ``corrections`` has (in small letters) replaced."""
    return ql.replace_words(tree, lambda word: corrections.get(word.lower()))


def _correctable(word: str) -> bool:
    """Whether spelling may correct ``word``: four letters or more, of an alphabet (not kana or kanji,
    whose misspellings are not near in letters)."""
    return len(word) > 3 and word.isalpha() and all(letter < "\u3000" for letter in word)


def _max_edits(word: str) -> int:
    """How many edits away a correction of ``word`` may be: longer words may be further off."""
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def _known(index: SearchIndex, searcher: Searcher, word: str, statistics: Statistics, deadline: float) -> bool:
    """Whether ``word`` is in use: one of a glossary term's words in any of our languages (banjir
    *bandang*), or a word that finds a practice the viewer may read (raises Deadline past it). A word
    in no use may still be a word (``lexicon.is_word``: soal is not soil)."""
    if word in _glossary_vocabulary():
        return True
    # a Japanese compound must be used as it is written: a glossary concept among its parts (住宅 in
    # 仮説住宅) does not make it a word
    query = (wq.Or([q for language in LANGUAGES for q in in_language(word, language)]) if is_japanese(word)
             else to_whoosh(ql.Word(word, romaji=True)))  # a word in romaji is in use where its reading is
    found = _evaluate(index, searcher, query, statistics, deadline)
    if found.partial:
        raise Deadline
    return bool(found.matched.any())


def _swapped(evaluation: Evaluation, word: str) -> str | None:
    """The most used word of public practices the viewer may read that is ``word`` with two neighbouring
    letters swapped (the first letter kept), if any."""
    candidates = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, len(word) - 1)} - {word}
    found = [(evaluation.frequency("spell_public", c), c) for c in sorted(candidates)]
    best = max((pair for pair in found if pair[0]), default=None)
    return best[1] if best else None


def _nearest(index: SearchIndex, searcher: Searcher, evaluation: Evaluation, word: str, statistics: Statistics,
             deadline: float) -> str | None:
    """The correction of ``word`` fewest edits away (up to ``_max_edits``, same first letter): a word of
    public practices the viewer may read (the most used of them), else a glossary term in any of our
    languages that finds practices the viewer may read (the one finding most). None when ``word`` is
    itself a word of those practices (a stop word, say), or nothing is near. Two neighbouring letters
    swapped, the commonest slip, come first (lansai is lansia before it is lantai)."""
    swapped = _swapped(evaluation, word)
    if swapped:
        return swapped
    for edits in range(1, _max_edits(word) + 1):
        spelled = evaluation.nearest_word("spell_public", word, edits, 1)
        if spelled == word:
            return None
        if spelled:
            return spelled
        near = [term for term in _glossary_words()
                if term[0] == word[0] and term != word and distance(term, word, limit=edits) <= edits]
        best = _finding_most(index, searcher, near, statistics, deadline)
        if best:
            return best
    return _nearest_root(evaluation, word)


def _wrong_kanji(index: SearchIndex, searcher: Searcher, parsed: ql.Parsed, statistics: Statistics,
                 deadline: float) -> bool:
    """Whether a Japanese word with kanji in it is used nowhere as written but reads as a glossary term:
    防災訓連 matches practices through 防災 alone, yet 防災訓練 (drill) was meant. (A word in kana
    already finds the concept of the kanji that read so.)"""
    try:
        return any(is_japanese(word) and not is_kana(word) and japanese_terms_reading_as(word)
                   and not _known(index, searcher, word, statistics, deadline) for word in parsed.words())
    except Deadline:
        return False


def _neighbours(words: list[str], word: str) -> set[str]:
    """The words typed right before and after each place ``word`` stands in ``words``."""
    places = [i for i, w in enumerate(words) if w == word]
    return {words[j] for i in places for j in (i - 1, i + 1) if 0 <= j < len(words)} - {word}


def _completing(word: str, neighbours: set[str]) -> str | None:
    """The word nearest ``word`` (within ``_max_edits``, same first letter) that makes a glossary term with
    a word typed beside it: 'gempa bumu' is gempa *bumi* (earthquake), not gempa *buku* (book), though
    practices say buku more often."""
    best: tuple[int, str] | None = None
    for neighbour in neighbours:
        for term in _glossary_terms_with(neighbour):
            for candidate in term:
                if candidate[0] == word[0] and candidate not in (word, neighbour):
                    edits = distance(candidate, word, limit=_max_edits(word))
                    if edits <= _max_edits(word) and (best is None or (edits, candidate) < best):
                        best = (edits, candidate)
    return best[1] if best else None


@functools.cache
def _glossary_terms_by_word() -> dict[str, list[tuple[str, ...]]]:
    """Each word of a glossary term of several words (small letters) → those terms, as their words."""
    terms: dict[str, list[tuple[str, ...]]] = {}
    for concept in glossary.concepts():
        for language_terms in concept.terms.values():
            for term in language_terms:
                words = tuple(term.lower().split())
                if len(words) > 1:
                    for word in set(words):
                        terms.setdefault(word, []).append(words)
    return terms


def _glossary_terms_with(word: str) -> list[tuple[str, ...]]:
    return _glossary_terms_by_word().get(word, [])


def _homophone(index: SearchIndex, searcher: Searcher, word: str, statistics: Statistics,
               deadline: float) -> str | None:
    """For a Japanese word no practice the viewer may read uses, the glossary term that reads the same
    and finds most of their practices: the wrong kanji of the same sound (非難所, 仮説住宅) is Japanese's
    commonest slip, and kana typed where kanji belong (避難じょ) the next."""
    return _finding_most(index, searcher, japanese_terms_reading_as(word), statistics, deadline)


def _finding_most(index: SearchIndex, searcher: Searcher, terms: list[str], statistics: Statistics,
                  deadline: float) -> str | None:
    """Of ``terms``, the one that finds most practices the viewer may read (none that finds none);
    raises Deadline past ``deadline``."""
    best: tuple[int, str] | None = None
    for term in terms:
        found = _evaluate(index, searcher, to_whoosh(ql.Word(term)), statistics, deadline)
        if found.partial:
            raise Deadline
        count = int(found.matched.sum())
        if count and (best is None or (count, term) > best):
            best = (count, term)
    return best[1] if best else None


#: Indonesian prefixes and suffixes, longest first: a slip in an affixed word is looked for in its root.
INDONESIAN_PREFIXES = ("memper", "menge", "meng", "meny", "mem", "men", "me", "penge", "peng", "peny", "pem", "pen",
                       "pe", "ber", "ter", "di", "ke", "se", "")
INDONESIAN_SUFFIXES = ("kannya", "annya", "kan", "nya", "an", "i", "")


def _nearest_root(evaluation: Evaluation, word: str) -> str | None:
    """For an Indonesian word whose affixed form no practice uses (pengevakusian), the root its affixes
    surround, corrected (evakuasi): the nearest Indonesian index word to any affix-free remainder,
    the one the viewer's documents use most. Searching the root finds every affixed form anyway."""
    best: tuple[float, str] | None = None
    for prefix in INDONESIAN_PREFIXES:
        for suffix in INDONESIAN_SUFFIXES:
            if not (prefix or suffix) or not word.startswith(prefix) or not word.endswith(suffix):
                continue
            root = word[len(prefix):len(word) - len(suffix)]
            if len(root) < 4:
                continue
            found = evaluation.nearest_word("body_id", root, _max_edits(root) - 1 or 1, 1)
            if found and found != root:
                frequency = evaluation.frequency("body_id", found)
                if best is None or (frequency, found) > best:
                    best = (frequency, found)
    return best[1] if best else None


@functools.cache
def _glossary_vocabulary() -> frozenset[str]:
    """Every word of every glossary term, in all our languages, in small letters."""
    return frozenset(word.lower() for concept in glossary.concepts() for terms in concept.terms.values()
                     for term in terms for word in term.split())


@functools.cache
def _glossary_words() -> tuple[str, ...]:
    """The one-word glossary terms spelling may correct to, in all our languages."""
    words = {term.lower() for concept in glossary.concepts() for terms in concept.terms.values() for term in terms}
    return tuple(sorted(w for w in words if _correctable(w)))


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
