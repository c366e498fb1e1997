"""Whether an instance is healthy (``/healthz``): its database, search index, index outbox and job queue.

Every check is a few indexed queries or opening the index's table of contents, never a scan of the
library: a monitor may ask every few seconds. What it answers holds no secret (no paths, addresses or
error details beyond a short reason), and nothing of any practice.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa

from exchange.jobs import queue
from exchange.models import IndexOutbox
from exchange.models import Job
from exchange.models import utcnow
from exchange.search import indexing
from exchange.search.backend import IndexUnavailable

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: an outbox entry older than this means publishes are not reaching the index (the runner catches up every 5 s)
OUTBOX_LAG_SECONDS = 300
#: a job due for longer than this means no job runner is taking jobs
JOB_WAIT_SECONDS = 600
#: failed jobs are counted over this past span (they are kept 30 days to be looked into)
FAILED_WINDOW = datetime.timedelta(hours=24)


@dataclass
class Check:
    """One part of the instance: whether it is well, a short reason when not, and its figures."""

    ok: bool
    figures: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"ok": self.ok, **self.figures}
        if self.problem:
            answer["problem"] = self.problem
        return answer


@dataclass
class Health:
    """Every check, and whether all are well."""

    checks: dict[str, Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "degraded", "failing": self.failing,
                "checks": {name: check.as_json() for name, check in self.checks.items()}}


def _age(moment: datetime.datetime | None, now: datetime.datetime) -> float | None:
    return None if moment is None else round(max((now - moment).total_seconds(), 0.0), 1)


def check(instance: Instance) -> Health:
    """The health of ``instance`` now."""
    checks = {"database": Check(False, problem="not checked"), "index": Check(False, problem="not checked"),
              "outbox": Check(False, problem="not checked"), "jobs": Check(False, problem="not checked")}
    try:
        with instance.db.session() as session:
            session.execute(sa.select(1)).one()
            checks["database"] = Check(True)
            now = utcnow()
            checks["outbox"] = _outbox(session, now, instance.node)
            checks["jobs"] = _jobs(session, now, instance.node)
    except sa.exc.SQLAlchemyError as error:
        log.warning("health check: the database cannot be read: %r", error)
        checks["database"] = Check(False, problem="the database cannot be read")
        for name in ("outbox", "jobs"):
            checks[name] = Check(False, problem="the database cannot be read")
    checks["index"] = _index(instance, checks["outbox"])
    for name, failed in checks.items():
        if not failed.ok:
            log.warning("health check %s failing: %s", name, failed.problem)
    return Health(checks)


def _outbox(session: sa.orm.Session, now: datetime.datetime, node: str) -> Check:
    """This node's lag: the outbox rows its own index has yet to apply (another node's lag is its own health)."""
    pending = indexing.pending_condition(node)
    count, oldest = session.execute(sa.select(sa.func.count(), sa.func.min(IndexOutbox.enqueued_at))
                                    .where(pending)).one()
    age = _age(oldest, now)
    figures = {"pending": count, "oldest_seconds": age, "limit_seconds": OUTBOX_LAG_SECONDS}
    if age is not None and age > OUTBOX_LAG_SECONDS:
        return Check(False, figures, f"publishes have waited {age:.0f} s to reach the search index")
    return Check(True, figures)


def _jobs(session: sa.orm.Session, now: datetime.datetime, node: str) -> Check:
    """Jobs waiting past their time that this node's runner would take: shared jobs and its own (``@node``);
    another node's own jobs wait for that node."""
    mine = ~Job.kind.contains("@") | Job.kind.endswith(queue.for_node("", node))
    due = (Job.state == queue.QUEUED) & (Job.run_after <= now) & mine
    count, oldest = session.execute(sa.select(sa.func.count(), sa.func.min(Job.run_after)).where(due)).one()
    failed = session.scalar(sa.select(sa.func.count()).select_from(Job)
                            .where(Job.state == queue.FAILED, Job.finished_at >= now - FAILED_WINDOW))
    age = _age(oldest, now)
    figures = {"due": count, "oldest_due_seconds": age, "failed_last_24h": failed, "limit_seconds": JOB_WAIT_SECONDS}
    if age is not None and age > JOB_WAIT_SECONDS:
        return Check(False, figures, f"a job has been due for {age:.0f} s: is a job runner running?")
    return Check(True, figures)


def _index(instance: Instance, outbox: Check) -> Check:
    """Whether searches can be answered from the index, and how many publishes it has still to take in
    (the index's generation against the library's: the outbox rows not yet applied)."""
    figures = {"behind": outbox.figures.get("pending")}
    try:
        instance.search.verify()
    except IndexUnavailable:
        return Check(False, figures, "the search index cannot be read; it is rebuilt by the job runner or "
                                     "'exchange reindex'")
    return Check(True, figures)
