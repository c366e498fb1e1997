"""Evaluating a query over the whole index with arrays: which practices match, and their BM25F scores.

Whoosh stores the index and its postings; evaluating our large multilingual queries through Whoosh's
matcher tree took ~0.4 s at 10,000 practices (pure-Python matchers walking every clause). Here each
term's postings are read once per segment, kept as numpy arrays (segments never change once written,
so the cache survives publishes), and every query is scored term-at-a-time with vector arithmetic.
Scores follow Whoosh's BM25F (same idf, B, K1 and field boosts), so ranking matches Whoosh's own, but
the collection statistics behind them, behind the key terms of related practices and behind spelling
suggestions (document count, document and collection frequencies, average field lengths) are the
viewer's (``Statistics``): what a visitor sees ranked cannot reveal what they may not read.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any

import numpy as np
from whoosh import classify
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.reading import IndexReader
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from exchange.search.spelling import OutOfTime

B = 0.75
K1 = 1.2
#: Postings kept in memory per index folder (entries; 8 bytes each).
MAX_CACHED_POSTINGS = 12_000_000
#: Phrases' matching documents kept per index folder (entries: a segment's, for one phrase).
MAX_CACHED_PHRASES = 20_000
#: Viewer term frequencies kept per index folder (entries: a segment, who may read it, a field and a word).
MAX_CACHED_FREQUENCIES = 200_000
#: Index words a prefix (``evacu*``) stands for, at most, in each field.
MAX_PREFIX_TERMS = 512
#: How much covering less of a coordinated group's concepts costs (``Coordinated``); 1 is Lucene's classic coord.
COVERAGE_EXPONENT = 1.0


class Coordinated(wq.Or):
    """A query's concepts, each optional: a document matches when it covers at least ``minimum`` of them.

    Its score is the sum of the concepts' scores (as ``Or``) times the coordination factor
    (covered weight / total weight) ** COVERAGE_EXPONENT, each concept weighing its idf among the viewer's
    documents (log(N / (df + 1)) + 1, Whoosh's BM25 idf, df the documents the concept matches), so a
    practice covering more of the query, and its rarer concepts, ranks above one repeating fewer of them
    often. Whoosh has no such query (its ``Or(minmatch=…)`` is not implemented): only this evaluator
    scores it. Documents matching fewer than all concepts are marked in ``Evaluation.incomplete``.
    """

    def __init__(self, subqueries: list[wq.Query], boost: float = 1.0, minimum: int = 1) -> None:
        super().__init__(subqueries, boost=boost)
        self.minimum = minimum

    def __repr__(self) -> str:
        return f"Coordinated({self.subqueries!r}, minimum={self.minimum})"


class Deadline(OutOfTime):
    """The query ran out of time: nothing it matched so far is used (the search answers with no results)."""


class _Segment:
    """One segment's field lengths, read on first use (the reader is the caller's current one)."""

    def __init__(self, segment_id: str, size: int) -> None:
        self.id = segment_id
        self.size = size
        self.lengths: dict[str, np.ndarray] = {}

    @staticmethod
    def postings(reader: IndexReader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Local docnums and term frequencies of one term (empty arrays when absent)."""
        ids: list[int] = []
        weights: list[float] = []
        for block_ids, block_weights in _blocks(reader, fieldname, text, values=False):
            ids.extend(block_ids)
            weights.extend(block_weights)
        return np.fromiter(ids, np.int32, len(ids)), np.fromiter(weights, np.float32, len(weights))

    @staticmethod
    def positions(reader: IndexReader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Every (local docnum, position) of one term, as two arrays of equal length (empty when absent)."""
        decode = reader.schema[fieldname].format.decoder("positions")
        docs: list[int] = []
        positions: list[int] = []
        for block_ids, values in _blocks(reader, fieldname, text, values=True):
            for docnum, value in zip(block_ids, values, strict=True):
                found = decode(value)
                docs.extend([docnum] * len(found))
                positions.extend(found)
        return np.fromiter(docs, np.int32, len(docs)), np.fromiter(positions, np.int32, len(positions))

    def field_lengths(self, reader: IndexReader, fieldname: str) -> np.ndarray:
        lengths = self.lengths.get(fieldname)
        if lengths is None:
            lengths = self.lengths[fieldname] = _field_lengths(reader, fieldname, self.size)
        return lengths


#: The length each byte of Whoosh's lengths column stands for (it keeps a length to one byte of precision).
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], np.float32)


def _field_lengths(reader: IndexReader, fieldname: str, size: int) -> np.ndarray:
    """Every document's length of ``fieldname`` in one segment (0 without the field), as BM25 scores with.

    Whoosh keeps them as a column of one byte per document: read whole (Whoosh 2.7 internals, as
    ``_blocks``), that takes about a thirtieth of the time of asking for each document's length (every
    field of 1,000 practices: 1 ms instead of 35).
    """
    perdoc = getattr(reader, "_perdoc", None)
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN) if perdoc is not None else None
    if column is None or not all(hasattr(column, a) for a in ("_dbfile", "_basepos", "_count", "_fixedlen")) \
            or column._fixedlen != 1:  # some other reader: ask it document by document
        length = reader.doc_field_length  # None, not the default, for a document without the field
        return np.fromiter((length(d, fieldname, 0) or 0 for d in range(size)), np.float32, size)
    encoded = np.zeros(size, np.uint8)  # documents past the column's end have no length (Whoosh's default)
    count = min(column._count, size)
    encoded[:count] = np.frombuffer(column._dbfile.get(column._basepos, count), np.uint8)
    return _BYTE_LENGTHS[encoded]


def _blocks(reader: IndexReader, fieldname: str, text: str, values: bool) -> Iterator[tuple[Sequence, Sequence]]:
    """One term's postings a block at a time: (local docnums, their weights, or their encoded values with
    ``values``); nothing when the term is absent."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return
    # A segment with deletions wraps its postings in a filter; deleted documents are masked
    # out later anyway, so read the postings underneath.
    while not hasattr(matcher, "_read_ids") and hasattr(matcher, "child"):
        matcher = matcher.child
    if not hasattr(matcher, "_read_ids"):  # some other matcher: read it posting by posting
        while matcher.is_active():
            yield [matcher.id()], [matcher.value() if values else matcher.weight()]
            matcher.next()
        return
    # Whole blocks at a time (Whoosh 2.7 W3LeafMatcher internals; the version is pinned).
    while matcher.is_active():
        matcher._read_ids()
        if values:
            matcher._read_values()
            yield matcher._ids, matcher._values
        else:
            matcher._read_weights()
            yield matcher._ids, matcher._weights
        matcher._next_block()
        if not matcher._atend:
            matcher._i = 0


