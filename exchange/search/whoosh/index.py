"""The index on disk: which folder is live, one writer at a time, searchers reused across queries.

``index/CURRENT`` names the live folder. A rebuild writes a new folder beside it and swaps the pointer
atomically, so searches keep answering from the old folder until the swap, and a rebuild killed midway
leaves only a folder that nothing points to (swept on the next start).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from exchange.library import vocabularies
from exchange.library.storage import write_durably
from exchange.search.backend import FACETS
from exchange.search.backend import MULTI_VALUED_FACETS
from exchange.search.backend import IndexUnavailable
from exchange.search.whoosh.evaluation import PostingsCache
from exchange.search.whoosh.evaluation import Statistics
from exchange.search.whoosh.schema import SCHEMA_VERSION
from exchange.search.whoosh.schema import build_schema

log = logging.getLogger(__name__)

POINTER = "CURRENT"
#: More segments than this and a single-document commit also merges the small ones.
MAX_SEGMENTS = 12
#: Idle searchers kept for reuse (one per concurrently searching thread is enough).
POOL_SIZE = 8


SINGLE_FACETS = tuple(facet for facet in FACETS if facet not in MULTI_VALUED_FACETS)
MULTI_FACETS = MULTI_VALUED_FACETS


class Vocabulary:
    """Facet values numbered in order of first sight; numbers never change, so arrays stay valid."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


@dataclass
class _SegmentValues:
    """Stored values of every document of one segment (deleted ones too: segments never change)."""

    ids: list[str]
    groups: list[str]
    languages: list[str]
    visibility: np.ndarray
    published: np.ndarray
    revised: np.ndarray
    single: dict[str, np.ndarray]
    multi: dict[str, list[tuple[int, ...]]]


@dataclass
class FacetCache:
    """Per-document values of one searcher generation, as arrays over document numbers."""

    size: int
    live: np.ndarray
    ids: list[str]
    groups: list[str]
    languages: list[str]
    group_codes: np.ndarray
    visibility: np.ndarray
    visibility_codes: dict[str, int]
    published: np.ndarray
    #: when the library received each document's current version (``documents.microseconds``)
    revised: np.ndarray
    single: dict[str, np.ndarray]
    multi: dict[str, np.ndarray]
    vocabularies: dict[str, Vocabulary]
    #: documents whose translation group has no other document (counted as they are)
    alone: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    _masks: dict[frozenset[str], np.ndarray] = field(default_factory=dict)
    _statistics: dict[frozenset[str], Statistics] = field(default_factory=dict)

    def readable(self, visibilities: frozenset[str]) -> np.ndarray:
        """Live documents whose visibility is one of ``visibilities``."""
        mask = self._masks.get(visibilities)
        if mask is None:
            wanted = [self.visibility_codes[v] for v in visibilities if v in self.visibility_codes]
            mask = self.live & np.isin(self.visibility, wanted)
            self._masks[visibilities] = mask
        return mask

    def statistics(self, visibilities: frozenset[str]) -> Statistics:
        """The collection statistics to score with for a viewer who may read ``visibilities``: the whole
        index's when that is every visibility, else those of the readable documents alone."""
        statistics = self._statistics.get(visibilities)
        if statistics is None:
            whole_index = visibilities >= frozenset(vocabularies.visibilities().keys())
            statistics = self._statistics[visibilities] = Statistics(self.readable(visibilities), whole_index)
        return statistics

    def having(self, facet: str, values: list[str]) -> np.ndarray:
        """Documents with any of ``values`` for ``facet``."""
        vocabulary = self.vocabularies[facet]
        codes = [vocabulary.codes[v] for v in values if v in vocabulary.codes]
        if facet in self.multi:
            matrix = self.multi[facet]
            codes = [c for c in codes if c < matrix.shape[1]]
            return np.asarray(matrix[:, codes].any(axis=1)) if codes else np.zeros(self.size, bool)
        return np.isin(self.single[facet], codes)

    def group_counts(self, facet: str, docs: np.ndarray) -> dict[str, int]:
        """For each value of ``facet``: how many translation groups among ``docs`` (a mask) have it."""
        values = self.vocabularies[facet].values
        # A practice with no translation is a group of its own: its values are counted as they are, in one
        # pass; only the few with translations are counted by group.
        alone, grouped = docs & self.alone, docs & ~self.alone
        if facet in self.multi:
            matrix = self.multi[facet]
            found = matrix[alone].sum(axis=0)
            for code in np.flatnonzero(matrix[grouped].any(axis=0)).tolist():
                found[code] += len(np.unique(self.group_codes[grouped & matrix[:, code]]))
        else:
            codes = self.single[facet]
            found = np.bincount(codes[alone], minlength=len(values))
            pairs = np.unique(self.group_codes[grouped].astype(np.int64) * (len(values) + 1) + codes[grouped])
            found[:len(values)] += np.bincount(pairs % (len(values) + 1), minlength=len(values))[:len(values)]
        return {values[c]: int(n) for c, n in enumerate(found[:len(values)].tolist()) if n}


