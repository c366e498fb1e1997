"""A rebuild written in parts by several processes (``bulk.py``) is the index one process writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from whoosh import index as whoosh_index

from exchange.library import publishing
from exchange.library import vocabularies
from exchange.search import indexing
from exchange.search.backend import SearchRequest
from exchange.search.whoosh import bulk
from tests.conftest import SEARCH_SECONDS

PUBLIC = frozenset({"public"})
#: Words, phrases, other languages, filters, a misspelling and an empty query (newest first).
QUERIES = [SearchRequest(q="flood early warning"), SearchRequest(q='"evacuation centre"'),
           SearchRequest(q="banjir", filters={"country": ["ID"]}), SearchRequest(q="避難所"),
           SearchRequest(q="tsunami", filters={"phase": ["preparedness"]}), SearchRequest(q="evacuaton"),
           SearchRequest(q="heat OR kekeringan"), SearchRequest(q="", filters={"language": ["ja"]})]


def answers(app: Flask) -> list[tuple]:
    """Everything a visitor and partner staff are answered for QUERIES: ids, scores, totals, facets, suggestions."""
    search = app.extensions["exchange"].search
    everyone = frozenset(vocabularies.visibilities().keys())
    return [(r.total, [(h.id, h.score, h.snippet) for h in r.hits], r.facets, r.suggestion)
            for request in QUERIES for viewer in (PUBLIC, everyone)
            for r in [search.search(request, viewer, seconds=SEARCH_SECONDS)]]


def contents(folder: Path) -> tuple[int, str]:
    """The number of segments of the index in ``folder``, and a digest of everything in it by document
    number: stored fields, every term's postings (documents, weights, positions) and the field lengths."""
    reader = whoosh_index.open_dir(str(folder)).reader()
    digest = hashlib.sha256()
    try:
        for docnum in range(reader.doc_count_all()):
            digest.update(repr(sorted(reader.stored_fields(docnum).items())).encode())
        for fieldname, text in reader.all_terms():
            postings = reader.postings(fieldname, text)
            while postings.is_active():
                digest.update(repr((fieldname, text, postings.id(), postings.weight(), postings.value())).encode())
                postings.next()
        for fieldname in sorted(reader.schema.names()):
            digest.update(repr([reader.doc_field_length(d, fieldname) for d in range(reader.doc_count_all())]).encode())
        return len(list(reader.leaf_readers())), digest.hexdigest()
    finally:
        reader.close()


def live(app: Flask) -> Path:
    index = app.extensions["exchange"].search.index
    folder = index.live_folder()
    assert folder is not None
    return folder


def test_a_rebuild_in_parts_is_the_index_one_process_writes(library_app: Flask,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    instance = library_app.extensions["exchange"]
    indexing.rebuild(instance)  # below PARALLEL_FROM: one process
    one_segments, one_process = contents(live(library_app))
    before = answers(library_app)

    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    monkeypatch.setattr(bulk, "processes", lambda: 3)  # three uneven parts, whatever this machine's cores
    count = indexing.rebuild(instance)

    segments, in_parts = contents(live(library_app))
    assert (one_segments, segments) == (1, 3)
    assert in_parts == one_process  # the same documents, numbered alike: every score and tie-break holds
    assert count == len(instance.search.check())
    assert answers(library_app) == before
    assert any(hits for _total, hits, _facets, _suggestion in before)


def test_a_part_that_fails_fails_the_rebuild_and_the_old_index_keeps_serving(
        instance, make_practice, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for n in range(4):
        publishing.publish(instance, make_practice(title=f"Levee patrol {n}", body="Walk the quokkaline levee.\n"),
                           f"levee-{n}", "test")
    old = instance.search.index.live_folder()
    # The last practice's file cannot be read (not a missing file, which is skipped: an error of the disk).
    version_file = instance.store.version_path(sorted(instance.search.check())[-1], 1)
    version_file.unlink()
    version_file.mkdir()
    monkeypatch.setattr(bulk, "PARALLEL_FROM", 1)
    monkeypatch.setattr(bulk, "processes", lambda: 2)

    with pytest.raises(bulk.PartFailed, match="IsADirectoryError"):
        indexing.rebuild(instance)

    assert instance.search.index.live_folder() == old
    hits = instance.search.search(SearchRequest(q="quokkaline", per_page=10), PUBLIC, seconds=SEARCH_SECONDS).hits
    assert len(hits) == 4
    assert instance.search.sweep()  # the failed build's folder, never live, is removed
