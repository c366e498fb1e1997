"""Does the instance agree with itself? ``exchange check`` compares the library files, the catalogue, the
submissions and the search index; ``--repair`` finishes what a crash or a hand edit left half done.

Files are the truth for content: a file the catalogue does not know is published from, a catalogue row
without its file gets the file back from history, a submission published but left open is closed, and
the index is brought in step through the outbox (or rebuilt when unusable).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange.library import publishing
from exchange.library.practice import InvalidPractice
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import Submission
from exchange.review import submissions
from exchange.search.indexing import behind
from exchange.search.indexing import drain
from exchange.search.indexing import enqueue
from exchange.search.indexing import rebuild

if TYPE_CHECKING:
    from exchange.instance import Instance


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
    if behind(instance):
        drifts.append(Drift("index behind", "-", f"node {instance.node} missed index updates that were pruned "
                                                 "before it applied them: its index must be rebuilt"))
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
    done: list[str] = []
    if any(d.kind in ("index unusable", "index behind") for d in drifts):
        done.append(f"rebuilt the search index ({rebuild(instance)} practices)")
        drifts = [d for d in drifts if d.kind not in ("index unusable", "index behind")]
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
