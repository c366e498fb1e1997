"""Publishing is compare-and-set, and a submission closes in the same transaction (issue 9, findings 3, 4).

Threats K-1, K-5 (concurrent edits and approvals), C-2 (a crash before the commit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import consistency
from exchange.accounts import people
from exchange.library import publishing
from exchange.models import PracticeVersion
from exchange.models import Submission
from exchange.review import submissions
from tests.test_accounts import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def add_people(instance):  # type: ignore[no-untyped-def]
    for n, (email, name, roles) in enumerate((("siti@jakarta.example", "Siti", ["contributor"]),
                                              ("ayu@jakarta.example", "Ayu", ["contributor"]),
                                              ("rina@network.example", "Rina", ["reviewer"]),
                                              ("budi@network.example", "Budi", ["reviewer"])), start=1):
        people.create_user(instance, email, name, roles, ["jakarta"], "t", PASSWORD)
        yield people.load(instance, f"{n}:1")


def submitted(instance, author, make_practice, body: str) -> int:  # type: ignore[no-untyped-def]
    text = make_practice(body=body).decode()
    draft = submissions.save(instance, author, "jakarta", "flood-warning", text, 1)
    submissions.submit(instance, author, draft.id)
    return draft.id


def status(instance, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return session.get(Submission, submission_id).status


def together(*calls):  # type: ignore[no-untyped-def]
    """Run the calls in threads released at the same moment; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the caller looks at what each call raised
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("trial", range(8))
def test_two_reviewers_approving_edits_of_the_same_version_publish_one_and_refuse_the_other(
        instance, make_practice, trial):
    siti, ayu, rina, budi = add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    first = submitted(instance, siti, make_practice, "Siti's text.\n")
    second = submitted(instance, ayu, make_practice, "Ayu's text.\n")
    results = together(lambda: submissions.review(instance, rina, first, "approve"),
                       lambda: submissions.review(instance, budi, second, "approve"))
    assert sorted(type(r).__name__ for r in results) == ["StaleEdit", "int"]
    assert instance.store.versions("jakarta/flood-warning") == [1, 2]
    won = first if results[0] == 2 else second
    lost = second if won == first else first
    assert status(instance, won) == "approved" and status(instance, lost) == "changes_requested"  # back to its author
    published = instance.store.read_version("jakarta/flood-warning", 2)
    assert published == instance.store.read_current("jakarta/flood-warning")
    with instance.db.session() as session:
        assert session.get(Submission, won).text.encode() == published
        assert session.get(Submission, lost).text  # the refused text is kept
    assert consistency.check(instance) == []


def test_a_submission_cannot_be_approved_twice_at_once(instance, make_practice):
    siti, _ayu, rina, budi = add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    only = submitted(instance, siti, make_practice, "Siti's text.\n")
    results = together(lambda: submissions.review(instance, rina, only, "approve"),
                       lambda: submissions.review(instance, budi, only, "approve"))
    assert sorted(type(r).__name__ for r in results) in (["StaleEdit", "int"], ["WrongState", "int"])
    assert instance.store.versions("jakarta/flood-warning") == [1, 2]
    with instance.db.session() as session:
        events = session.scalars(sa.text("SELECT action FROM submission_events WHERE submission_id = :s"),
                                 {"s": only}).all()
    assert events.count("approve") == 1


