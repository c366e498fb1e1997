"""Keeping the search engine in step with the library: the outbox, rebuilds and drift checks.

Every publish adds an outbox row in the same database transaction as the catalogue change. The outbox
is drained into the engine right after the publish, every few seconds by the job runner (``catch_up``),
when a server starts, and after every rebuild, so a crash between saving and indexing is repaired.
An unusable index is rebuilt by the job runner too (``rebuild_soon``), never in a web request. The
engine is ``instance.search``, reached only through the ``SearchBackend`` protocol.

Several nodes may share one database, each with an index of its own (``instance.node``): every node
applies every outbox row and records which it applied (``OutboxApplied``: the exact rows read, never "up
to an id", since on PostgreSQL a smaller id may commit after a larger one). A row is marked done once
every known node (``IndexNode``) has applied it, and pruned KEEP_DONE_ROWS later; a row some node has
not applied is pruned after RETENTION anyway, and that node, marked behind, rebuilds its index. The
catch-up and rebuild jobs are the node's own (``queue.for_node``): only its runner takes them.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from exchange.jobs import queue as jobs
from exchange.library import vocabularies
from exchange.library.practice import InvalidPractice
from exchange.library.practice import parse
from exchange.library.storage import LibraryStore
from exchange.library.storage import UnsafePath
from exchange.models import City
from exchange.models import IndexNode
from exchange.models import IndexOutbox
from exchange.models import OutboxApplied
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
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
#: how long a row is kept for a node that has not applied it (one stopped, or gone for good)
RETENTION = datetime.timedelta(days=7)
#: rows marked applied per statement (SQLite takes at most 32,766 values in one)
MARKS_AT_ONCE = 1000


def enqueue(session: Session, practice_id: str) -> None:
    """Ask for ``practice_id`` to be (re)indexed, as part of ``session``'s transaction."""
    session.add(IndexOutbox(practice_id=practice_id))


def _document(instance: Instance, session: Session, practice_id: str) -> IndexDocument | None:
    """The index document for a published practice, or None when it should not be in the index."""
    record = session.get(PracticeRecord, practice_id)
    if record is None:
        return None
    places = _places(session.get(City, record.city), record.city, record.country)
    current = session.get(PracticeVersion, (practice_id, record.version))
    if current is None:  # a catalogue row without its version row: nothing says when it was received
        log.warning("cannot index %s: version %d is not recorded", practice_id, record.version)
        return None
    return _read(instance.store, _Source(practice_id, record.slug, record.version, current.published_at, places))


class _Source(NamedTuple):
    """What a practice's index document is made from besides its file."""

    practice_id: str
    slug: str
    version: int
    #: when the library received that version
    revised: datetime.datetime
    places: tuple[str, ...]


def _read(store: LibraryStore, source: _Source) -> IndexDocument | None:
    """The index document of ``source``'s published version, or None (logged) when its file cannot be indexed."""
    try:
        data = store.read_version(source.practice_id, source.version)
        return index_document(parse(data, source.slug), hashlib.sha256(data).hexdigest(), source.places,
                              version=source.version, revised=source.revised)
    except (FileNotFoundError, UnsafePath, InvalidPractice) as error:
        log.warning("cannot index %s: %s", source.practice_id, error)
        return None


def _places(city: City | None, city_slug: str, country: str) -> tuple[str, ...]:
    """A city's and its country's names in our languages, for the index's place field."""
    names = [city_slug]
    if city is not None:
        names += [city.name, city.name_en or "", city.name_id or "", city.name_ja or ""]
    names += [vocabularies.country_name(country, language) for language in vocabularies.UI_LANGUAGES]
    return tuple(dict.fromkeys(n for n in names if n))


@dataclass
class PracticeDocuments:
    """The index documents of every published practice, made from their files as they are asked for.

    The catalogue is read once, up front (``listed``); making the documents reads only files, so an
    engine may make them in parts in other processes (``DocumentParts``).
    """

    store: LibraryStore
    sources: list[_Source]

    @classmethod
    def listed(cls, store: LibraryStore, session: Session) -> PracticeDocuments:
        """The published practices of the catalogue, in id order, with their cities' names."""
        cities = {city.slug: city for city in session.scalars(sa.select(City))}
        rows = session.execute(sa.select(PracticeRecord.id, PracticeRecord.slug, PracticeRecord.version,
                                         PracticeVersion.published_at, PracticeRecord.city, PracticeRecord.country)
                               .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                                              PracticeVersion.version == PracticeRecord.version))
                               .order_by(PracticeRecord.id)).all()
        return cls(store, [_Source(row.id, row.slug, row.version, row.published_at,
                                   _places(cities.get(row.city), row.city, row.country)) for row in rows])

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self) -> Iterator[IndexDocument]:
        return self.part(0, len(self.sources))

    def part(self, start: int, stop: int) -> Iterator[IndexDocument]:
        """The documents of sources ``start`` to ``stop``, in order (none for a file that cannot be indexed)."""
        for source in self.sources[start:stop]:
            document = _read(self.store, source)
            if document is not None:
                yield document


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
    """Apply every outbox row this node has not applied to its index; the number of practices updated."""
    with instance.db.session() as session:
        rows = session.execute(sa.select(IndexOutbox.id, IndexOutbox.practice_id)
                               .where(pending_condition(instance.node)).order_by(IndexOutbox.id)).all()
    if not rows:
        return 0
    practice_ids = list(dict.fromkeys(pid for _, pid in rows))
    with instance.db.session() as session:
        instance.search.update(practice_ids, lambda practice_id: _document(instance, session, practice_id))
    with instance.db.writing() as session:
        _record_applied(session, instance.node, [outbox_id for outbox_id, _ in rows])
        _settle(session)
    log.info("indexed %d practices from the outbox", len(practice_ids))
    return len(practice_ids)


