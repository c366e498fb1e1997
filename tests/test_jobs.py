"""The job runner (issue 10): enqueue with the caller's transaction, claims that are safe with several runner
processes, leases that outlive a killed runner, retries with backoff, recurring jobs and ``exchange worker``."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange.background import KINDS
from exchange.background import run_pending
from exchange.jobs import queue
from exchange.jobs.runner import Kind
from exchange.jobs.runner import Later
from exchange.models import Job
from exchange.models import utcnow
from tests.conftest import exchange_environment

ROOT = Path(__file__).resolve().parent.parent
SECOND = datetime.timedelta(seconds=1)


def add(instance, kind: str, payload: dict | None = None, **options) -> int | None:  # type: ignore[no-untyped-def]
    with instance.db.writing() as session:
        return queue.enqueue(session, kind, payload, **options)


def job(instance, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return session.get(Job, job_id)


def jobs(instance) -> list[Job]:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return list(session.scalars(sa.select(Job).order_by(Job.id)))


def runner_script(instance, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The command of a Python process that opens ``instance`` and then runs ``code``."""
    preamble = textwrap.dedent(f"""
        import sys, threading
        from exchange.instance import Instance
        from exchange.jobs.runner import Kind, Runner
        instance = Instance.open({str(instance.path)!r}, {instance.db.url!r})
    """)
    return [sys.executable, "-c", preamble + textwrap.dedent(code)]


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_job_exists_exactly_when_its_transaction_commits(instance):
    with pytest.raises(RuntimeError), instance.db.writing() as session:
        queue.enqueue(session, "test.note", {"n": 1})
        raise RuntimeError("the write fails after the job was added")
    assert jobs(instance) == []
    job_id = add(instance, "test.note", {"n": 2})
    assert [(j.id, j.kind, j.payload, j.state, j.attempts) for j in jobs(instance)] == [
        (job_id, "test.note", {"n": 2}, "queued", 0)]


def test_a_keyed_job_is_made_once_while_it_is_pending(instance):
    done: list[dict] = []
    kinds = {"test.rebuild": Kind(run=lambda context, payload: done.append(payload))}
    first = add(instance, "test.rebuild", key="rebuild")
    assert first is not None and add(instance, "test.rebuild", key="rebuild") is None
    assert run_pending(instance, kinds) == 1 and len(done) == 1
    assert job(instance, first).key is None  # settled: the key is free for the next time it is needed
    assert add(instance, "test.rebuild", key="rebuild") not in (None, first)


def test_two_runner_processes_never_claim_the_same_job(instance):
    count = 150
    with instance.db.writing() as session:
        for n in range(count):
            queue.enqueue(session, "test.note", {"n": n})
    # Each process says it is ready, waits for "go" so that they claim at the same time, then runs
    # every due job it can claim and prints the number of each.
    code = """
        def note(context, payload):
            print(payload["n"], flush=True)
        print("ready", flush=True)
        sys.stdin.readline()
        Runner(instance, {"test.note": Kind(run=note)}, name=sys.argv[1]).run_pending()
    """
    runners = [start([*runner_script(instance, code), f"runner-{n}"]) for n in range(3)]
    for process in runners:
        assert process.stdout.readline() == "ready\n"
    for process in runners:
        process.stdin.write("go\n")
        process.stdin.close()
    handled = []
    for process in runners:
        handled.append([int(line) for line in process.stdout])
        process.stdout.close()
        assert process.wait(120) == 0
    every = [n for numbers in handled for n in numbers]
    assert sorted(every) == list(range(count))  # each job once, none twice, none left out
    assert {(j.state, j.attempts) for j in jobs(instance)} == {("done", 1)}
    claimed_by = {j.claimed_by for j in jobs(instance)}
    assert claimed_by <= {"runner-0", "runner-1", "runner-2"}


def test_a_claim_skips_jobs_another_runner_is_claiming_instead_of_waiting(instance):
    if instance.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one write lock: claims there take turns (the test above runs on both)")
    first, second = add(instance, "test.note"), add(instance, "test.note")
    with instance.db.engine.connect() as other:  # another runner, in the middle of its claim
        other.execute(sa.text("SELECT id FROM jobs WHERE id = :id FOR UPDATE"), {"id": first})
        claimed = queue.claim(instance.db, "me", {"test.note": 2}, datetime.timedelta(minutes=1), {})
        assert [c.id for c in claimed] == [second]
        other.rollback()
    assert [c.id for c in queue.claim(instance.db, "me", {"test.note": 2}, datetime.timedelta(minutes=1), {})] == [
        first]


def test_a_killed_runners_job_is_retried_after_its_lease(instance):
    job_id = add(instance, "test.hang")
    code = """
        def hang(context, payload):
            print("started", flush=True)
            threading.Event().wait()  # stuck for good, until the process is killed
        Runner(instance, {"test.hang": Kind(run=hang)}, name="doomed", lease_seconds=60).run()
    """
    doomed = start(runner_script(instance, code))
    assert doomed.stdout.readline() == "started\n"
    doomed.kill()
    doomed.wait(30)
    doomed.stdout.close()
    doomed.stdin.close()
    stuck = job(instance, job_id)
    assert (stuck.state, stuck.claimed_by, stuck.attempts) == ("running", "doomed", 1)

    ran: list[dict] = []
    kinds = {"test.hang": Kind(run=lambda context, payload: ran.append(payload), max_attempts=3)}
    # its lease still holds (a second before it ends: on the clock, a loaded machine could pass its 60 s)
    assert run_pending(instance, kinds, now=stuck.lease_until - SECOND) == 0 and ran == []
    assert run_pending(instance, kinds, now=stuck.lease_until + SECOND) == 1 and ran == [{}]
    retried = job(instance, job_id)
    assert (retried.state, retried.attempts) == ("done", 2)