def test_publishing_checks_the_version_it_was_written_against(instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    with pytest.raises(publishing.VersionConflict):
        publishing.publish(instance, make_practice(summary="New."), "flood-warning", "t", expected_version=None)
    with pytest.raises(publishing.VersionConflict):
        publishing.publish(instance, make_practice(summary="New."), "flood-warning", "t", expected_version=2)
    assert publishing.publish(instance, make_practice(summary="New."), "flood-warning", "t",
                           expected_version=1).version == 2
    assert instance.store.versions("jakarta/flood-warning") == [1, 2]


def test_a_failure_inside_the_transaction_leaves_no_version_behind(instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")

    def fail(_session, _outcome):  # type: ignore[no-untyped-def]
        raise RuntimeError("closing the submission failed")

    with pytest.raises(RuntimeError):
        publishing.publish(instance, make_practice(summary="New."), "flood-warning", "t", also=fail)
    assert instance.store.versions("jakarta/flood-warning") == [1]
    assert b"New." not in instance.store.read_current("jakarta/flood-warning")
    assert consistency.check(instance) == []


def test_six_concurrent_imports_of_one_practice_each_get_their_own_version(instance, make_practice, tmp_path):
    files = []
    for n in range(6):
        path = tmp_path / f"import-{n}" / "jakarta" / "flood-warning.md"
        path.parent.mkdir(parents=True)
        path.write_bytes(make_practice(summary=f"Import {n}."))
        files.append(path.parent.parent)
    results = together(*[lambda f=f: list(publishing.import_paths(instance, [f], "t")) for f in files])
    assert all(isinstance(r, list) and [o.status for o in r] in (["created"], ["updated"]) for r in results), results
    assert instance.store.versions("jakarta/flood-warning") == [1, 2, 3, 4, 5, 6]
    with instance.db.session() as session:
        latest = session.scalar(sa.select(PracticeVersion.sha256).where(PracticeVersion.version == 6))
    assert publishing.sha256(instance.store.read_current("jakarta/flood-warning")) == latest
    assert consistency.check(instance) == []


def test_a_crash_before_the_approval_commits_publishes_nothing_and_can_be_approved_again(
        app, instance, make_practice):
    siti, _ayu, rina, _budi = add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    submission = submitted(instance, siti, make_practice, "Siti's text.\n")
    crash = textwrap.dedent(f"""
        import os
        from exchange.accounts import people
        from exchange.review import notifications, submissions
        from exchange.instance import Instance
        instance = Instance.open({str(instance.path)!r}, {instance.db.url!r})
        # The process is killed while the approval's transaction is open (after the version file is kept).
        notifications.add = lambda *args, **kwargs: os._exit(137)
        submissions.review(instance, people.load(instance, "3:1"), {submission}, "approve")
    """)
    result = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 137
    assert status(instance, submission) == "submitted"
    assert [d.kind for d in consistency.check(instance)] == ["unacknowledged version"]
    consistency.repair(instance, consistency.check(instance), "t")
    assert consistency.check(instance) == [] and instance.store.versions("jakarta/flood-warning") == [1]
    assert submissions.review(instance, rina, submission, "approve") == 2
    assert status(instance, submission) == "approved"


def test_check_finds_and_finishes_a_submission_published_but_left_open(instance, make_practice):
    siti, _ayu, _rina, _budi = add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    submission = submitted(instance, siti, make_practice, "Siti's text.\n")
    with instance.db.session() as session:
        text = session.get(Submission, submission).text
    # What a crash between the two transactions of earlier releases left: published, still submitted.
    publishing.publish(instance, text.encode(), "flood-warning", "rina@network.example", submission_id=submission)
    assert [d.kind for d in consistency.check(instance)] == ["submission left open"]
    done = consistency.repair(instance, consistency.check(instance), "t")
    assert any("marked approved" in line for line in done)
    assert consistency.check(instance) == [] and status(instance, submission) == "approved"


def test_check_brings_forward_a_library_file_left_behind_by_a_crash_after_the_commit(instance, make_practice):
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    first = instance.store.read_current("jakarta/flood-warning")
    publishing.publish(instance, make_practice(summary="New."), "flood-warning", "t")
    instance.store.set_current("jakarta/flood-warning", first)  # as if killed before replacing it
    assert [d.kind for d in consistency.check(instance)] == ["file behind catalogue"]
    consistency.repair(instance, consistency.check(instance), "t")
    assert consistency.check(instance) == []
    store = instance.store
    assert store.read_current("jakarta/flood-warning") == store.read_version("jakarta/flood-warning", 2)
    assert instance.store.versions("jakarta/flood-warning") == [1, 2]


def test_a_text_too_complex_to_render_within_the_budget_is_refused_and_nothing_is_written(
        instance, make_practice, monkeypatch):
    from exchange.library import bounded_rendering
    from exchange.library.practice import InvalidPractice

    publishing.publish(instance, make_practice(), "flood-warning", "t")
    monkeypatch.setattr(bounded_rendering, "PUBLISH_SECONDS", 0)  # every render is past a budget of 0 s
    with pytest.raises(InvalidPractice, match="body: This text is too complex to render in 0 seconds"):
        publishing.publish(instance, make_practice(body="*a **a " * 100), "flood-warning", "t")
    assert instance.store.versions("jakarta/flood-warning") == [1]
    assert consistency.check(instance) == []


def test_an_approval_publishes_only_the_text_the_submission_still_holds(instance, make_practice, monkeypatch):
    """K-5: the author revises (after another reviewer asked for changes) while an approval is under way."""
    siti, _ayu, rina, budi = add_people(instance)
    publishing.publish(instance, make_practice(), "flood-warning", "t")
    submission = submitted(instance, siti, make_practice, "Siti's first text.\n")
    publish = publishing.publish

    def revised_meanwhile(*args, **kwargs):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(publishing, "publish", publish)  # once: Rina read the first text, then this
        submissions.review(instance, budi, submission, "request_changes")
        text = make_practice(body="Siti's second text.\n").decode()
        submissions.save(instance, siti, "jakarta", "flood-warning", text, 1, submission_id=submission)
        submissions.submit(instance, siti, submission)
        return publish(*args, **kwargs)

    monkeypatch.setattr(publishing, "publish", revised_meanwhile)
    with pytest.raises((submissions.WrongState, submissions.StaleEdit)):
        submissions.review(instance, rina, submission, "approve")
    assert instance.store.versions("jakarta/flood-warning") == [1]  # the first text was never published
    assert consistency.check(instance) == []
    assert status(instance, submission) == "submitted"  # the second text waits for a reviewer to read it
    assert submissions.review(instance, rina, submission, "approve") == 2
    assert b"Siti's second text." in instance.store.read_version("jakarta/flood-warning", 2)