def behind(instance: Instance) -> bool:
    """Whether outbox rows this node never applied were pruned (after RETENTION): its index needs a rebuild."""
    with instance.db.session() as session:
        return bool(session.scalar(sa.select(IndexNode.behind).where(IndexNode.node == instance.node)))


def pending(instance: Instance) -> int:
    """How many outbox rows this node's index has yet to apply (its lag)."""
    with instance.db.session() as session:
        return session.execute(sa.select(sa.func.count()).select_from(IndexOutbox)
                               .where(pending_condition(instance.node))).scalar_one()


def pending_condition(node: str) -> sa.ColumnElement[bool]:
    """Outbox rows ``node`` has yet to apply (for a query over ``IndexOutbox``)."""
    return ~sa.exists().where(OutboxApplied.node == node, OutboxApplied.outbox_id == IndexOutbox.id)


def _record_applied(session: Session, node: str, outbox_ids: list[int]) -> None:
    """Mark ``outbox_ids`` applied by ``node`` and say the node was seen (registering it if new)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(outbox_ids), MARKS_AT_ONCE):
        session.execute(insert(OutboxApplied).values([{"node": node, "outbox_id": outbox_id}
                                                      for outbox_id in outbox_ids[start:start + MARKS_AT_ONCE]])
                        .on_conflict_do_nothing(index_elements=["node", "outbox_id"]))
    session.execute(insert(IndexNode).values(node=node, seen_at=utcnow(), behind=False)
                    .on_conflict_do_update(index_elements=["node"], set_={"seen_at": utcnow()}))


def _settle(session: Session) -> None:
    """Mark done the rows every known node has applied; prune done rows after KEEP_DONE_ROWS, and rows
    some node has not applied after RETENTION (marking that node behind, so that it rebuilds)."""
    now = utcnow()
    # correlated by hand: each node (IndexNode) against each row (IndexOutbox) of the enclosing statement
    applied = (sa.select(OutboxApplied.outbox_id).where(OutboxApplied.node == IndexNode.node,
                                                         OutboxApplied.outbox_id == IndexOutbox.id)
               .correlate_except(OutboxApplied).exists())
    missing = sa.select(IndexNode.node).where(~applied).correlate_except(IndexNode).exists()
    session.execute(sa.update(IndexOutbox).where(IndexOutbox.done_at.is_(None), ~missing).values(done_at=now))
    expired = sa.and_(IndexOutbox.done_at.is_(None), IndexOutbox.enqueued_at < now - RETENTION)
    unapplied = sa.select(IndexOutbox.id).where(expired, ~applied).correlate_except(IndexOutbox).exists()
    behind = list(session.scalars(sa.select(IndexNode.node).where(unapplied)))
    if behind:
        log.warning("outbox rows not applied by %s for %s: pruned; those nodes rebuild their index",
                    ", ".join(behind), RETENTION)
        session.execute(sa.update(IndexNode).where(IndexNode.node.in_(behind)).values(behind=True))
    gone = sa.select(IndexOutbox.id).where(sa.or_(IndexOutbox.done_at < now - KEEP_DONE_ROWS,
                                                  IndexOutbox.enqueued_at < now - RETENTION))
    gone_ids = list(session.scalars(gone))
    for start in range(0, len(gone_ids), MARKS_AT_ONCE):
        some = gone_ids[start:start + MARKS_AT_ONCE]
        session.execute(sa.delete(OutboxApplied).where(OutboxApplied.outbox_id.in_(some)))
        session.execute(sa.delete(IndexOutbox).where(IndexOutbox.id.in_(some)))


def rebuild(instance: Instance, wait: bool = True) -> int:
    """Build a fresh index beside the live one and swap it in; the number of practices indexed.

    Searches keep answering from the old index meanwhile. Practices published during the build are
    replayed from the outbox after the swap, so none is lost. Raises ReindexRunning when another
    rebuild is under way and ``wait`` is false.
    """
    covered: list[list[int]] = []  # the outbox rows committed before the rebuild listed the practices

    def documents() -> PracticeDocuments:
        with instance.db.session() as session:
            covered.append(list(session.scalars(sa.select(IndexOutbox.id))))
            return PracticeDocuments.listed(instance.store, session)

    count = instance.search.rebuild(documents, wait=wait)
    if covered:
        with instance.db.writing() as session:
            # The new index holds what those rows asked for; the rest (published since) is replayed below.
            session.execute(sa.delete(OutboxApplied).where(OutboxApplied.node == instance.node))
            _record_applied(session, instance.node, covered[0])
            session.execute(sa.update(IndexNode).where(IndexNode.node == instance.node).values(behind=False))
            # rows every node has now applied are done: a first build after 'exchange init' left all of a
            # seeded library's rows waiting until the next publish, and alerts of them waiting with them
            _settle(session)
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
    if behind(instance):
        log.warning("node %s missed outbox rows pruned after %s: its index is rebuilt", instance.node, RETENTION)
        rebuild_soon(instance)
    return drain(instance)


def rebuild_soon(instance: Instance) -> None:
    """Ask the job runner to rebuild the index (it is unusable): one job, however often this is asked first.

    It reads before it writes, so that searches meeting a broken index write nothing while the rebuild
    waits for the runner.
    """
    kind = jobs.for_node(REBUILD, instance.node)
    with instance.db.session() as session:
        if jobs.pending(session, kind):
            return
    log.warning("search index of node %s unusable: a rebuild is queued for its job runner", instance.node)
    with instance.db.writing() as session:
        jobs.enqueue(session, kind, key=kind)
