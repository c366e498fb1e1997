"""Keeping the search engine in step with the library: the outbox, rebuilds and drift checks.

Every publish adds an outbox row in the same database transaction as the catalogue change. The outbox
is drained into the engine right after the publish, every few seconds by the job runner (``catch_up``),
when a server starts, and after every rebuild, so a crash between saving and indexing is repaired.
An unusable index is rebuilt by the job runner too (``rebuild_soon``), never in a web request. The
engine is ``instance.search``, reached only through the ``SearchBackend`` protocol.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange.jobs import queue as jobs
from exchange.library import vocabularies
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.models import City
from exchange.models import IndexOutbox
from exchange.models import PracticeRecord
from exchange.models import utcnow
from exchange.search.backend import IndexDocument
from exchange.search.backend import IndexUnavailable
from exchange.search.documents import index_document

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: the job runner's kinds: catching up with the outbox (every few seconds), and rebuilding an unusable index
CATCH_UP = "search.catch_up"
REBUILD = "search.rebuild"
CATCH_UP_EVERY_SECONDS = 5.0
KEEP_DONE_ROWS = datetime.timedelta(days=7)


def enqueue(session: Session, practice_id: str) -> None:
    """Ask for ``practice_id`` to be (re)indexed, as part of ``session``'s transaction."""
    session.add(IndexOutbox(practice_id=practice_id))


def _document(instance: Instance, session: Session, practice_id: str) -> IndexDocument | None:
    """The index document for a published practice, or None when it should not be in the index."""
    record = session.get(PracticeRecord, practice_id)
    if record is None:
        return None
    try:
        data = instance.store.read_version(practice_id, record.version)
        return index_document(parse(data, record.slug), hashlib.sha256(data).hexdigest(),
                              _places(session, record.city, record.country))
    except (FileNotFoundError, UnsafePath, InvalidPractice) as error:
        log.warning("cannot index %s: %s", practice_id, error)
        return None


def _places(session: Session, city_slug: str, country: str) -> tuple[str, ...]:
    """A city's and its country's names in our languages, for the index's place field."""
    names = [city_slug]
    city = session.get(City, city_slug)
    if city is not None:
        names += [city.name, city.name_en or "", city.name_id or "", city.name_ja or ""]
    names += [vocabularies.country_name(country, language) for language in vocabularies.UI_LANGUAGES]
    return tuple(dict.fromkeys(n for n in names if n))


def index_now(instance: Instance) -> None:
    """Make a publish searchable now; if the index cannot take it, the outbox keeps it for later."""
    try:
        instance.search.verify()
    except IndexUnavailable:
        return  # the first search or 'exchange init' builds the index from the library
    try:
        drain(instance)
    except Exception as error:
        log.warning("indexing after publish deferred to the outbox: %r", error)


def drain(instance: Instance) -> int:
    """Apply every pending outbox row to the live index; the number of practices updated."""
    with instance.db.session() as session:
        rows = session.execute(sa.select(IndexOutbox.id, IndexOutbox.practice_id)
                               .where(IndexOutbox.done_at.is_(None)).order_by(IndexOutbox.id)).all()
    if not rows:
        return 0
    practice_ids = list(dict.fromkeys(pid for _, pid in rows))
    with instance.db.session() as session:
        instance.search.update(practice_ids, lambda practice_id: _document(instance, session, practice_id))
    last = rows[-1][0]
    with instance.db.writing() as session:
        session.execute(sa.update(IndexOutbox).where(IndexOutbox.id <= last, IndexOutbox.done_at.is_(None))
                        .values(done_at=utcnow()))
        session.execute(sa.delete(IndexOutbox).where(IndexOutbox.done_at < utcnow() - KEEP_DONE_ROWS))
    log.info("indexed %d practices from the outbox", len(practice_ids))
    return len(practice_ids)


def rebuild(instance: Instance, wait: bool = True) -> int:
    """Build a fresh index beside the live one and swap it in; the number of practices indexed.

    Searches keep answering from the old index meanwhile. Practices published during the build are
    replayed from the outbox after the swap, so none is lost. Raises ReindexRunning when another
    rebuild is under way and ``wait`` is false.
    """
    replay_after: list[int] = []  # the last outbox row the rebuild's list of practices includes

    def documents() -> Iterator[IndexDocument]:
        with instance.db.session() as session:
            replay_after.append(session.scalar(sa.select(sa.func.max(IndexOutbox.id))) or 0)
            practice_ids = list(session.scalars(sa.select(PracticeRecord.id).order_by(PracticeRecord.id)))
            for practice_id in practice_ids:
                document = _document(instance, session, practice_id)
                if document is not None:
                    yield document

    count = instance.search.rebuild(documents, wait=wait)
    if replay_after:
        with instance.db.writing() as session:
            session.execute(sa.update(IndexOutbox).where(IndexOutbox.id > replay_after[0]).values(done_at=None))
    drain(instance)
    log.info("rebuilt the search index: %d practices", count)
    return count


def sweep_abandoned(instance: Instance) -> list[str]:
    """Remove what killed rebuilds left behind (unless a rebuild is running now)."""
    return instance.search.sweep()


def catch_up(instance: Instance) -> int:
    """Apply the outbox to the index, or ask for a rebuild when the index is unusable; the practices updated.

    The job runner does this every CATCH_UP_EVERY_SECONDS, for what was published without being
    indexed at once (``exchange import`` elsewhere, a crash between saving and indexing).
    """
    try:
        instance.search.verify()
    except IndexUnavailable:
        rebuild_soon(instance)
        return 0
    return drain(instance)


def rebuild_soon(instance: Instance) -> None:
    """Ask the job runner to rebuild the index (it is unusable): one job, however often this is asked first.

    It reads before it writes, so that searches meeting a broken index write nothing while the rebuild
    waits for the runner.
    """
    with instance.db.session() as session:
        if jobs.pending(session, REBUILD):
            return
    log.warning("search index unusable: a rebuild is queued for the job runner")
    with instance.db.writing() as session:
        jobs.enqueue(session, REBUILD, key=REBUILD)
