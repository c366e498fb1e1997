"""Does the instance agree with itself? ``exchange check`` compares the library files, the catalogue, the
submissions and the search index; ``--repair`` finishes what a crash or a hand edit left half done.

Files are the truth for content: a file the catalogue does not know is published from, a catalogue row
without its file gets the file back from history, a submission published but left open is closed, and
the index is brought in step through the outbox (or rebuilt when unusable).

What it says is said in a language (the command's environment's, unless told): a drift's ``kind`` stays
the English key code and tests compare, and is named at display (``KINDS``); details and repairs are
catalog messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import catalogs
from exchange.catalogs import N_
from exchange.catalogs import Message
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


#: each kind of drift, by the name people read (catalog messages)
KINDS = {
    "unreadable file": N_("unreadable file"),
    "file not in catalogue": N_("file not in catalogue"),
    "file behind catalogue": N_("file behind catalogue"),
    "file changed on disk": N_("file changed on disk"),
    "submission left open": N_("submission left open"),
    "catalogue without file": N_("catalogue without file"),
    "unacknowledged version": N_("unacknowledged version"),
    "index behind": N_("index behind"),
    "index unusable": N_("index unusable"),
    "missing from index": N_("missing from index"),
    "stale in index": N_("stale in index"),
    "orphaned in index": N_("orphaned in index"),
}


@dataclass(frozen=True)
class Drift:
    """One disagreement between library files, database and index."""

    kind: str
    practice_id: str
    detail: str = ""

    def line(self, language: str | None = None) -> str:
        """The drift as one line in ``language`` (the command's environment's when None)."""
        language = language or catalogs.environment_language()
        name = catalogs.gettext(language, KINDS[self.kind]) if self.kind in KINDS else self.kind
        detail = catalogs.said(self.detail, language)
        return f"{name}  {self.practice_id}" + (f"  ({detail})" if detail else "")


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
            drifts.append(Drift("file behind catalogue", practice_id, Message(
                N_("file is v%(file)s, catalogue has v%(catalogue)s"),
                file=published[practice_id, sha], catalogue=record.version)))
        elif record.sha256 != sha:
            drifts.append(Drift("file changed on disk", practice_id, Message(
                N_("catalogue has v%(catalogue)s"), catalogue=record.version)))
    for submission_id, practice_id, version in half_approved:
        drifts.append(Drift("submission left open", practice_id, Message(
            N_("submission %(submission)s was published as v%(version)s"), submission=submission_id,
            version=version)))
    for practice_id, record in records.items():
        if practice_id not in files:
            drifts.append(Drift("catalogue without file", practice_id))
        newer = [v for v in instance.store.versions(practice_id) if v > record.version]
        if newer:
            drifts.append(Drift("unacknowledged version", practice_id, Message(
                N_("history has newer versions: %(versions)s"), versions=", ".join(map(str, newer)))))
    if behind(instance):
        drifts.append(Drift("index behind", "-", Message(
            N_("node %(node)s missed index updates that were pruned before it applied them: its index must be "
               "rebuilt"), node=instance.node)))
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


#: drifts that only a rebuild of the search index mends
REBUILT = ("index unusable", "index behind")


def repair(instance: Instance, drifts: list[Drift], actor: str, language: str | None = None) -> list[str]:
    """Fix what ``check`` found (files are the truth for content); one line per action taken, in
    ``language`` (the command's environment's when None)."""
    done: list[str] = []
    if any(d.kind in REBUILT for d in drifts):
        done.append(Message(N_("rebuilt the search index (%(count)s practices)"), count=rebuild(instance)))
        drifts = [d for d in drifts if d.kind not in REBUILT]
    for drift in drifts:
        if drift.kind in ("file not in catalogue", "file changed on disk"):
            city, _, slug = drift.practice_id.partition("/")
            try:
                outcome = publishing.publish(instance, instance.store.read_current(drift.practice_id), slug, actor,
                                          note="recorded by exchange check", index=False)
                done.append(Message(N_("published %(practice)s as v%(version)s"),
                                    practice=drift.practice_id, version=outcome.version))
            except InvalidPractice as error:
                done.append(Message(N_("could not publish %(practice)s: %(error)s"), practice=drift.practice_id,
                                    error=str(error)))
        elif drift.kind in ("catalogue without file", "file behind catalogue"):
            done.append(publishing.restore_missing_file(instance, drift.practice_id, actor))
        elif drift.kind == "submission left open":
            done += submissions.close_published(instance, drift.practice_id, actor)
        elif drift.kind == "unacknowledged version":
            done.append(publishing.set_aside_unacknowledged(instance, drift.practice_id, actor))
        elif drift.kind in ("missing from index", "stale in index", "orphaned in index"):
            with instance.db.writing() as session:
                enqueue(session, drift.practice_id)
            done.append(Message(N_("queued %(practice)s for indexing"), practice=drift.practice_id))
    drain(instance)
    language = language or catalogs.environment_language()
    return [str(catalogs.said(line, language)) for line in done]
