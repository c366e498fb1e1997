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
from dataclasses import dataclass
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
from exchange.models import PracticeVersion
from exchange.models import Submission
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


@dataclass(frozen=True)
class Drift:
    """One disagreement between library files, database and index."""

    kind: str
    practice_id: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind:<24} {self.practice_id}" + (f"  ({self.detail})" if self.detail else "")


def check(instance: Instance) -> list[Drift]:
    """Every disagreement between the library files, the catalogue and the index."""
    drifts: list[Drift] = []
    files: dict[str, str] = {}
    for practice_id in instance.store.practice_ids():
        try:
            files[practice_id] = hashlib.sha256(instance.store.read_current(practice_id)).hexdigest()
        except OSError as error:
            drifts.append(Drift("unreadable file", practice_id, str(error)))
    with instance.db.session() as session:
        records = {r.id: r for r in session.scalars(sa.select(PracticeRecord))}
        #: (practice, text digest) of every published version: a current file showing one of them is behind
        published = {(pid, sha): version for pid, version, sha in session.execute(
            sa.select(PracticeVersion.practice_id, PracticeVersion.version, PracticeVersion.sha256))}
        half_approved = list(session.execute(
            sa.select(Submission.id, PracticeVersion.practice_id, PracticeVersion.version)
            .join(PracticeVersion, PracticeVersion.submission_id == Submission.id)
            .where(Submission.status == "submitted")))
    for practice_id, sha in files.items():
        record = records.get(practice_id)
        if record is None:
            drifts.append(Drift("file not in catalogue", practice_id))
        elif record.sha256 != sha and (practice_id, sha) in published:
            drifts.append(Drift("file behind catalogue", practice_id,
                                f"file is v{published[practice_id, sha]}, catalogue has v{record.version}"))
        elif record.sha256 != sha:
            drifts.append(Drift("file changed on disk", practice_id, f"catalogue has v{record.version}"))
    for submission_id, practice_id, version in half_approved:
        drifts.append(Drift("submission left open", practice_id,
                            f"submission {submission_id} was published as v{version}"))
    for practice_id, record in records.items():
        if practice_id not in files:
            drifts.append(Drift("catalogue without file", practice_id))
        newer = [v for v in instance.store.versions(practice_id) if v > record.version]
        if newer:
            drifts.append(Drift("unacknowledged version", practice_id, f"history has v{newer}"))
    try:
        indexed = instance.search.check()
    except Exception as error:  # missing, of another version, or damaged files
        return drifts + [Drift("index unusable", "-", str(error) or type(error).__name__)]
    for practice_id in records:
        if practice_id in files and practice_id not in indexed:
            drifts.append(Drift("missing from index", practice_id))
        elif practice_id in indexed and indexed[practice_id] != records[practice_id].sha256:
            drifts.append(Drift("stale in index", practice_id))
    for practice_id in indexed:
        if practice_id not in records:
            drifts.append(Drift("orphaned in index", practice_id))
    return drifts


def repair(instance: Instance, drifts: list[Drift], actor: str) -> list[str]:
    """Fix what ``check`` found (files are the truth for content); one line per action taken."""
    from exchange.library import publishing
    from exchange.review import submissions

    done: list[str] = []
    if any(d.kind == "index unusable" for d in drifts):
        done.append(f"rebuilt the search index ({rebuild(instance)} practices)")
        drifts = [d for d in drifts if d.kind != "index unusable"]
    for drift in drifts:
        if drift.kind in ("file not in catalogue", "file changed on disk"):
            city, _, slug = drift.practice_id.partition("/")
            try:
                outcome = publishing.publish(instance, instance.store.read_current(drift.practice_id), slug, actor,
                                          note="recorded by exchange check", index=False)
                done.append(f"published {drift.practice_id} as v{outcome.version}")
            except InvalidPractice as error:
                done.append(f"could not publish {drift.practice_id}: {error}")
        elif drift.kind in ("catalogue without file", "file behind catalogue"):
            done.append(publishing.restore_missing_file(instance, drift.practice_id, actor))
        elif drift.kind == "submission left open":
            done += submissions.close_published(instance, drift.practice_id, actor)
        elif drift.kind == "unacknowledged version":
            done.append(publishing.set_aside_unacknowledged(instance, drift.practice_id, actor))
        elif drift.kind in ("missing from index", "stale in index", "orphaned in index"):
            with instance.db.writing() as session:
                enqueue(session, drift.practice_id)
            done.append(f"queued {drift.practice_id} for indexing")
    drain(instance)
    return done
