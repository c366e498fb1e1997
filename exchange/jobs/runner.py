"""The job runner: it runs what must not hold a web request (mail, pack exports, index upkeep).

``exchange worker`` runs one; ``exchange serve`` and ``exchange run`` start one beside the web server
(``embedded``). A runner looks for due jobs every ``poll_seconds``, claims those of the kinds it knows
(never more of a kind at once than the kind allows), runs each in a thread of its own and settles it:
done; or, when its handler raised, queued again after an exponential backoff until its attempts run out,
and then failed with the error. While jobs run it renews their leases; a runner that is killed stops
renewing, and once their leases run out its jobs are due again for any runner. A recurring kind (index
catch-up, export sweep, purge) always has one job, queued again after each run. ``stop`` (SIGTERM in
``exchange worker``) claims nothing more, tells running jobs to stop (``Context.stopping``; an export
puts itself back in the queue) and waits for them.

``run_pending`` is the deterministic form for tests and ``exchange worker --until-idle``: every due job,
one after another, in the calling thread.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange.jobs import queue
from exchange.models import utcnow

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
LEASE_SECONDS = 60.0
#: how often a runner makes sure every recurring kind has its job (one might have failed for good)
SEED_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Context:
    """What a job's handler is given besides its payload."""

    instance: Instance
    #: set when the runner is stopping: a long job should put itself back (raise Later) rather than go on
    stopping: threading.Event


class Later(Exception):  # noqa: N818 - a request to the runner, not an error
    """Raised by a handler: put the job back, due again in ``seconds``, without counting an attempt."""

    def __init__(self, seconds: float, why: str = "") -> None:
        super().__init__(why or f"put back for {seconds} s")
        self.seconds = seconds
        self.why = why


@dataclass(frozen=True)
class Kind:
    """How the runner treats one kind of job: its handler, how many at once, retries and recurrence."""

    #: the handler of one job: returns when it is done, raises when it failed (Later: not now)
    run: Callable[[Context, dict], None] | None = None
    #: instead of ``run``: handles several due jobs at once (mail over one connection) and returns, for each
    #: payload in order, None when done or why it failed
    run_batch: Callable[[Context, list[dict]], list[str | None]] | None = None
    batch_size: int = 1
    #: how many of this kind (batches, for ``run_batch``) one runner runs at the same time
    at_once: int = 1
    max_attempts: int = 5
    #: the wait before the second attempt; it doubles with each further one, up to ``max_backoff_seconds``
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    #: a recurring duty: one job of this kind always exists, due again this long after each run
    every_seconds: float | None = None
    #: each node's own (its search index): queued as ``queue.for_node(name, node)``, run by that node's runner
    per_node: bool = False

    def backoff(self, attempt: int) -> datetime.timedelta:
        """The wait after failed attempt number ``attempt`` (1, 2, …) before the next."""
        return datetime.timedelta(seconds=min(self.backoff_seconds * 2 ** (attempt - 1), self.max_backoff_seconds))


def describe(error: BaseException) -> str:
    """An error as a job keeps it: its type and message."""
    return f"{type(error).__name__}: {error}"


