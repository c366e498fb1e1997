"""Export jobs: packs are rendered by worker processes with limits, never inside a web request.

A request records the export and a job for the job runner in one transaction, and returns at once. The
runner starts a worker process for it (``run``), at most :data:`MAX_RUNNING` at a time in the whole
library; the rest wait as "queued" (threats R-8). Each worker is a separate process that caps its own
memory and wall clock (R-7), reports progress in the database, and writes the file into ``exports/`` of
the library store (the instance folder unless LIBRARY_STORE names a shared one); the runner turns its
exit status into the message the person waiting reads. A recurring job (``sweep``) fails exports whose
worker vanished and deletes files after :data:`KEEP`.
"""

from __future__ import annotations

import datetime
import hmac
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import NotFound
from exchange.jobs import queue
from exchange.jobs.runner import Context
from exchange.jobs.runner import Later
from exchange.models import ExportJob
from exchange.models import utcnow
from exchange.packs import packs
from exchange.packs.exports import EDITIONS
from exchange.packs.exports import FORMATS

if TYPE_CHECKING:
    from exchange.instance import Instance

#: the job runner's kinds: one export, and the sweep of vanished workers and old files
KIND = "packs.export"
SWEEP = "packs.exports.sweep"
MAX_RUNNING = 2
#: how soon an export waiting for a free worker is looked at again
WAIT_FOR_WORKER_SECONDS = 2.0
#: how soon an export left running by a runner that stopped is looked at again (``sweep`` settles it)
LOOK_AGAIN_SECONDS = 30.0
#: jobs waiting or running in the whole library before new ones are turned away
MAX_QUEUED = 100
#: a person's exports waiting or running at once
MAX_PENDING_PER_PERSON = 4
#: a worker's wall clock and address space; operators may change them (EXCHANGE_EXPORT_SECONDS, _MEMORY_MB)
TIME_LIMIT_SECONDS = int(os.environ.get("EXCHANGE_EXPORT_SECONDS", "300"))
MEMORY_LIMIT_BYTES = int(os.environ.get("EXCHANGE_EXPORT_MEMORY_MB", "1024")) * 2**20
KEEP = datetime.timedelta(days=7)
#: the worker's exit status when its rendering met the memory cap
OUT_OF_MEMORY = 3


class JobNotFound(NotFound):
    """No such export, or one somebody else asked for."""


def folder(instance: Instance) -> Path:
    """Where finished exports wait to be downloaded: beside the library, so that with several nodes sharing
    one library store, a file made by one node's runner is served by whichever node the download reaches."""
    return instance.store.root / "exports"


def file_path(instance: Instance, job: ExportJob) -> Path:
    return folder(instance) / f"{job.id}.{FORMATS[job.format].extension}"


def submit(instance: Instance, viewer: policy.Viewer, pack_id: int, format_key: str, edition: str,
           link_token: str | None = None) -> tuple[int, str]:
    """Queue an export of a pack ``viewer`` may read now (as owner, colleague or link holder).

    Returns the job id and the secret that must accompany it to follow or download the export.
    ValueError when it cannot be queued (the message says why); PackNotFound when it may not be read.
    """
    if format_key not in FORMATS or edition not in EDITIONS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; edition one of {', '.join(EDITIONS)}")
    pack = packs.get(instance, viewer, pack_id, link_token)
    account_id = viewer.id if viewer.is_authenticated else None
    if edition == "trainer" and not policy.may_export_trainer_edition(viewer, pack):
        raise ValueError(Message(N_("Only the pack's owner can export the trainer edition.")))
    link_hash = tokens.digest(link_token) if link_token and account_id is None else None
    key = tokens.new()
    with instance.db.writing() as session:
        pending = sa.select(sa.func.count()).select_from(ExportJob).where(ExportJob.status.in_(("queued", "running")))
        if session.execute(pending).scalar_one() >= MAX_QUEUED:
            raise ValueError(Message(N_("The export queue is full; try again in a few minutes.")))
        mine = ExportJob.requested_by == account_id if account_id is not None else ExportJob.link_hash == link_hash
        waiting = session.execute(pending.where(mine)).scalar_one()
        if waiting >= MAX_PENDING_PER_PERSON:
            raise ValueError(Message(N_("You already have %(count)s exports waiting or running; try again when one "
                                        "of them has finished."), count=waiting))
        job = ExportJob(pack_id=pack_id, requested_by=account_id, key_hash=tokens.digest(key), link_hash=link_hash,
                        format=format_key, edition=edition)
        session.add(job)
        session.flush()
        queue.enqueue(session, KIND, {"export": job.id})
        audit.record(session, viewer.email or "read-only link", "pack.export", str(pack_id),
                     format=format_key, edition=edition, job=job.id)
        return job.id, key