def test_a_runner_killed_on_a_jobs_last_attempt_fails_it(instance):
    job_id = add(instance, "test.hang")
    kinds = {"test.hang": Kind(run=lambda context, payload: None, max_attempts=1)}
    queue.claim(instance.db, "doomed", {"test.hang": 1}, datetime.timedelta(minutes=1), {"test.hang": 1})
    assert run_pending(instance, kinds, now=utcnow() + datetime.timedelta(minutes=2)) == 0
    failed = job(instance, job_id)
    assert failed.state == "failed" and "the runner doomed stopped without finishing attempt 1" in failed.last_error


def test_a_failing_job_is_retried_with_exponential_backoff_and_then_failed_with_its_error(instance):
    attempts: list[int] = []

    def boom(context, payload) -> None:  # type: ignore[no-untyped-def]
        attempts.append(len(attempts) + 1)
        raise OSError(f"relay down ({len(attempts)})")

    kinds = {"test.boom": Kind(run=boom, max_attempts=4, backoff_seconds=10, max_backoff_seconds=25)}
    job_id = add(instance, "test.boom")
    now = utcnow()
    for attempt, wait in [(1, 10), (2, 20), (3, 25)]:  # doubling, up to the ceiling
        assert run_pending(instance, kinds, now=now) == 1
        waiting = job(instance, job_id)
        assert (waiting.state, waiting.attempts) == ("queued", attempt)
        assert waiting.run_after == now + datetime.timedelta(seconds=wait)
        assert waiting.last_error == f"OSError: relay down ({attempt})"
        assert run_pending(instance, kinds, now=waiting.run_after - SECOND) == 0  # not before its time
        now = waiting.run_after
    assert run_pending(instance, kinds, now=now) == 1
    failed = job(instance, job_id)
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 4, "OSError: relay down (4)")
    assert attempts == [1, 2, 3, 4] and run_pending(instance, kinds, now=now + datetime.timedelta(days=1)) == 0


def test_a_job_put_back_later_does_not_use_up_an_attempt(instance):
    calls: list[int] = []

    def busy(context, payload) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) < 3:
            raise Later(5, "no free slot")

    kinds = {"test.busy": Kind(run=busy, max_attempts=1)}
    job_id = add(instance, "test.busy")
    now = utcnow()
    for _ in range(2):
        assert run_pending(instance, kinds, now=now) == 1
        waiting = job(instance, job_id)
        assert (waiting.state, waiting.attempts, waiting.last_error) == ("queued", 0, "no free slot")
        now = waiting.run_after
    assert run_pending(instance, kinds, now=now) == 1 and job(instance, job_id).state == "done"


def test_a_recurring_job_always_exists_and_runs_again_after_its_interval(instance):
    runs: list[int] = []

    def tick(context, payload) -> None:  # type: ignore[no-untyped-def]
        runs.append(1)
        if len(runs) == 2:
            raise RuntimeError("a bad round")

    kinds = {"test.tick": Kind(run=tick, every_seconds=5)}
    now = utcnow()
    assert run_pending(instance, kinds, now=now) == 1
    assert run_pending(instance, kinds, now=now) == 0  # not due again yet, and not doubled by seeding again
    [tick_job] = jobs(instance)
    assert (tick_job.state, tick_job.key, tick_job.run_after) == ("queued", "test.tick", now + 5 * SECOND)
    assert run_pending(instance, kinds, now=now + 5 * SECOND) == 1
    [tick_job] = jobs(instance)  # a failed round does not end it
    assert (tick_job.state, tick_job.last_error) == ("queued", "RuntimeError: a bad round")
    assert run_pending(instance, kinds, now=now + 10 * SECOND) == 1 and len(runs) == 3


def test_settled_jobs_are_purged_after_a_while(instance):
    kinds = {"test.note": Kind(run=lambda context, payload: None)}
    add(instance, "test.note")
    run_pending(instance, kinds)
    assert queue.purge(instance.db) == 0
    assert queue.purge(instance.db, utcnow() + queue.KEEP_DONE + SECOND) == 1 and jobs(instance) == []


def test_exchange_worker_runs_jobs_and_stops_cleanly_on_sigterm(instance, tmp_path):
    environment = exchange_environment(instance.path, instance.db.url)
    idle = subprocess.run(["exchange", "worker", "--until-idle"], env=environment, capture_output=True, text=True)
    recurring = [name for name, kind in KINDS.items() if kind.every_seconds]  # each seeded on the first run
    assert idle.returncode == 0 and f"Ran {len(recurring)} jobs." in idle.stdout
    worker = subprocess.Popen(["exchange", "worker", "--poll", "0.2"], env=environment, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert worker.stderr is not None
    started = threading.Event()

    def watch() -> None:
        for line in worker.stderr:
            if "job runner" in line and "started" in line:
                started.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    assert started.wait(60), "exchange worker did not start"
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    reader.join(30)
    worker.stderr.close()
