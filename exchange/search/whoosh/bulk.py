"""Writing a whole new index at once (a rebuild), on every core the machine lends us.

Most of a rebuild's time is pure Python per document (reading and parsing its file, Markdown to plain
text, glossary concepts, analysis, Whoosh's posting pool), so one process keeps one core busy. Given
documents that can be made in parts (``DocumentParts``) and enough of them, each of a few processes
makes a contiguous part of them and writes it as a segment of its own, and the segments are committed
together in the order of the parts: document numbers, and so every score and tie-break, are those a
single process would have given. The index then has one segment per process instead of one; searches
read them as one (statistics are the index's), and later small commits merge them as usual.

Processes are started afresh (``spawn``), not forked: a fork of a server or job runner could inherit
a lock another thread held (MeCab's, logging's) and hang. A part that fails fails the whole build,
with its error; the caller cancels the new folder, which never became live.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Iterable
from collections.abc import Iterator
from multiprocessing.connection import Connection

from whoosh import index as whoosh_index
from whoosh.codec.base import Segment
from whoosh.index import Index
from whoosh.writing import PostingPool
from whoosh.writing import SegmentWriter

from exchange.search.backend import DocumentParts
from exchange.search.backend import IndexDocument
from exchange.search.whoosh.documents import fields

log = logging.getLogger(__name__)

#: Megabytes of postings (as Whoosh estimates them) a writer keeps in memory before it sorts them into a
#: run on disk: a single writer, and each part's (a rebuild of 10,000 practices in two parts peaked at
#: 730 MB, every process together).
LIMIT_MB = 256
PART_LIMIT_MB = 128
#: Fewer documents than this are written in this process: starting processes costs about a second each.
PARALLEL_FROM = 400
#: At most this many processes (each adds a segment and PART_LIMIT_MB of memory).
MAX_PROCESSES = 4


#: Postings pickled together in a sorted run on disk.
RUN_CHUNK = 4096

#: (field name, term bytes, document number, weight, value bytes)
_Posting = tuple[str, bytes, int, float, "bytes | None"]


class PartFailed(RuntimeError):
    """A process writing part of a new index failed (its error is in the message)."""


def processes() -> int:
    """How many processes a large build uses: one per core this process may run on, up to MAX_PROCESSES."""
    return max(1, min(MAX_PROCESSES, len(os.sched_getaffinity(0))))


class _ChunkedPool(PostingPool):
    """Whoosh's posting pool, its sorted runs pickled a few thousand postings at a time.

    Whoosh pickles each posting on its own (a call per posting, each written and read back once per run),
    which was an eighth of a rebuild's time; the same postings in the same order come out either way.
    """

    def add(self, item: _Posting) -> None:
        # Whoosh's own add, less its type assertions: our fields give bytes, and the sizes estimated alike.
        self.fieldnames.add(item[0])
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

    def _write_run(self, f: object, items: Iterable[_Posting]) -> None:
        items = iter(items)
        while chunk := list(itertools.islice(items, RUN_CHUNK)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)  # type: ignore[arg-type]
        f.close()  # type: ignore[attr-defined]

    def _read_run(self, path: str) -> Iterator[_Posting]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


class _Writer(SegmentWriter):
    """A writer of one new segment, with the chunked pool and the segment's field lengths read once.

    Writing the postings asks for the length of the posting's field in its document, per posting, each
    time through the column reader: a tenth of a rebuild. The lengths are the same, read once per field.
    """

    def __init__(self, ix: Index, limitmb: int, lock: bool = True) -> None:
        super().__init__(ix, _lk=lock, limitmb=limitmb, compound=False)
        self.pool = _ChunkedPool(self.temp_storage(), self.newsegment, limitmb=limitmb)

    def _flush_segment(self) -> None:
        # SegmentWriter._flush_segment, with the lengths behind a cache
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        lengths = _FieldLengths(reader, self.docnum - self.docbase) if reader is not None else None
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if reader is not None:
            reader.close()


class _FieldLengths:
    """A segment's per-document field lengths (``doc_field_length``), each field's read in one pass."""

    def __init__(self, reader: object, count: int) -> None:
        self.reader = reader
        self.count = count
        self.fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str) -> int:
        lengths = self.fields.get(fieldname)
        if lengths is None:
            read = self.reader.doc_field_length  # type: ignore[attr-defined]
            lengths = self.fields[fieldname] = [read(doc, fieldname) for doc in range(self.count)]
        return lengths[docnum]


def write(ix: Index, documents: Iterable[IndexDocument]) -> int:
    """Add ``documents`` to the new, empty index ``ix`` and commit; the number of documents written."""
    count = processes()
    if isinstance(documents, DocumentParts) and count > 1 and len(documents) >= PARALLEL_FROM:
        return _write_in_parts(ix, documents, count)
    writer = _Writer(ix, LIMIT_MB)
    written = 0
    try:
        for document in documents:
            writer.add_document(**fields(document))
            written += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return written


def _write_in_parts(ix: Index, documents: DocumentParts, count: int) -> int:
    """Write ``documents`` in ``count`` contiguous parts, each a segment written by a process of its own."""
    size = len(documents)
    bounds = [(size * n // count, size * (n + 1) // count) for n in range(count)]
    # This writer holds the index's lock and commits the parts' segments; the parts write without it.
    writer = _Writer(ix, LIMIT_MB)
    context = multiprocessing.get_context("spawn")
    folder = str(ix.storage.folder)
    workers = []
    try:
        for start, stop in bounds:
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=_write_part, args=(folder, documents, start, stop, sending, os.getpid()),
                                      name=f"index-part-{start}", daemon=True)
            process.start()
            sending.close()  # only the child's copy is left: its exit ends our recv() with EOFError
            workers.append((process, receiving))
        segments, written = [], 0
        for process, receiving in workers:
            segment, part_count, error = _result(process, receiving)
            if error:
                raise PartFailed(f"writing documents of the new search index in {process.name} failed: {error}")
            written += part_count
            if segment is not None:
                segments.append(segment)
        writer._close_segment()  # this writer added nothing of its own
        writer._commit_toc(segments)
        writer._finish()
    except BaseException:
        for process, _receiving in workers:
            if process.is_alive():
                process.kill()
        writer.cancel()
        raise
    finally:
        for process, receiving in workers:
            process.join()
            receiving.close()
    log.info("wrote %d documents in %d processes", written, count)
    return written


def _result(process: multiprocessing.process.BaseProcess, receiving: Connection) -> tuple[Segment | None, int, str]:
    """What a part's process sent: its segment (None when it had no document), its count, or its error."""
    try:
        segment, part_count, error = receiving.recv()
    except EOFError:
        process.join()
        return None, 0, f"it ended without a word (exit code {process.exitcode})"
    return segment, part_count, error


def _write_part(folder: str, documents: DocumentParts, start: int, stop: int, sending: Connection,
                parent: int) -> None:
    """In a process of its own: write documents ``start`` to ``stop`` as one segment of the index in
    ``folder`` and send it back (with the count), or send the error. A part whose parent is gone (a
    killed reindex) stops: its folder will never be live."""
    try:
        ix = whoosh_index.open_dir(folder)
        writer = _Writer(ix, PART_LIMIT_MB, lock=False)
        written = 0
        try:
            for document in documents.part(start, stop):
                if os.getppid() != parent:
                    raise PartFailed("the rebuild that started this part has ended")
                writer.add_document(**fields(document))
                written += 1
            segment = writer._finalize_segment() if written else None
            if segment is None:
                writer._close_segment()
        except BaseException:
            writer._close_segment()
            raise
        sending.send((segment, written, ""))
    except Exception:
        sending.send((None, 0, traceback.format_exc(limit=8)))
    finally:
        sending.close()