def claim(instance: Instance, job_id: int | None = None) -> int | None:
    """Mark the oldest queued export (or export ``job_id``, if queued) running if fewer than MAX_RUNNING run;
    its id, or None."""
    with instance.db.writing() as session:
        running = session.execute(sa.select(sa.func.count()).select_from(ExportJob)
                                  .where(ExportJob.status == "running")).scalar_one()
        if running >= MAX_RUNNING:
            return None
        query = sa.select(ExportJob).where(ExportJob.status == "queued")
        if job_id is not None:
            query = query.where(ExportJob.id == job_id)
        job = session.scalar(query.order_by(ExportJob.id).limit(1))
        if job is None:
            return None
        job.status, job.started_at, job.stage = "running", utcnow(), "starting"
        return job.id


def run(context: Context, payload: dict) -> None:
    """Render one export in a worker process within its limits and record how it ended (a job of the runner).

    While MAX_RUNNING exports run it waits its turn (Later). An export found running already was
    started by a runner that stopped: its worker may still finish it, or ``sweep`` fails it after the
    time limit. When the runner stops, the worker is stopped and the export queued again.
    """
    instance = context.instance
    job_id = int(payload["export"])
    if claim(instance, job_id) is None:
        with instance.db.session() as session:
            status = session.scalar(sa.select(ExportJob.status).where(ExportJob.id == job_id))
        if status == "queued":
            raise Later(WAIT_FOR_WORKER_SECONDS, f"{MAX_RUNNING} exports are running")
        if status == "running":
            raise Later(LOOK_AGAIN_SECONDS, "left running by a job runner that stopped; its worker may finish it")
        return  # done, failed, expired or deleted with its pack: nothing left to do
    environment = worker_environment(str(instance.path), instance.db.url, instance.base_url)
    environment["EXCHANGE_LIBRARY_STORE"] = str(instance.store.root)
    environment["EXCHANGE_NODE"] = instance.node
    try:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, a number as argument
            [sys.executable, "-m", "exchange.packs.exports.worker", str(job_id)], env=environment,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        fail(instance, job_id, f"The export worker could not start ({error.strerror}).")
        return
    while process.poll() is None:
        if context.stopping.wait(0.5):
            process.terminate()
            process.wait()
            if requeue(instance, job_id):
                raise Later(0, "the job runner stopped; the export starts again with the next runner")
    if process.returncode != 0:
        fail(instance, job_id, _why(process.returncode), only_if_running=True)


def requeue(instance: Instance, job_id: int) -> bool:
    """Put a running export back in the queue (its worker was stopped); False if it had ended already."""
    with instance.db.writing() as session:
        job = session.get(ExportJob, job_id)
        if job is None or job.status != "running":
            return False
        job.status, job.progress, job.started_at = "queued", 0, None
        job.stage = "waiting for a free export worker"
        return True


