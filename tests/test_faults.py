"""Faults: a process killed at every step of publishing and of an approval, a disk that is full or failing,
and a lock left by a dead writer. Nothing accepted is lost, nothing half-done is shown, a request that
failed can be made again, and ``exchange check --repair`` converges (a second check finds nothing).

The kill trials run through tests/crashing.py: one process imports the application, then forks a child per
trial that is killed (SIGKILL) just before its N-th durable step (fsync, rename, database commit), for
N = 1, 2, … until the operation finishes untouched; each trial is then checked and repaired.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange import consistency
from exchange.instance import Instance
from exchange.library import publishing
from exchange.library import storage
from exchange.models import PracticeVersion
from exchange.models import Submission
from exchange.review import submissions
from exchange.search.backend import SearchRequest
from tests.conftest import SEARCH_SECONDS
from tests.test_publishing import add_people

ROOT = Path(__file__).resolve().parent.parent
PRACTICE = "jakarta/flood-warning"
#: Faults of the library's files and of the processes writing them, whatever the database: SQLite only (the
#: publishing trials run on both, as a killed PostgreSQL session must roll back as surely as SQLite's journal).
FILES_AND_ONE_DATABASE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


class Crashing:
    """The process of tests/crashing.py for one instance: each ``run`` is one trial."""

    def __init__(self, instance: Instance) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "tests.crashing", str(instance.path), instance.db.url], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, step: int, **request: Any) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({**request, "step": step}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert answer["outcome"] in ("killed", "done"), answer
        return answer

    def close(self) -> None:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


@pytest.fixture
def crashing(instance: Instance) -> Iterator[Crashing]:
    process = Crashing(instance)
    yield process
    process.close()


def versions(instance: Instance) -> list[int]:
    with instance.db.session() as session:
        return list(session.scalars(sa.select(PracticeVersion.version).where(PracticeVersion.practice_id == PRACTICE)
                                    .order_by(PracticeVersion.version)))


def found(instance: Instance, word: str) -> list[str]:
    results = instance.search.search(SearchRequest(q=word), frozenset({"public"}), seconds=SEARCH_SECONDS)
    return [hit.id for hit in results.hits]


def repaired(instance: Instance) -> None:
    """``exchange check --repair`` until nothing is found: once must be enough."""
    consistency.repair(instance, consistency.check(instance), "test")
    assert consistency.check(instance) == []


def holds_exactly(instance: Instance, accepted: dict[int, str]) -> None:
    """The library, its history and the index agree with the versions the database accepted, each version
    recorded holds its own word, the current file is the newest, and the index finds the newest's word."""
    assert versions(instance) == sorted(accepted)
    assert instance.store.versions(PRACTICE) == sorted(accepted)
    for version, word in accepted.items():
        assert word.encode() in instance.store.read_version(PRACTICE, version)
    newest = accepted[max(accepted)]
    assert newest.encode() in instance.store.read_current(PRACTICE)
    assert found(instance, newest) == [PRACTICE]


def test_killed_at_any_step_of_publishing_nothing_accepted_is_lost_and_repair_converges(
        instance, make_practice, crashing):
    publishing.publish(instance, make_practice(summary="Word crashtrial0."), "flood-warning", "t")
    accepted = {1: "crashtrial0"}
    step = 0
    while True:
        step += 1
        word = f"crashtrial{step}"
        answer = crashing.run(step, operation="publish", slug="flood-warning",
                              text=make_practice(summary=f"Word {word}.").decode())
        repaired(instance)
        if max(versions(instance)) > max(accepted):  # the database took it before the kill: it is all there
            accepted[max(versions(instance))] = word
        holds_exactly(instance, accepted)
        if answer["outcome"] == "done":
            break
    assert step > 5  # the file, its folder, the transaction, the current file, the index: all were steps
    assert len(accepted) >= 3  # kills after the commit kept what was accepted
    assert len(accepted) < step  # and kills before it kept nothing of it
    # after every kind of death, the next publish goes through (no lock left held, no version taken)
    outcome = publishing.publish(instance, make_practice(summary="Word crashafter."), "flood-warning", "t")
    accepted[outcome.version or 0] = "crashafter"
    holds_exactly(instance, accepted)


@FILES_AND_ONE_DATABASE
def test_killed_at_any_step_of_an_approval_the_submission_is_published_once_or_can_be_approved_again(
        instance, make_practice, crashing):
    siti, _ayu, rina, _budi = add_people(instance)
    publishing.publish(instance, make_practice(summary="Word approval0."), "flood-warning", "t")
    accepted = {1: "approval0"}
    step = 0
    while True:
        step += 1
        word = f"approval{step}"
        draft = submissions.save(instance, siti, "jakarta", "flood-warning",
                                 make_practice(summary=f"Word {word}.").decode(), max(accepted))
        submissions.submit(instance, siti, draft.id)
        answer = crashing.run(step, operation="approve", reviewer="3:1", submission=draft.id)
        repaired(instance)
        with instance.db.session() as session:
            status = session.get(Submission, draft.id).status
        if max(versions(instance)) > max(accepted):
            assert status == "approved"  # published and closed together, or closed by the repair
        else:
            assert status == "submitted"  # nothing happened: a reviewer approves it again
            assert submissions.review(instance, rina, draft.id, "approve") == max(accepted) + 1
        accepted[max(versions(instance))] = word
        holds_exactly(instance, accepted)
        if answer["outcome"] == "done":
            break
    assert step > 5


@FILES_AND_ONE_DATABASE
@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EIO])
def test_a_full_or_failing_disk_refuses_the_publish_and_changes_nothing(instance, make_practice, monkeypatch,
                                                                          failure):
    publishing.publish(instance, make_practice(summary="Word diskbefore."), "flood-warning", "t")
    real_fsync = os.fsync

    def failing(fd: int) -> None:
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(storage.os, "fsync", failing)
    with pytest.raises(OSError):
        publishing.publish(instance, make_practice(summary="Word diskfull."), "flood-warning", "t")
    monkeypatch.setattr(storage.os, "fsync", real_fsync)
    assert consistency.check(instance) == []
    holds_exactly(instance, {1: "diskbefore"})
    assert not list(instance.store.version_path(PRACTICE, 1).parent.glob("*.tmp*"))
    outcome = publishing.publish(instance, make_practice(summary="Word diskfreed."), "flood-warning", "t")
    assert outcome.version == 2  # once there is room, the same publish goes through
    holds_exactly(instance, {1: "diskbefore", 2: "diskfreed"})


@FILES_AND_ONE_DATABASE
def test_a_full_disk_answers_the_web_with_a_503_saying_so_not_a_500(app, instance, make_practice, monkeypatch):
    @app.get("/test-full-disk")
    def full_disk() -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    @app.get("/test-other-os-error")
    def other_error() -> str:
        raise OSError(errno.EBADF, "Bad file descriptor")

    client = app.test_client()
    response = client.get("/test-full-disk")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "disk is full or failing. Nothing was changed" in response.get_data(as_text=True)
    assert client.get("/test-full-disk", headers={"Accept-Language": "ja"}).status_code == 503
    assert client.get("/test-other-os-error").status_code == 500  # a mistake of ours stays one


@FILES_AND_ONE_DATABASE
def test_a_lock_file_left_by_a_dead_writer_does_not_stop_indexing(instance, make_practice):
    lock = instance.path / "index" / "writer.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("12345\n")  # what a killed process leaves: the file, without its lock
    publishing.publish(instance, make_practice(summary="Word afterlock."), "flood-warning", "t")
    assert found(instance, "afterlock") == [PRACTICE]
