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

from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.searching import Searcher

from exchange.search.schema import SCHEMA_VERSION
from exchange.search.schema import build_schema
from exchange.storage import write_durably

log = logging.getLogger(__name__)

POINTER = "CURRENT"
#: More segments than this and a single-document commit also merges the small ones.
MAX_SEGMENTS = 12


class IndexUnavailable(RuntimeError):
    """There is no usable index (missing, damaged, or of an older schema); search must degrade."""


@dataclass
class FacetCache:
    """Per-document values read once per searcher generation: facets, group, id, visibility."""

    facets: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    ids: dict[int, str] = field(default_factory=dict)
    visibility: dict[int, str] = field(default_factory=dict)
    languages: dict[int, str] = field(default_factory=dict)
    published: dict[int, int] = field(default_factory=dict)
    #: translation group → (id, language, visibility) of each member
    members: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)


class SearchIndex:
    """The Whoosh index of one instance, kept in ``<instance>/index``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._caches: dict[tuple[str, int], FacetCache] = {}
        self._segments: dict[tuple[str, int], dict[int, tuple]] = {}
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

    def exists(self) -> bool:
        folder = self.live_folder()
        return folder is not None and whoosh_index.exists_in(str(folder))

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
        """Make ``folder`` the live index; searches switch on their next query."""
        previous = self.live_folder()
        write_durably(self.root / POINTER, folder.name.encode())
        log.info("search index swapped to %s", folder.name)
        if previous is not None and previous != folder:
            shutil.rmtree(previous, ignore_errors=True)

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
        """This thread's searcher, refreshed when the index changed or was swapped."""
        folder = self.live_folder()
        state = getattr(self._local, "state", None)
        if state is not None and state[0] == folder:
            searcher = state[1]
            try:
                if not searcher.up_to_date():
                    searcher = searcher.refresh()
                    self._local.state = (folder, searcher)
                return searcher
            except Exception as error:
                log.warning("refreshing the searcher failed: %r", error)
        index = self.open()
        searcher = index.searcher()
        self._local.state = (folder, searcher)
        return searcher

    def facet_cache(self, searcher: Searcher) -> FacetCache:
        """Stored per-document values for ``searcher``'s generation, shared by all threads.

        Values are read once per segment (and again only when the segment gains deletions), so a
        publish that adds one small segment costs a read of that segment, not of the whole index.
        """
        key = (str(searcher._ix.storage.folder), searcher.ixreader.generation())
        with self._cache_lock:
            cache = self._caches.get(key)
        if cache is not None:
            return cache
        cache = FacetCache()
        for reader, offset in searcher.ixreader.leaf_readers():
            part = self._segment_cache(reader)
            for local, values in part.items():
                docnum = offset + local
                cache.facets[docnum], cache.groups[docnum], cache.ids[docnum], cache.visibility[docnum], \
                    cache.languages[docnum], cache.published[docnum] = values
                cache.members.setdefault(values[1], []).append((values[2], values[4], values[3]))
        with self._cache_lock:
            self._caches = {k: v for k, v in self._caches.items() if k[0] != key[0]}
            self._caches[key] = cache
        return cache

    def _segment_cache(self, reader) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
        segment = reader.segment()
        key = (segment.segment_id(), segment.deleted_count())
        with self._cache_lock:
            cached = self._segments.get(key)
        if cached is not None:
            return cached
        part = {}
        for local, stored in reader.iter_docs():
            part[local] = (tuple(tuple(pair) for pair in stored.get("facets", ())), stored["group"], stored["id"],
                           stored["visibility"], stored["card"]["language"], stored["published"])
        with self._cache_lock:
            self._segments = {k: v for k, v in self._segments.items() if k[0] != key[0]}
            self._segments[key] = part
        return part

    def close(self) -> None:
        state = getattr(self._local, "state", None)
        if state is not None:
            state[1].close()
            self._local.state = None


def commit_small(writer) -> None:  # type: ignore[no-untyped-def]
    """Commit a few documents quickly: merge segments only once there are many."""
    from whoosh.writing import MERGE_SMALL

    if len(writer.segments) > MAX_SEGMENTS:
        writer.commit(mergetype=MERGE_SMALL)
    else:
        writer.commit(merge=False)