class Runner:
    """Claims and runs the due jobs of ``kinds`` (``background.KINDS``: every kind the library has) for one instance."""

    def __init__(self, instance: Instance, kinds: Mapping[str, Kind], *, name: str | None = None,
                 poll_seconds: float = POLL_SECONDS, lease_seconds: float = LEASE_SECONDS) -> None:
        self.instance = instance
        self.kinds = {queue.for_node(name, instance.node) if kind.per_node else name: kind
                      for name, kind in kinds.items()}
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.poll_seconds = poll_seconds
        self.lease = datetime.timedelta(seconds=lease_seconds)
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._busy: Counter[str] = Counter()  # running threads (single jobs or batches) per kind
        self._held: set[int] = set()  # ids of the jobs this runner is running
        self._threads: set[threading.Thread] = set()

    # The loop ------------------------------------------------------------------------------------

    def run(self) -> None:
        """Run jobs as they fall due until ``stop`` is called; then wait for the jobs in hand."""
        log.info("job runner %s started for %s", self.name, self.instance.path)
        next_seed = 0.0
        with self._renewing():
            try:
                while not self.stopping.is_set():
                    started = 0
                    try:
                        if time.monotonic() >= next_seed:
                            self.seed()
                            next_seed = time.monotonic() + SEED_EVERY_SECONDS
                        started = self._start_due()
                    except Exception:  # the database may be away for a moment: the runner carries on
                        log.exception("job runner %s could not look for jobs", self.name)
                    if not started:
                        self._wake.wait(self.poll_seconds)
                        self._wake.clear()
            finally:
                for thread in list(self._threads):
                    thread.join()
        log.info("job runner %s stopped", self.name)

    def stop(self) -> None:
        """Claim nothing more, and tell the running jobs to stop (``run`` returns once they have).

        Safe in a signal handler: it only sets ``stopping``, whose lock the loop's thread never holds;
        the loop notices within ``poll_seconds``.
        """
        self.stopping.set()

    def _start_due(self) -> int:
        """Claim what this runner has room for and start a thread for each job or batch; how many started."""
        wanted: dict[str, int] = {}
        with self._lock:
            for name, kind in self.kinds.items():
                free = kind.at_once - self._busy[name]
                if free > 0:
                    wanted[name] = free * kind.batch_size if kind.run_batch else free
        due = queue.due(self.instance.db, wanted) if wanted else {}
        wanted = {name: count for name, count in wanted.items() if due.get(name)}
        if not wanted:
            return 0
        started = 0
        for name, group in self._groups(self._claim(wanted)):
            thread = threading.Thread(target=self._run_thread, args=(name, group), daemon=True,
                                      name=f"job-{group[0].id}-{name}")
            with self._lock:
                self._busy[name] += 1
                self._threads.add(thread)
            thread.start()
            started += 1
        return started

    def _run_thread(self, name: str, group: list[queue.Claimed]) -> None:
        try:
            self._execute(name, group)
        finally:
            with self._lock:
                self._busy[name] -= 1
                self._threads.discard(threading.current_thread())
            self._wake.set()

    # Synchronous ---------------------------------------------------------------------------------

    def run_pending(self, now: datetime.datetime | None = None) -> int:
        """Run every job due now (``now``: as if it were then), each at most once, in this thread; how many ran.

        Jobs a handler enqueues meanwhile are run too when they are due. Nothing runs in the background:
        when this returns, every job it ran is settled.
        """
        self.seed(now)
        ran: set[int] = set()
        with self._renewing():
            while True:
                wanted = {name: kind.batch_size for name, kind in self.kinds.items()}
                claimed = self._claim(wanted, now, exclude=ran)
                if not claimed:
                    return len(ran)
                ran.update(job.id for job in claimed)
                for name, group in self._groups(claimed):
                    self._execute(name, group, now)

    # Claiming, running, settling -----------------------------------------------------------------

    def seed(self, now: datetime.datetime | None = None) -> None:
        """Make sure every recurring kind has its job (keyed by the kind's name, so never two)."""
        recurring = [name for name, kind in self.kinds.items() if kind.every_seconds]
        if recurring:
            with self.instance.db.claiming() as session:
                for name in recurring:
                    queue.enqueue(session, name, key=name, run_after=now)

    def _claim(self, wanted: Mapping[str, int], now: datetime.datetime | None = None,
               exclude: set[int] | frozenset[int] = frozenset()) -> list[queue.Claimed]:
        attempts = {name: kind.max_attempts for name, kind in self.kinds.items()}
        return queue.claim(self.instance.db, self.name, wanted, self.lease, attempts, now, exclude)

    def _groups(self, claimed: list[queue.Claimed]) -> Iterator[tuple[str, list[queue.Claimed]]]:
        """The claimed jobs as the handlers take them: alone, or in batches of a batch kind."""
        by_kind: dict[str, list[queue.Claimed]] = {}
        for job in claimed:
            by_kind.setdefault(job.kind, []).append(job)
        for name, jobs in by_kind.items():
            kind = self.kinds[name]
            size = kind.batch_size if kind.run_batch else 1
            for start in range(0, len(jobs), size):
                yield name, jobs[start:start + size]

    def _execute(self, name: str, group: list[queue.Claimed], now: datetime.datetime | None = None) -> None:
        kind = self.kinds[name]
        context = Context(self.instance, self.stopping)
        with self._lock:
            self._held.update(job.id for job in group)
        try:
            try:
                if kind.run_batch is not None:
                    errors = list(kind.run_batch(context, [job.payload for job in group]))
                else:
                    assert kind.run is not None and len(group) == 1
                    kind.run(context, group[0].payload)
                    errors = [None]
            except Later as later:
                at = (now or utcnow()) + datetime.timedelta(seconds=later.seconds)
                for job in group:
                    queue.later(self.instance.db, job.id, self.name, at, later.why)
                    log.info("job %d (%s) put back until %s: %s", job.id, name, at, later)
                return
            except Exception as error:
                log.exception("job %d (%s) failed", group[0].id, name)
                errors = [describe(error)] * len(group)
            for job, outcome in zip(group, errors, strict=True):
                self._settle(kind, job, outcome, now)
        finally:
            with self._lock:
                self._held.difference_update(job.id for job in group)

    def _settle(self, kind: Kind, job: queue.Claimed, error: str | None, now: datetime.datetime | None) -> None:
        db, at = self.instance.db, now or utcnow()
        if kind.every_seconds:
            held = queue.reschedule(db, job.id, self.name, at + datetime.timedelta(seconds=kind.every_seconds), at,
                                    error)
            if error:
                log.warning("job %d (%s) failed: %s; it runs again in %s s", job.id, job.kind, error,
                            kind.every_seconds)
        elif error is None:
            held = queue.succeed(db, job.id, self.name, at)
            log.debug("job %d (%s) done", job.id, job.kind)
        elif job.attempt < kind.max_attempts:
            retry_at = at + kind.backoff(job.attempt)
            held = queue.retry(db, job.id, self.name, error, retry_at)
            log.warning("job %d (%s) failed on attempt %d of %d: %s; trying again at %s UTC", job.id, job.kind,
                        job.attempt, kind.max_attempts, error, retry_at.isoformat(timespec="seconds"))
        else:
            held = queue.fail(db, job.id, self.name, error, at)
            log.error("job %d (%s) failed for good after %d attempts: %s", job.id, job.kind, job.attempt, error)
        if not held:
            log.warning("job %d (%s) was taken over by another runner before %s settled it", job.id, job.kind,
                        self.name)

    @contextlib.contextmanager
    def _renewing(self) -> Iterator[None]:
        """Renew the leases of the jobs this runner holds, every third of a lease, while the block runs."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.lease.total_seconds() / 3):
                with self._lock:
                    held = set(self._held)
                try:
                    queue.renew(self.instance.db, self.name, held, utcnow() + self.lease)
                except Exception:  # the next renewal tries again; the lease has room for two misses
                    log.exception("job runner %s could not renew its leases", self.name)

        thread = threading.Thread(target=renew, daemon=True, name=f"job-leases-{self.name}")
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