class SearchIndex:
    """The Whoosh index of one instance, kept in ``<instance>/index``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._idle: list[tuple[Path | None, Searcher]] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._caches: dict[tuple[str, int], FacetCache] = {}
        self._segments: dict[str, _SegmentValues] = {}
        self._vocabularies = {name: Vocabulary() for name in (*SINGLE_FACETS, *MULTI_FACETS, "visibility")}
        self._postings: dict[str, PostingsCache] = {}
        self._cache_lock = threading.Lock()

    # Where the live index is ------------------------------------------------------------------
    def live_folder(self) -> Path | None:
        """The folder the pointer names, if any."""
        try:
            name = (self.root / POINTER).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        if not name or "/" in name or name.startswith("."):
            return None
        return self.root / name

    def open(self) -> Index:
        """The live index; IndexUnavailable when it is missing or unreadable."""
        folder = self.live_folder()
        if folder is None or not folder.is_dir():
            raise IndexUnavailable("no search index has been built")
        version_file = folder / "SCHEMA_VERSION"
        if not version_file.is_file() or version_file.read_text().strip() != str(SCHEMA_VERSION):
            raise IndexUnavailable("the search index was built by another version and must be rebuilt")
        try:
            index = whoosh_index.open_dir(str(folder))
            if index.schema.names() != build_schema().names() or index.doc_count_all() < 0:
                raise IndexUnavailable("the search index was built with another schema")
            return index
        except IndexUnavailable:
            raise
        except Exception as error:  # Whoosh raises many kinds of errors for damaged files
            log.warning("search index at %s is unusable: %r", folder, error)
            raise IndexUnavailable(f"the search index is damaged: {error}") from error

    # Building and swapping --------------------------------------------------------------------
    def new_folder(self) -> Path:
        """An empty index in a new folder beside the live one (not yet live)."""
        self.root.mkdir(parents=True, exist_ok=True)
        folder = self.root / f"build-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        whoosh_index.create_in(str(folder), build_schema())
        (folder / "SCHEMA_VERSION").write_text(str(SCHEMA_VERSION))
        return folder

    def swap(self, folder: Path) -> None:
        """Make ``folder`` the live index; searches switch on their next query.

        The previous folder stays until the next sweep (next start or rebuild): a query that began
        on it just before the swap can still finish.
        """
        write_durably(self.root / POINTER, folder.name.encode())
        log.info("search index swapped to %s", folder.name)

    def sweep(self) -> list[str]:
        """Remove folders the pointer does not name (left by killed rebuilds); their names."""
        if not self.root.is_dir():
            return []
        live = self.live_folder()
        removed = []
        for entry in self.root.iterdir():
            if entry.is_dir() and entry != live:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        if removed:
            log.info("removed abandoned index folders %s", removed)
        return removed

    def building(self, folder: Path) -> Index:
        """The not yet live index in ``folder``, for the one rebuild that made it (see ``new_folder``).

        Not under the single-writer lock: updates keep going to the live index meanwhile (the outbox
        replays them into the new one once it is swapped in), and only the swap waits for them.
        """
        return whoosh_index.open_dir(str(folder))

    # One writer ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self, folder: Path | None = None) -> Iterator[Index]:
        """Hold the single-writer lock (threads and processes) for the live index or ``folder``."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._write_lock, open(self.root / "writer.lock", "a+") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield whoosh_index.open_dir(str(folder)) if folder else self.open()
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    # Reading ---------------------------------------------------------------------------------
    def searcher(self) -> Searcher:
        """A new searcher over the live index; the caller closes it."""
        return self.open().searcher()

    @contextlib.contextmanager
    def searching(self) -> Iterator[Searcher]:
        """A searcher for this caller alone, reused from a small pool while the index is unchanged.

        A changed index gets a new searcher, not ``searcher.refresh()``: refreshed segment readers
        miss new deletions.
        """
        folder = self.live_folder()
        searcher = None
        with self._pool_lock:
            while self._idle and searcher is None:
                idle_folder, candidate = self._idle.pop()
                if idle_folder == folder and _current(candidate):
                    searcher = candidate
                else:
                    candidate.close()
        if searcher is None:
            searcher = self.searcher()
        try:
            yield searcher
        finally:
            with self._pool_lock:
                if len(self._idle) < POOL_SIZE and self.live_folder() == folder:
                    self._idle.append((folder, searcher))
                else:
                    searcher.close()

    def facet_cache(self, searcher: Searcher) -> FacetCache:
        """Per-document values for ``searcher``'s generation, shared by all threads.

        Each segment is read once (segments never change); a publish adds one small segment, so a
        new generation costs a read of that segment and a concatenation, not a read of the index.
        """
        key = (str(searcher._ix.storage.folder), searcher.ixreader.generation())
        with self._cache_lock:
            cache = self._caches.get(key)
        if cache is not None:
            return cache
        parts, live = [], []
        for reader, _offset in _leaf_readers(searcher):
            parts.append(self._segment_values(reader))
            alive = np.ones(reader.doc_count_all(), bool)
            if reader.has_deletions():
                alive[list(reader.deleted_docs_set)] = False
            live.append(alive)
        cache = self._assemble(parts, live)
        with self._cache_lock:
            self._caches = {k: v for k, v in self._caches.items() if k[0] != key[0]}
            self._caches[key] = cache
        return cache

    def _assemble(self, parts: list[_SegmentValues], live: list[np.ndarray]) -> FacetCache:
        ids = [i for p in parts for i in p.ids]
        groups = [g for p in parts for g in p.groups]
        group_index: dict[str, int] = {}
        group_codes = np.fromiter((group_index.setdefault(g, len(group_index)) for g in groups), np.int32, len(groups))
        size = len(ids)

        def joined(arrays: list[np.ndarray], dtype: npt.DTypeLike) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype)

        multi = {}
        for facet in MULTI_FACETS:
            matrix = np.zeros((size, len(self._vocabularies[facet].values)), bool)
            row = 0
            for part in parts:
                for codes in part.multi[facet]:
                    matrix[row, list(codes)] = True
                    row += 1
            multi[facet] = matrix
        return FacetCache(
            size=size, live=joined(live, bool), ids=ids, groups=groups,
            languages=[language for p in parts for language in p.languages], group_codes=group_codes,
            visibility=joined([p.visibility for p in parts], np.int32),
            visibility_codes=dict(self._vocabularies["visibility"].codes),
            published=joined([p.published for p in parts], np.int32),
            revised=joined([p.revised for p in parts], np.int64),
            single={f: joined([p.single[f] for p in parts], np.int32) for f in SINGLE_FACETS},
            multi=multi, vocabularies=self._vocabularies,
            alone=np.bincount(group_codes, minlength=len(group_index))[group_codes] == 1 if size else np.zeros(0, bool))

    def _segment_values(self, reader: IndexReader) -> _SegmentValues:
        key = reader.segment().segment_id()
        with self._cache_lock:
            cached = self._segments.get(key)
        if cached is not None:
            return cached
        vocab = self._vocabularies
        count = reader.doc_count_all()
        ids, groups, languages = [""] * count, [""] * count, [""] * count
        visibility = np.full(count, -1, np.int32)
        published = np.zeros(count, np.int32)
        revised = np.zeros(count, np.int64)
        single = {f: np.full(count, -1, np.int32) for f in SINGLE_FACETS}
        multi: dict[str, list[tuple[int, ...]]] = {f: [()] * count for f in MULTI_FACETS}
        stored_fields = reader.stored_fields
        with self._cache_lock:  # vocabularies are shared: number new values one thread at a time
            for local in range(count):
                stored = stored_fields(local)
                ids[local], groups[local] = stored["id"], stored["group"]
                languages[local] = stored["card"]["language"]
                visibility[local] = vocab["visibility"].code(stored["visibility"])
                published[local] = stored["published"]
                revised[local] = stored["revised"]
                found: dict[str, list[int]] = {f: [] for f in MULTI_FACETS}
                for facet, value in stored.get("facets", ()):
                    if facet in single:
                        single[facet][local] = vocab[facet].code(value)
                    else:
                        found[facet].append(vocab[facet].code(value))
                for facet in MULTI_FACETS:
                    multi[facet][local] = tuple(found[facet])
            values = _SegmentValues(ids, groups, languages, visibility, published, revised, single, multi)
            self._segments[key] = values
        return values

    def postings_cache(self, searcher: Searcher) -> PostingsCache:
        """The postings arrays of ``searcher``'s index folder, dropping segments merged away."""
        folder = str(searcher._ix.storage.folder)
        with self._cache_lock:
            cache = self._postings.get(folder)
            if cache is None:
                cache = PostingsCache()
                # A folder's first query (the warm-up's, at start; the first after a rebuild) reads every
                # field's lengths, so that later ones do not each pay for the first term found in a field.
                cache.read_field_lengths(searcher)
                self._postings = {folder: cache}
            live_segments = {r.segment().segment_id() for r, _ in _leaf_readers(searcher)}
            self._segments = {k: v for k, v in self._segments.items() if k in live_segments}
        cache.forget_segments_except(live_segments)
        return cache

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: S110 - interpreter shutdown: nothing left to tidy
            pass

    def close(self) -> None:
        """Close the pooled searchers."""
        with self._pool_lock:
            for _folder, searcher in self._idle:
                searcher.close()
            self._idle = []


def commit_small(writer: IndexWriter) -> None:
    """Commit a few documents quickly: merge segments only once there are many."""
    from whoosh.writing import MERGE_SMALL

    if len(writer.segments) > MAX_SEGMENTS:
        writer.commit(mergetype=MERGE_SMALL)
    else:
        writer.commit(merge=False)


def _leaf_readers(searcher: Searcher) -> list:
    """The segment readers of ``searcher`` with their document offsets (none for an empty index)."""
    return [(reader, offset) for reader, offset in searcher.ixreader.leaf_readers() if reader.segment() is not None]


def _current(searcher: Searcher) -> bool:
    try:
        return bool(searcher.up_to_date())
    except Exception:  # a swapped or damaged folder: open a new searcher
        return False
