"""The jobs table as a queue: enqueued inside the caller's transaction, claimed safely by several runners.

A job is *queued* (due from ``run_after``), *running* (claimed by one runner until ``lease_until``,
which that runner keeps renewing), *done* or *failed*. A claim takes the oldest due jobs of a kind in one
short transaction: on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, so runners claiming at the same
moment lock different rows and none waits; on SQLite under the write lock (``BEGIN IMMEDIATE``), so
claims happen one after another. A running job whose lease has run out belongs to a runner that stopped
without settling it: it is due again, as a new attempt. Settling a job names the runner that claimed
it, so a runner that lost its claim (stalled past its lease) cannot settle a job another one has taken.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from exchange.db import Database
from exchange.db import rowcount
from exchange.models import Job
from exchange.models import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: how long settled jobs are kept to be looked into before ``purge`` deletes them
KEEP_DONE = datetime.timedelta(days=7)
KEEP_FAILED = datetime.timedelta(days=30)
#: the most of an error message kept with a job
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Claimed:
    """A job a runner has claimed: what to do, and which attempt this is (1 for the first)."""

    id: int
    kind: str
    payload: dict
    attempt: int


def for_node(kind: str, node: str) -> str:
    """The name of ``kind`` when it is one node's own (its search index's upkeep): only that node's runner
    claims it."""
    return f"{kind}@{node}"


def enqueue(session: Session, kind: str, payload: Mapping | None = None, *, key: str | None = None,
            run_after: datetime.datetime | None = None) -> int | None:
    """Add a job in ``session``'s transaction, so that it exists exactly when that transaction commits; its id.

    With ``key``, nothing is added while a queued or running job has that key (and None is returned):
    asking twice for the same rebuild makes one job.
    """
    now = utcnow()
    values = {"kind": kind, "payload": dict(payload or {}), "state": QUEUED, "key": key, "attempts": 0,
              "run_after": run_after or now, "created_at": now}
    if key is None:
        job = Job(**values)
        session.add(job)
        session.flush()
        return job.id
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return session.scalar(insert(Job).values(**values).on_conflict_do_nothing(index_elements=["key"])
                          .returning(Job.id))


def pending(session: Session, key: str) -> bool:
    """Whether a queued or running job has ``key`` (only those keep their key)."""
    return session.execute(sa.select(sa.func.count()).select_from(Job).where(Job.key == key)).scalar_one() > 0


def _due(now: datetime.datetime) -> sa.ColumnElement[bool]:
    return sa.or_(sa.and_(Job.state == QUEUED, Job.run_after <= now),
                  sa.and_(Job.state == RUNNING, Job.lease_until < now))


def due(db: Database, kinds: Collection[str], now: datetime.datetime | None = None) -> dict[str, int]:
    """How many jobs of each of ``kinds`` are due (a read: a runner with nothing to do writes nothing)."""
    with db.session() as session:
        rows = session.execute(sa.select(Job.kind, sa.func.count()).where(Job.kind.in_(list(kinds)),
                                                                          _due(now or utcnow()))
                               .group_by(Job.kind))
        return {kind: count for kind, count in rows}


def claim(db: Database, runner: str, wanted: Mapping[str, int], lease: datetime.timedelta,
          max_attempts: Mapping[str, int], now: datetime.datetime | None = None,
          exclude: Collection[int] = ()) -> list[Claimed]:
    """Claim for ``runner`` up to ``wanted[kind]`` due jobs of each kind, oldest first, until now + ``lease``.

    A job found running past its lease lost its runner: it is claimed as its next attempt, or failed
    when that was its last (``max_attempts[kind]``). Jobs whose ids are in ``exclude`` are left alone.
    """
    now = now or utcnow()
    claimed: list[Claimed] = []
    with db.claiming() as session:
        for kind, count in wanted.items():
            if count <= 0:
                continue
            query = (sa.select(Job).where(Job.kind == kind, _due(now)).order_by(Job.run_after, Job.id).limit(count)
                     .with_for_update(skip_locked=True))
            if exclude:
                query = query.where(Job.id.not_in(list(exclude)))
            for job in session.scalars(query):
                if job.state == RUNNING:
                    lost = f"the runner {job.claimed_by} stopped without finishing attempt {job.attempts}"
                    if job.attempts >= max_attempts.get(kind, 1):
                        job.state, job.key, job.lease_until, job.finished_at = FAILED, None, None, now
                        job.last_error = lost
                        continue
                    job.last_error = lost
                job.state, job.claimed_by, job.lease_until, job.started_at = RUNNING, runner, now + lease, now
                job.attempts += 1
                claimed.append(Claimed(job.id, job.kind, dict(job.payload), job.attempts))
    return claimed


def _settle(db: Database, job_id: int, runner: str, **values: object) -> bool:
    """Change a job ``runner`` still holds; False when it no longer does (its lease ran out and it was taken)."""
    with db.claiming() as session:
        result = session.execute(sa.update(Job).where(Job.id == job_id, Job.state == RUNNING,
                                                      Job.claimed_by == runner).values(**values))
        return rowcount(result) == 1


def succeed(db: Database, job_id: int, runner: str, now: datetime.datetime) -> bool:
    """Mark a job done."""
    return _settle(db, job_id, runner, state=DONE, key=None, lease_until=None, finished_at=now, last_error=None)


def retry(db: Database, job_id: int, runner: str, error: str, at: datetime.datetime) -> bool:
    """Queue a job again, due at ``at``, keeping why its attempt failed."""
    return _settle(db, job_id, runner, state=QUEUED, run_after=at, claimed_by=None, lease_until=None,
                   last_error=error[:ERROR_CHARS])


def fail(db: Database, job_id: int, runner: str, error: str, now: datetime.datetime) -> bool:
    """Mark a job failed for good, with why its last attempt failed."""
    return _settle(db, job_id, runner, state=FAILED, key=None, lease_until=None, finished_at=now,
                   last_error=error[:ERROR_CHARS])


def later(db: Database, job_id: int, runner: str, at: datetime.datetime, why: str) -> bool:
    """Put a job back, due at ``at``, without counting the attempt it did not make."""
    return _settle(db, job_id, runner, state=QUEUED, run_after=at, claimed_by=None, lease_until=None,
                   attempts=Job.attempts - 1, last_error=why[:ERROR_CHARS] or None)


def reschedule(db: Database, job_id: int, runner: str, at: datetime.datetime, now: datetime.datetime,
               error: str | None) -> bool:
    """Queue a recurring job for its next run at ``at`` (its attempts start again; ``error``: how this one ended)."""
    return _settle(db, job_id, runner, state=QUEUED, run_after=at, claimed_by=None, lease_until=None, attempts=0,
                   finished_at=now, last_error=error[:ERROR_CHARS] if error else None)


def renew(db: Database, runner: str, job_ids: Collection[int], until: datetime.datetime) -> int:
    """Extend ``runner``'s claim on the jobs it is still running; how many it holds."""
    if not job_ids:
        return 0
    with db.claiming() as session:
        return rowcount(session.execute(sa.update(Job).where(Job.id.in_(list(job_ids)), Job.state == RUNNING,
                                                             Job.claimed_by == runner).values(lease_until=until)))


def purge(db: Database, now: datetime.datetime | None = None) -> int:
    """Delete done jobs older than KEEP_DONE and failed ones older than KEEP_FAILED; how many."""
    now = now or utcnow()
    with db.claiming() as session:
        return rowcount(session.execute(sa.delete(Job).where(sa.or_(
            sa.and_(Job.state == DONE, Job.finished_at < now - KEEP_DONE),
            sa.and_(Job.state == FAILED, Job.finished_at < now - KEEP_FAILED)))))