#: One term's postings in each segment that has any: (segment, its searcher, local docnums, frequencies, docnums).
_Postings = list[tuple[_Segment, Searcher, np.ndarray, np.ndarray, np.ndarray]]


class PostingsCache:
    """Per index folder: segments by id, and an LRU of term postings bounded by total size."""

    def __init__(self) -> None:
        self._segments: dict[str, _Segment] = {}
        self._terms: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._phrases: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._frequencies: OrderedDict[tuple, float] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._live: frozenset[str] = frozenset()

    def segment(self, reader: IndexReader) -> _Segment:
        key = reader.segment().segment_id()
        with self._lock:
            segment = self._segments.get(key)
            if segment is None:
                segment = self._segments[key] = _Segment(key, reader.doc_count_all())
            return segment

    def read_field_lengths(self, searcher: Searcher) -> None:
        """Read the lengths of every scorable field in each segment of ``searcher`` now, rather than a field
        at a time as queries first find a term in it (a warm-up's work: a publish's new segment is small)."""
        for sub, _offset in _leaves(searcher):
            reader = sub.reader()
            segment = self.segment(reader)
            for fieldname, field in searcher.schema.items():
                if field.scorable and reader.field_length(fieldname):
                    segment.field_lengths(reader, fieldname)

    def forget_segments_except(self, keep: set[str]) -> None:
        """Drop what is cached for segments not in ``keep``: work only when the live segments changed
        (a publish or a merge), never a scan of every cached term on every query."""
        with self._lock:
            if keep == self._live:
                return
            self._live = frozenset(keep)
            for segment_id in [k for k in self._segments if k not in keep]:
                del self._segments[segment_id]
            for term in [k for k in self._terms if k[0] not in keep]:
                self._size -= len(self._terms.pop(term)[0])
            for phrase in [k for k in self._phrases if k[0] not in keep]:
                del self._phrases[phrase]
            for counted in [k for k in self._frequencies if isinstance(k[0], tuple) or k[0] not in keep]:
                del self._frequencies[counted]  # a total over other segments, or one segment's count

    def postings(self, segment: _Segment, reader: IndexReader, fieldname: str, text: str
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One term's (local docnums, frequencies), read once and kept."""
        return self._kept((segment.id, fieldname, text), lambda: segment.postings(reader, fieldname, text))

    def _positions(self, segment: _Segment, reader: IndexReader, fieldname: str, text: str
                   ) -> tuple[np.ndarray, np.ndarray]:
        """One term's (local docnum, position) pairs, read once and kept."""
        return self._kept((segment.id, fieldname, text, "positions"),
                          lambda: segment.positions(reader, fieldname, text))

    def frequency(self, segment: _Segment, readers: bytes, fieldname: str, text: str, count: Callable[[], float]
                  ) -> float:
        """How often one word occurs in ``fieldname`` of the documents of ``segment`` that the viewer may read
        (``readers`` names which: ``Statistics.fingerprint``), ``count()`` once and then kept.

        A segment never changes once written and which of its documents a viewer may read changes only
        with a deletion, which changes the fingerprint: so a kept count holds across searcher generations,
        and related practices' key terms and spelling's candidates, weighed by hundreds of such counts, are
        not weighed again after every publish.
        """
        return self._counted((segment.id, readers, fieldname, text), count)

    def total_frequency(self, readers: tuple[tuple[str, bytes], ...], fieldname: str, text: str,
                        count: Callable[[], float]) -> float:
        """How often one word occurs in ``fieldname`` of the documents the viewer may read in the segments
        ``readers`` names (each with its ``Statistics.fingerprint``), ``count()`` once and then kept while
        those segments are live: one lookup instead of one per segment."""
        return self._counted((readers, fieldname, text), count)

    def _counted(self, key: tuple, count: Callable[[], float]) -> float:
        found: float = self._remembered(self._frequencies, key, count, MAX_CACHED_FREQUENCIES)
        return found

    def _remembered(self, store: OrderedDict, key: tuple, make: Callable[[], Any], limit: int) -> Any:
        """What ``store`` keeps under ``key``, or ``make()`` and kept (the least recently used go first once
        ``store`` holds more than ``limit``)."""
        with self._lock:
            found = store.get(key)
            if found is not None:
                store.move_to_end(key)
                return found
        found = make()
        with self._lock:
            store[key] = found
            while len(store) > limit:
                store.popitem(last=False)
        return found

    def _kept(self, key: tuple, read: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """The two arrays kept under ``key``, or ``read()`` and kept (the least recently used go first
        once more than ``MAX_CACHED_POSTINGS`` entries are kept)."""
        with self._lock:
            found = self._terms.get(key)
            if found is not None:
                self._terms.move_to_end(key)
                return found
        found = read()
        with self._lock:
            self._terms[key] = found
            self._size += len(found[0])
            while self._size > MAX_CACHED_POSTINGS and len(self._terms) > 1:
                _, (ids, _weights) = self._terms.popitem(last=False)
                self._size -= len(ids)
        return found

    def phrase(self, segment: _Segment, subsearcher: Searcher, query: wq.Phrase) -> np.ndarray:
        """Local docnums where the words stand together: for words side by side, from the words' positions
        (read once per term and kept, so one common word serves every phrase it is in); otherwise (a
        slop) by Whoosh's span matcher."""
        def find() -> np.ndarray:
            if query.slop == 1:
                return self._adjacent(segment, subsearcher.reader(), query.fieldname, list(query.words))
            return np.fromiter(wq.Phrase(query.fieldname, query.words, slop=query.slop).docs(subsearcher), np.int32)

        found: np.ndarray = self._remembered(self._phrases, (segment.id, query.fieldname, tuple(query.words),
                                                             query.slop), find, MAX_CACHED_PHRASES)
        return found


    def _adjacent(self, segment: _Segment, reader: IndexReader, fieldname: str, words: list[str]) -> np.ndarray:
        """Local docnums where ``words`` stand one after another: each word's (docnum, position - its
        place in the phrase) pairs, as one number, kept where every word has the same."""
        common: np.ndarray | None = None
        for place, word in enumerate(words):
            docs, positions = self._positions(segment, reader, fieldname, word)
            keep = positions >= place
            starts = (docs[keep].astype(np.int64) << 32) | (positions[keep] - place).astype(np.int64)
            common = starts if common is None else np.intersect1d(common, starts)
            if not len(common):
                break
        return np.unique((common if common is not None else np.empty(0, np.int64)) >> 32).astype(np.int32)


class Statistics:
    """The collection statistics one viewer's queries are scored with, in one searcher generation.

    A viewer who may read every visibility gets the index's own statistics, as Whoosh keeps them, so
    their ranking is exactly what it always was. Anyone else gets statistics over the live documents
    they may read (``readable``) alone: the document count, every term's document and collection
    frequency, and every field's average length. Nothing they cannot read (a partners-only practice, an
    older version deleted but not yet merged away) then moves a score, a key term or a suggestion they
    see. Their field lengths are the per-document lengths BM25 scores with (Whoosh keeps them to one
    byte of precision, and totals them so itself when it merges segments): exact lengths exist only as
    whole-segment totals. Totals are worked out on first use and kept with the generation.
    """

    def __init__(self, readable: np.ndarray, whole_index: bool) -> None:
        self.readable = readable
        self.whole_index = whole_index
        self.doc_count = max(1, int(np.count_nonzero(readable)))
        self._totals: dict[str, float] = {}
        self._covered: dict[tuple[str, str], bool] = {}
        self._fingerprints: dict[str, bytes] = {}

    def total_length(self, fieldname: str, leaves: list[tuple[_Segment, Searcher, int]]) -> float:
        """The summed length of ``fieldname`` over readable documents."""
        total = self._totals.get(fieldname)
        if total is None:
            total = 0.0
            for segment, sub, offset in leaves:
                reader = sub.reader()
                if reader.field_length(fieldname):  # else no document of the segment has the field
                    lengths = segment.field_lengths(reader, fieldname)
                    total += float(lengths[self.readable[offset:offset + segment.size]].sum(dtype=np.float64))
            self._totals[fieldname] = total
        return total

    def fingerprint(self, segment: _Segment, offset: int) -> bytes:
        """Which documents of ``segment`` the viewer may read, as a short digest (``PostingsCache.frequency``)."""
        found = self._fingerprints.get(segment.id)
        if found is None:
            local = np.packbits(self.readable[offset:offset + segment.size])
            found = self._fingerprints[segment.id] = hashlib.blake2b(local.tobytes(), digest_size=16).digest()
        return found

    def covers(self, segment: _Segment, reader: IndexReader, offset: int, fieldname: str) -> bool:
        """True when every document of ``segment`` with words in ``fieldname`` (a scorable field) is readable,
        so the segment's own term statistics are the viewer's."""
        key = (segment.id, fieldname)
        covered = self._covered.get(key)
        if covered is None:
            local = self.readable[offset:offset + segment.size]
            covered = bool(local.all()) or not segment.field_lengths(reader, fieldname)[~local].any()
            self._covered[key] = covered
        return covered


class Evaluation:
    """Scores every document of ``searcher`` for a query: a boolean match array and a score array.

    Every document is scored, with the viewer's ``statistics``.
    """

    def __init__(self, searcher: Searcher, cache: PostingsCache, statistics: Statistics,
                 deadline: float | None = None) -> None:
        self.searcher = searcher
        self.cache = cache
        self.statistics = statistics
        self.deadline = deadline
        self.size = searcher.doc_count_all()
        self.leaves = [(cache.segment(sub.reader()), sub, offset) for sub, offset in _leaves(searcher)]
        # (at least one: an empty index has nothing to weigh terms by, and idf must not take log(0))
        self.doc_count = max(1, self.size if statistics.whole_index else statistics.doc_count)
        #: the segments and which of their documents the viewer may read (``PostingsCache.total_frequency``)
        self._readers: tuple[tuple[str, bytes], ...] | None = None
        #: Documents some coordinated group matched on fewer than all of its concepts.
        self.incomplete = np.zeros(self.size, bool)

    def run(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        """(matches, scores) over all documents; raises Deadline when time is up."""
        return self._eval(query)

    def _check_time(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:  # a deadline of now has passed
            raise Deadline()

    def _empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size, bool), np.zeros(self.size, np.float32)

    def _eval(self, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
        self._check_time()
        boost = float(getattr(query, "boost", 1.0))
        if isinstance(query, wq.Term):
            return self._term(query.fieldname, query.text, boost)
        if isinstance(query, wq.Phrase):
            return self._phrase(query, boost)
        if isinstance(query, wq.Every):
            return np.ones(self.size, bool), np.zeros(self.size, np.float32)
        if isinstance(query, wq.Prefix):
            terms = self._expand(query.fieldname, query.text)
            return self._eval(wq.Or([wq.Term(query.fieldname, t) for t in terms], boost=boost))
        if isinstance(query, wq.Not):
            matched, _ = self._eval(query.query)
            return ~matched, np.zeros(self.size, np.float32)
        if isinstance(query, wq.ConstantScoreQuery):
            matched, _ = self._eval(query.child)
            return matched, np.where(matched, np.float32(query.score), np.float32(0))
        if isinstance(query, wq.DisjunctionMax):
            parts = [self._eval(q) for q in query.subqueries]
            if not parts:
                return self._empty()
            matched = np.logical_or.reduce([p[0] for p in parts])
            scores = np.stack([p[1] for p in parts])
            best = scores.max(axis=0)
            return matched, (best + query.tiebreak * (scores.sum(axis=0) - best)) * boost
        if isinstance(query, Coordinated):
            return self._coordinated(query, boost)
        if isinstance(query, wq.And):
            matched, scores = np.ones(self.size, bool), np.zeros(self.size, np.float32)
            for sub in query.subqueries:
                sub_matched, sub_scores = self._eval(sub)
                matched &= sub_matched
                scores += sub_scores
            return matched, np.where(matched, scores * boost, np.float32(0))
        if isinstance(query, wq.Or):
            matched, scores = np.zeros(self.size, bool), np.zeros(self.size, np.float32)
            for sub in query.subqueries:
                sub_matched, sub_scores = self._eval(sub)
                matched |= sub_matched
                scores += sub_scores
            return matched, scores * boost
        raise TypeError(f"cannot evaluate {type(query).__name__}")

    def _coordinated(self, query: Coordinated, boost: float) -> tuple[np.ndarray, np.ndarray]:
        covered, weights = np.zeros(self.size, np.int32), np.zeros(self.size, np.float32)
        scores = np.zeros(self.size, np.float32)
        total = 0.0
        readable = self.statistics.readable
        for sub in query.subqueries:
            sub_matched, sub_scores = self._eval(sub)
            # A concept weighs what a term of its document frequency would (Whoosh's BM25 idf), among
            # the viewer's documents: a rare concept covered counts for more than a common one.
            weight = math.log(self.doc_count / (int(np.count_nonzero(sub_matched & readable)) + 1)) + 1
            total += weight
            covered += sub_matched
            weights += sub_matched * np.float32(weight)
            scores += sub_scores
        matched = covered >= max(1, query.minimum)
        self.incomplete |= matched & (covered < len(query.subqueries))
        coordination = (weights / np.float32(total or 1.0)) ** np.float32(COVERAGE_EXPONENT)
        return matched, np.where(matched, scores * coordination * np.float32(boost), np.float32(0))

    def _term(self, fieldname: str, text: str, boost: float) -> tuple[np.ndarray, np.ndarray]:
        matched, scores = self._empty()
        if fieldname not in self.searcher.schema or not self.size:
            return matched, scores
        postings = self._postings(fieldname, text)
        for _segment, _sub, _ids, _tf, where in postings:
            matched[where] = True
        field = self.searcher.schema[fieldname]
        if not postings or not field.scorable:
            return matched, scores
        average = self._total_length(fieldname) / self.doc_count or 1.0
        weight = np.float32(self._idf(fieldname, text, postings) * boost * getattr(field, "field_boost", 1.0))
        for segment, sub, ids, tf, where in postings:
            lengths = segment.field_lengths(sub.reader(), fieldname)[ids]
            scores[where] += weight * tf * (K1 + 1) / (tf + K1 * ((1 - B) + B * lengths / average))
        return matched, scores

    def _postings(self, fieldname: str, text: str) -> _Postings:
        """Each segment's postings of one term."""
        found: _Postings = []
        for segment, sub, offset in self.leaves:
            ids, tf = self.cache.postings(segment, sub.reader(), fieldname, text)
            if len(ids):
                found.append((segment, sub, ids, tf, ids + offset))
        return found

    def _idf(self, fieldname: str, text: str, postings: _Postings) -> float:
        """Whoosh's BM25F idf of a term, over the viewer's documents."""
        if self.statistics.whole_index:
            return float(self.searcher.idf(fieldname, text))
        readable = self.statistics.readable
        frequency = sum(int(np.count_nonzero(readable[where])) for *_, where in postings)
        return math.log(self.doc_count / (frequency + 1)) + 1

    def _total_length(self, fieldname: str) -> float:
        """The summed length of ``fieldname`` over the viewer's documents."""
        if self.statistics.whole_index:
            return float(self.searcher.field_length(fieldname))
        return self.statistics.total_length(fieldname, self.leaves)

    def _expand(self, fieldname: str, prefix: str) -> list[bytes]:
        """The first MAX_PREFIX_TERMS index words starting with ``prefix`` that the viewer's documents
        hold (words of other documents would take places the viewer's words should have)."""
        if fieldname not in self.searcher.schema:
            return []
        words = self.searcher.reader().expand_prefix(fieldname, prefix)
        if self.statistics.whole_index:
            return list(words)[:MAX_PREFIX_TERMS]
        readable = self.statistics.readable
        held = []
        for word in words:
            self._check_time()
            if any(readable[where].any() for *_, where in self._postings(fieldname, word)):
                held.append(word)
                if len(held) == MAX_PREFIX_TERMS:
                    break
        return held

    def frequency(self, fieldname: str, text: str) -> float:
        """How often ``text`` occurs in ``fieldname`` of the viewer's documents."""
        schema = self.searcher.schema
        if fieldname not in schema:
            return 0.0
        if self.statistics.whole_index:
            return float(self.searcher.reader().frequency(fieldname, text))
        scorable = schema[fieldname].scorable

        def in_segment(segment: _Segment, reader: IndexReader, offset: int) -> float:
            if scorable and self.statistics.covers(segment, reader, offset, fieldname):
                return float(reader.frequency(fieldname, text))  # the same sum, without reading the postings
            ids, tf = self.cache.postings(segment, reader, fieldname, text)
            return float(tf[self.statistics.readable[ids + offset]].sum(dtype=np.float64))

        def in_every_segment() -> float:
            total = 0.0
            for segment, sub, offset in self.leaves:
                self._check_time()
                reader = sub.reader()
                total += self.cache.frequency(segment, self.statistics.fingerprint(segment, offset), fieldname,
                                              text, lambda: in_segment(segment, reader, offset))  # noqa: B023
            return total

        if self._readers is None:
            self._readers = tuple((segment.id, self.statistics.fingerprint(segment, offset))
                                  for segment, _sub, offset in self.leaves)
        return self.cache.total_frequency(self._readers, fieldname, text, in_every_segment)

    def key_terms(self, fieldname: str, text: str, number: int) -> list[str]:
        """The ``number`` words of ``text`` that most set it apart from the viewer's documents.

        Whoosh's ``key_terms_from_text`` (the Bo1 model), with the viewer's document count and
        collection frequencies.
        """
        field = self.searcher.schema[fieldname]
        weights: dict[str, float] = defaultdict(float)
        for btext, _frequency, weight, _value in field.index(text):
            weights[field.from_bytes(btext)] += weight
        top_total = sum(weights.values())
        model = classify.Bo1Model(self.doc_count, self._total_length(fieldname))
        scored = []
        for word, weight in weights.items():
            frequency = self.frequency(fieldname, word)
            if frequency:
                scored.append((model.score(weight, frequency, top_total), word))
        if not scored:
            return []
        norm = model.normalizer(max(score for score, _word in scored), top_total)
        ranked = sorted(((score / norm, word) for score, word in scored), key=lambda pair: (-pair[0], pair[1]))
        return [word for _score, word in ranked[:number]]

    def words_within(self, fieldname: str, word: str, maxdist: int, prefix: int) -> dict[str, float]:
        """The words of ``fieldname`` within ``maxdist`` edits of ``word`` (sharing its first ``prefix``
        letters), each with how often the viewer's documents use it (0: none of them does)."""
        return {candidate: self.frequency(fieldname, candidate)
                for candidate in self.searcher.reader().terms_within(fieldname, word, maxdist, prefix=prefix)}

    def _phrase(self, query: wq.Phrase, boost: float) -> tuple[np.ndarray, np.ndarray]:
        words = list(query.words)
        if len(words) == 1:
            return self._term(query.fieldname, words[0], boost)
        matched, scores = np.ones(self.size, bool), np.zeros(self.size, np.float32)
        for word in words:
            word_matched, word_scores = self._term(query.fieldname, word, boost)
            matched &= word_matched
            scores += word_scores
        if not matched.any():
            return matched, np.zeros(self.size, np.float32)
        exact = np.zeros(self.size, bool)
        for segment, sub, offset in self.leaves:
            local = self.cache.phrase(segment, sub, query)
            exact[local + offset] = True
        matched &= exact
        return matched, np.where(matched, scores, np.float32(0))


def _leaves(searcher: Searcher) -> list[tuple[Searcher, int]]:
    return [(sub, offset) for sub, offset in searcher.leaf_searchers() if sub.reader().segment() is not None]