def _why(code: int) -> str:
    if code == -signal.SIGALRM:
        return (f"The export took longer than {TIME_LIMIT_SECONDS} seconds and was stopped: the pack is too large "
                "to export in one piece. Duplicate it and split it into smaller packs.")
    if code in (-signal.SIGKILL, OUT_OF_MEMORY):
        return (f"The export needed more than {MEMORY_LIMIT_BYTES // 2**20} MB of memory and was stopped: the pack "
                "is too large to export in one piece. Duplicate it and split it into smaller packs.")
    if code in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGTRAP):
        # Libraries written in C (Pango, GLib, HarfBuzz) may crash rather than report a failed allocation.
        return (f"The export crashed, most likely for want of memory (the limit is {MEMORY_LIMIT_BYTES // 2**20} MB): "
                "the pack may be too large to export in one piece. Duplicate it and split it into smaller packs.")
    return f"The export stopped unexpectedly (exit status {code}). Try again; if it fails again, tell an administrator."


def report(instance: Instance, job_id: int, fraction: float, stage: str) -> None:
    """Record a running job's progress (0..1) and what it is doing."""
    with instance.db.writing() as session:
        job = session.get(ExportJob, job_id)
        if job is not None and job.status == "running":
            job.progress, job.stage = max(job.progress, min(99, int(fraction * 100))), stage[:200]


def finish(instance: Instance, job_id: int, size: int) -> bool:
    """Whether the job was still there to mark done (deleting a pack deletes its jobs, running or not)."""
    with instance.db.writing() as session:
        job = session.get(ExportJob, job_id)
        if job is None:
            return False
        job.status, job.progress, job.stage, job.bytes, job.finished_at = "done", 100, "ready", size, utcnow()
        return True


def fail(instance: Instance, job_id: int, message: str, only_if_running: bool = False) -> None:
    with instance.db.writing() as session:
        job = session.get(ExportJob, job_id)
        if job is None or (only_if_running and job.status != "running"):
            return
        job.status, job.stage, job.message, job.finished_at = "failed", "stopped", message, utcnow()


def sweep(instance: Instance) -> None:
    """Fail jobs whose worker vanished (past the time limit) and delete files older than KEEP (a recurring job)."""
    now = utcnow()
    with instance.db.writing() as session:
        stale = sa.select(ExportJob).where(ExportJob.status == "running", ExportJob.started_at
                                           < now - datetime.timedelta(seconds=TIME_LIMIT_SECONDS + 60))
        for job in session.scalars(stale):
            job.status, job.stage, job.finished_at = "failed", "stopped", now
            job.message = "The export worker stopped without finishing. Try again."
        old = sa.select(ExportJob).where(ExportJob.status == "done", ExportJob.finished_at < now - KEEP)
        for job in session.scalars(old):
            file_path(instance, job).unlink(missing_ok=True)
            job.status, job.stage = "expired", f"deleted after {KEEP.days} days"


def delete_pack(instance: Instance, viewer: policy.Viewer, pack_id: int) -> None:
    """Delete a pack the person owns (``packs.delete``) and, in the same transaction, its exports' jobs and files."""

    def forget_exports(session: Session) -> None:
        for job in session.scalars(sa.select(ExportJob).where(ExportJob.pack_id == pack_id)):
            file_path(instance, job).unlink(missing_ok=True)
            session.delete(job)

    packs.delete(instance, viewer, pack_id, also=forget_exports)


def asker(instance: Instance, job: ExportJob) -> policy.Viewer | None:
    """Whoever asked for the job, as they are now: their account (None once disabled), or, for a job asked
    through a read-only link, an anonymous reader (who must show the link's digest as well)."""
    return people.by_id(instance, job.requested_by) if job.requested_by else policy.ANONYMOUS


def get(instance: Instance, job_id: int, key: str) -> ExportJob:
    """The job whose secret is ``key`` (JobNotFound otherwise: unknown and not yours look the same)."""
    with instance.db.session() as session:
        job = session.get(ExportJob, job_id)
        if job is None or not hmac.compare_digest(job.key_hash, tokens.digest(key or "")):
            raise JobNotFound(job_id)
        return job


def worker_environment(instance_path: str, database_url: str | None, base_url: str) -> dict[str, str]:
    """What a worker needs to open the same instance as the web app."""
    environment = {**os.environ, "EXCHANGE_INSTANCE": instance_path, "EXCHANGE_BASE_URL": base_url,
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    if database_url:
        environment["EXCHANGE_DATABASE_URL"] = database_url
    return environment
