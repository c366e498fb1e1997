"""Contributions: drafts, submission, review and publication of practices written by partner cities.

Draft → submitted → changes requested / approved / rejected (and withdrawn). Approval publishes a new
version through the library; while an update is in review the published version stays live. A text
written against an older version than the one now published is never published over it: it is
refused as stale and kept as a draft, next to the newer text.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import diffs
from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Conflict
from exchange.errors import Invalid
from exchange.errors import NotAllowed
from exchange.errors import PracticeNotFound
from exchange.library import cities
from exchange.library import publishing
from exchange.library.practice import InvalidPractice
from exchange.library.practice import Problem
from exchange.library.practice import check_slug
from exchange.library.practice import parse
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import Submission
from exchange.models import SubmissionEvent
from exchange.models import User
from exchange.models import utcnow
from exchange.policy import Viewer
from exchange.review import notifications

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

EDITABLE = ("draft", "changes_requested")
OPEN = ("draft", "submitted", "changes_requested")
#: what the author is told of each decision on their submission (a reviewer's comment follows it)
DECIDED = {
    "commented": N_("%(name)s commented on “%(title)s”."),
    "changes_requested": N_("%(name)s asked for changes to “%(title)s”."),
    "approved": N_("%(name)s approved “%(title)s”; it is published."),
    "rejected": N_("%(name)s did not accept “%(title)s”."),
}
#: what the reviewers are told of a text sent for review
SUBMITTED = N_("%(name)s sent “%(title)s” for review.")
#: the sentences notifications were stored with before they named the title (so each said its kind twice),
#: and what such a notification says now (its title then is the practice's address: titles were not kept)
REWORDED = {
    "%(name)s submitted %(practice)s for review.": SUBMITTED,
    "%(name)s: commented — %(practice)s.": DECIDED["commented"],
    "%(name)s: changes requested — %(practice)s.": DECIDED["changes_requested"],
    "%(name)s: approved — %(practice)s.": DECIDED["approved"],
    "%(name)s: rejected — %(practice)s.": DECIDED["rejected"],
}
#: what the author is told when an approval found a newer version published since their text was started
SENT_BACK = N_("“%(title)s” was not published: version %(version)s was published after your text was started. "
               "Your text is kept: edit it to bring in what changed, then submit it again.")


class StaleEdit(Conflict):
    """Someone published a newer version since this text was started; both texts are kept."""

    def __init__(self, submission_id: int, current_version: int) -> None:
        super().__init__(Message(N_("version %(version)s was published since this text was started"),
                                 version=current_version))
        self.submission_id = submission_id
        self.current_version = current_version


class WrongState(Conflict, ValueError):
    """The submission is not in a state that allows this step."""


def _status(submission: Submission) -> Message:
    """A submission's status as words ("changes requested"), which the catalogs hold (the pages name them)."""
    return Message(submission.status.replace("_", " "))


@dataclass(frozen=True)
class Draft:
    id: int
    practice_id: str
    status: str


def refuse(instance: Instance, viewer: Viewer, action: str, target: str) -> NotAllowed:
    """Audit a refused attempt and return the error to raise."""
    return _refuse(instance, viewer, action, target)


def _refuse(instance: Instance, viewer: Viewer, action: str, target: str) -> NotAllowed:
    with instance.db.writing() as session:
        audit.record(session, viewer.email or "anonymous", "permission.refused", target, attempted=action)
    log.warning("refused %s on %r for %r", action, target, viewer.email or None)
    return NotAllowed(f"not allowed to {action} {target}")


def check_text(text: str, city: str, slug: str) -> None:
    """Raise InvalidPractice when ``text`` is not a valid practice for ``city``/``slug``."""
    problem = check_slug(slug)
    if problem:
        raise InvalidPractice(f"{city}/{slug}", [Problem("slug", problem)])
    practice = parse(text.encode("utf-8"), slug)
    if practice.city != city:
        raise InvalidPractice(practice.id, [Problem("city", Message(
            N_("%(city)s is not %(folder)s: a practice is written for the city it is filed under"),
            city=repr(practice.city), folder=repr(city)))])


def save(instance: Instance, viewer: Viewer, city: str, slug: str, text: str, base_version: int | None,
         note: str = "", submission_id: int | None = None) -> Draft:
    """Create or update a draft of ``city/slug`` written by ``viewer`` (validated, not yet submitted)."""
    if not policy.may_contribute(viewer, city):
        raise _refuse(instance, viewer, "write for", f"{city}/{slug}")
    check_text(text, city, slug)
    practice_id = f"{city}/{slug}"
    with instance.db.writing() as session:
        if base_version is None and _current_version(session, practice_id) is not None:
            raise InvalidPractice(practice_id, [Problem("slug", Message(
                N_("%(slug)s is already the address of a practice of %(city)s; edit that practice or choose another"),
                slug=repr(slug), city=city))])
        submission: Submission | None
        if submission_id is None:
            submission = Submission(practice_id=practice_id, city=city, author_id=viewer.id, text=text,
                                    base_version=base_version, status="draft", note=note[:2000])
            session.add(submission)
            session.flush()
        else:
            submission = session.get(Submission, submission_id)
            if submission is None or not policy.is_author(viewer, submission) or submission.practice_id != practice_id:
                raise NotAllowed("not your draft")
            if submission.status not in EDITABLE:
                raise WrongState(Message(N_("a %(status)s submission cannot be edited"), status=_status(submission)))
            # Edited again, a draft answers to the version the form showed (a stale draft is brought forward).
            submission.text, submission.note, submission.updated_at = text, note[:2000], utcnow()
            submission.base_version = base_version
        session.add(SubmissionEvent(submission_id=submission.id, actor=viewer.email, action="save"))
        audit.record(session, viewer.email, "submission.save", practice_id, submission=submission.id)
        return Draft(submission.id, practice_id, submission.status)


def _is_city(instance: Instance, slug: str) -> bool:
    try:
        cities.get(instance, slug)
    except LookupError:
        return False
    return True


def _current_version(session: Session, practice_id: str) -> int | None:
    record = session.get(PracticeRecord, practice_id)
    return record.version if record else None


def _authored(session: Session, viewer: Viewer, submission_id: int) -> Submission:
    """The submission ``viewer`` wrote (NotAllowed for anyone else's, or none)."""
    submission = session.get(Submission, submission_id)
    if submission is None or not policy.is_author(viewer, submission):
        raise NotAllowed("not your submission")
    return submission


def submit(instance: Instance, viewer: Viewer, submission_id: int) -> None:
    """Send a draft to the reviewers; refused as stale when a newer version was published meanwhile."""
    with instance.db.writing() as session:
        submission = _authored(session, viewer, submission_id)
        if submission.status not in EDITABLE:
            raise WrongState(Message(N_("a %(status)s submission cannot be submitted"), status=_status(submission)))
        current = _current_version(session, submission.practice_id)
        if current != submission.base_version:
            raise StaleEdit(submission.id, current or 0)
        submission.status, submission.updated_at = "submitted", utcnow()
        session.add(SubmissionEvent(submission_id=submission.id, actor=viewer.email, action="submit"))
        audit.record(session, viewer.email, "submission.submit", submission.practice_id, submission=submission.id)
        notifications.add(session, [r for r in notifications.reviewers(session) if r != viewer.id],
                          "submitted", SUBMITTED, f"/submissions/{submission.id}",
                          {"name": viewer.name, "title": _title_and_language(submission)[0],
                           "practice": submission.practice_id})


def withdraw(instance: Instance, viewer: Viewer, submission_id: int) -> None:
    """The author withdraws an open submission (it is kept, marked withdrawn)."""
    with instance.db.writing() as session:
        submission = _authored(session, viewer, submission_id)
        if submission.status not in OPEN:
            raise WrongState(Message(N_("only an open submission can be withdrawn")))
        submission.status, submission.updated_at = "withdrawn", utcnow()
        session.add(SubmissionEvent(submission_id=submission.id, actor=viewer.email, action="withdraw"))
        audit.record(session, viewer.email, "submission.withdraw", submission.practice_id)


def review(instance: Instance, reviewer: Viewer, submission_id: int, decision: str, comment: str = "") -> int | None:
    """Approve (publishes; returns the new version), request changes, or reject a submitted text.

    Approval publishes compare-and-set on the version the text was written against, and the
    submission is closed in the same transaction: either both happen or neither does.
    """
    if decision not in ("approve", "request_changes", "reject", "comment"):
        raise Invalid(f"unknown decision {decision!r}")
    if not policy.may_review(reviewer):
        raise _refuse(instance, reviewer, "review", f"submission {submission_id}")
    with instance.db.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise NotAllowed("no such submission")
        if decision != "comment" and not policy.may_decide(reviewer, submission):
            raise _refuse(instance, reviewer, "review their own submission", submission.practice_id)
        _check_reviewable(submission, decision)
        practice_id, text, base, note = (submission.practice_id, submission.text, submission.base_version,
                                         submission.note)
        author = session.get(User, submission.author_id)
        credit = author.name if author is not None else ""
    if author is not None and author.id != reviewer.id:
        credit = f"{credit} (approved by {reviewer.name})"
    status = {"approve": "approved", "request_changes": "changes_requested", "reject": "rejected"}.get(decision)

    def close(session: Session, version: int | None) -> None:
        submission = session.get_one(Submission, submission_id, with_for_update=True)  # submissions stay
        _check_reviewable(submission, decision)  # again, under the lock: another reviewer may have decided
        if decision == "approve" and (submission.text, submission.base_version) != (text, base):
            # sent back and revised since it was read: approve the text the submission holds now, not that one
            raise WrongState(Message(N_("the submission was revised while it was being approved; read it again")))
        if status:
            submission.status, submission.updated_at = status, utcnow()
        if version:
            submission.published_version = version
        session.add(SubmissionEvent(submission_id=submission_id, actor=reviewer.email, action=decision,
                                    comment=comment[:5000]))
        audit.record(session, reviewer.email, f"submission.{decision}", practice_id, submission=submission_id,
                     version=version)
        kind = {"comment": "commented"}.get(decision, status) or decision
        notifications.add(session, [submission.author_id], kind, DECIDED[kind], f"/submissions/{submission_id}",
                          {"name": reviewer.name, "title": _title_and_language(submission)[0], "practice": practice_id},
                          postscript=comment)

    version = None
    if decision == "approve":
        try:
            outcome = publishing.publish(instance, text.encode("utf-8"), practice_id.split("/")[1], reviewer.email,
                                      note=note or f"submission {submission_id}", credit=credit,
                                      expected_version=base, submission_id=submission_id,
                                      also=lambda session, outcome: close(session, outcome.version))
        except publishing.VersionConflict as conflict:
            _send_back_as_stale(instance, reviewer, submission_id, conflict.current or 0)
            raise StaleEdit(submission_id, conflict.current or 0) from None
        version = outcome.version
    else:
        with instance.db.writing() as session:
            close(session, None)
    return version


def _send_back_as_stale(instance: Instance, reviewer: Viewer, submission_id: int, current: int) -> None:
    """A text refused at approval because a newer version was published goes back to its author, kept."""
    with instance.db.writing() as session:
        submission = session.get(Submission, submission_id, with_for_update=True)
        if submission is None or submission.status != "submitted":
            return
        submission.status, submission.updated_at = "changes_requested", utcnow()
        comment = (f"Version {current} was published after this text was started, so it was not published over "
                   "it. Your text is kept: edit it to bring in what changed, then submit it again.")
        session.add(SubmissionEvent(submission_id=submission_id, actor=reviewer.email, action="stale",
                                    comment=comment))
        audit.record(session, reviewer.email, "submission.stale", submission.practice_id, submission=submission_id,
                     current=current)
        notifications.add(session, [submission.author_id], "changes_requested", SENT_BACK,
                          f"/submissions/{submission_id}",
                          {"title": _title_and_language(submission)[0], "practice": submission.practice_id,
                           "version": current})


def published_since(instance: Instance, submission: Submission) -> tuple[int, diffs.Changes] | None:
    """What was published after the version a text was written against: (current version, changes), or None."""
    with instance.db.session() as session:
        record = session.get(PracticeRecord, submission.practice_id)
    if record is None or submission.base_version is None or record.version == submission.base_version:
        return None
    try:
        texts = [instance.store.read_version(record.id, n).decode("utf-8")
                 for n in (submission.base_version, record.version)]
    except (FileNotFoundError, ValueError):
        return None
    return record.version, diffs.practice(*texts)


@dataclass(frozen=True)
class Step:
    """One step of a submission's review as people see it: what was done, by whom (their name), when."""

    action: str
    #: the person's name; empty when no account did it (the command line, a harvest: its node is the actor)
    who: str
    #: the address of who did it: for administrators only
    actor: str
    comment: str
    at: datetime.datetime


def close_published(instance: Instance, practice_id: str, actor: str) -> list[Message]:
    """Mark approved the submissions of ``practice_id`` whose text was published but which were left
    open (by a crash from before publishing and closing shared one transaction); what was done."""
    done = []
    with instance.db.writing() as session:
        rows = session.execute(sa.select(Submission, PracticeVersion.version)
                               .join(PracticeVersion, PracticeVersion.submission_id == Submission.id)
                               .where(Submission.practice_id == practice_id, Submission.status == "submitted"))
        for submission, version in rows:
            submission.status, submission.published_version, submission.updated_at = "approved", version, utcnow()
            session.add(SubmissionEvent(submission_id=submission.id, actor=actor, action="approve",
                                        comment=f"closed by exchange check: published as version {version}"))
            audit.record(session, actor, "submission.close-published", practice_id, submission=submission.id,
                         version=version)
            done.append(Message(N_("%(practice)s: submission %(submission)s marked approved (published as "
                                   "v%(version)s)"), practice=practice_id, submission=submission.id, version=version))
    return done


def _check_reviewable(submission: Submission, decision: str) -> None:
    if submission.status != "submitted" and decision != "comment":
        raise WrongState(Message(N_("a %(status)s submission cannot be reviewed"), status=_status(submission)))


def visible_submission(instance: Instance, viewer: Viewer, submission_id: int) -> Submission:
    """A submission its author or a reviewer may see (others: PracticeNotFound, like an unknown one)."""
    with instance.db.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or not policy.may_see_submission(viewer, submission):
            raise PracticeNotFound(f"submission {submission_id}")
        return submission


def author_name(instance: Instance, submission: Submission) -> str:
    """The name the submission's author chose ("" when their account is gone)."""
    with instance.db.session() as session:
        author = session.get(User, submission.author_id)
        return author.name if author is not None else ""


def events(instance: Instance, submission_id: int) -> list[Step]:
    """The submission's review history, oldest first, people named as they chose."""
    with instance.db.session() as session:
        rows = session.execute(sa.select(SubmissionEvent, User.name)
                               .outerjoin(User, User.email == SubmissionEvent.actor)
                               .where(SubmissionEvent.submission_id == submission_id)
                               .order_by(SubmissionEvent.at, SubmissionEvent.id))
        return [Step(event.action, name or "", event.actor, event.comment, event.at)
                for event, name in rows]


@dataclass(frozen=True)
class Authored:
    """One of the person's own drafts or submissions as their dashboard lists it."""

    id: int
    title: str
    language: str
    status: str
    updated_at: datetime.datetime


def mine(instance: Instance, viewer: Viewer) -> list[Authored]:
    """The person's drafts and submissions, the latest changed first, named by their titles."""
    with instance.db.session() as session:
        rows = list(session.scalars(sa.select(Submission).where(Submission.author_id == viewer.id)
                                    .order_by(Submission.updated_at.desc(), Submission.id.desc())))
    return [Authored(s.id, *_title_and_language(s), s.status, s.updated_at) for s in rows]


@dataclass(frozen=True)
class Waiting:
    """A submission in the review queue as a reviewer scans it: what, by whom, in which language, since when."""

    id: int
    practice_id: str
    city: str
    title: str
    language: str
    author: str
    #: the published version the text updates; None for a new practice
    base_version: int | None
    #: when it was (last) sent for review, UTC
    since: datetime.datetime

    @property
    def is_update(self) -> bool:
        return self.base_version is not None


def queue(instance: Instance, reviewer: Viewer) -> list[Waiting]:
    """Submissions waiting for review, the longest waiting first (reviewers only)."""
    if not policy.may_review(reviewer):
        return []
    with instance.db.session() as session:
        rows = session.execute(sa.select(Submission, User.name).outerjoin(User, User.id == Submission.author_id)
                               .where(Submission.status == "submitted")
                               .order_by(Submission.updated_at, Submission.id)).all()
    return [Waiting(submission.id, submission.practice_id, submission.city, *_title_and_language(submission),
                    name or "", submission.base_version, submission.updated_at) for submission, name in rows]


def _title_and_language(submission: Submission) -> tuple[str, str]:
    """A submitted text's title and language (its address and "" when the text cannot be read as a practice)."""
    try:
        document = parse(submission.text.encode("utf-8"), submission.practice_id.split("/")[1])
    except InvalidPractice:
        return submission.practice_id, ""
    return str(document.title), str(document.language)


def diff_against_live(instance: Instance, submission: Submission) -> diffs.Changes:
    """What the submitted text changes in the published one: fields and body."""
    with instance.db.session() as session:
        record = session.get(PracticeRecord, submission.practice_id)
    try:
        live = instance.store.read_version(record.id, record.version).decode("utf-8") if record else ""
    except (FileNotFoundError, ValueError):
        live = ""
    return diffs.practice(live, submission.text)


@dataclass(frozen=True)
class UploadResult:
    """One uploaded file: saved as a draft, or refused with its problems."""

    name: str
    draft: Draft | None
    problems: tuple[str, ...] = ()


#: the largest file an upload may hold (a .md or a .zip); a reader reads one byte more to know it is larger
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: the most files one upload may hold; more are not read
MAX_UPLOAD_FILES = 50
TOO_LARGE = N_("larger than the 10 MB upload limit")


#: the note a draft keeps of how its text came, by the way it came (``web/i18n.note`` says it in the reader's language)
UPLOAD_NOTES = {"upload": "uploaded {name}", "api": "submitted through the API ({name})"}


def upload(instance: Instance, viewer: Viewer, files: list[tuple[str, bytes]],
           via: str = "upload") -> list[UploadResult]:
    """Check each uploaded ``.md`` (or every ``.md`` of a ``.zip``) and keep the valid ones as drafts.

    Nothing is submitted: the person sees the per-file report first and submits from there. Of ``files``
    (each read to at most ``MAX_UPLOAD_BYTES`` + 1 bytes), the first ``MAX_UPLOAD_FILES`` are taken, and
    one larger than ``MAX_UPLOAD_BYTES`` is refused unread. ``via`` (a key of ``UPLOAD_NOTES``) is how the
    files came, noted on each draft for its reviewers.
    """
    files = files[:MAX_UPLOAD_FILES]
    too_large = [name for name, content in files if len(content) > MAX_UPLOAD_BYTES]
    results = _upload(instance, viewer, [(n, c) for n, c in files if len(c) <= MAX_UPLOAD_BYTES],
                      UPLOAD_NOTES[via])
    return results + [UploadResult(name, None, (Message(TOO_LARGE),)) for name in too_large]


def upload_for_review(instance: Instance, viewer: Viewer, files: list[tuple[str, bytes]]) -> list[UploadResult]:
    """:func:`upload`, then each valid file's draft submitted for review at once (for the API, which has no
    second step); a draft that cannot be submitted stays a draft, its report saying why."""
    results = []
    for result in upload(instance, viewer, files, via="api"):
        if result.draft is not None:
            try:
                submit(instance, viewer, result.draft.id)
                result = UploadResult(result.name, Draft(result.draft.id, result.draft.practice_id, "submitted"))
            except (NotAllowed, WrongState, StaleEdit) as error:
                result = UploadResult(result.name, result.draft, (str(error),))
        results.append(result)
    return results


def _upload(instance: Instance, viewer: Viewer, files: list[tuple[str, bytes]], note: str) -> list[UploadResult]:
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from exchange.library import bundles

    entries: list[tuple[str, bytes | None, str | None, str | None]] = []  # name, data, problem, city folder
    for name, content in files:
        if name.lower().endswith(".zip"):
            with TemporaryDirectory() as scratch:
                path = Path(scratch) / "upload.zip"
                path.write_bytes(content)
                try:
                    found, extras = bundles.read_zip(path)
                except bundles.BadBundle as error:
                    entries += [(f"{name}: {e.source.split(':', 1)[1]}", None, e.problem, None)
                                for e in error.entries] or [(name, None, str(error).replace(str(path), name), None)]
                    continue
            entries += [(f"{name}: {e.source.split(':', 1)[1]}", e.data, e.problem, e.folder) for e in found]
            if bundles.CITIES_FILE in extras:
                entries.append((f"{name}: {bundles.CITIES_FILE}", None, "cities are added by administrators; ignored",
                                None))
            if bundles.PACK_FILE in extras:
                entries.append((f"{name}: {bundles.PACK_FILE}", None,
                                "a course pack's structure: import it on Course packs", None))
        elif name.lower().endswith(".md"):
            entries.append((name, content, None, None))
        else:
            entries.append((name, None, "only Markdown (.md) files and .zip bundles of them can be uploaded", None))
    results = []
    for name, data, problem, folder in entries:
        if problem or data is None:
            results.append(UploadResult(name, None, (problem or "unreadable",)))
            continue
        slug = Path(name.rsplit("/", 1)[-1]).stem
        try:
            practice = parse(data, slug, name)
        except InvalidPractice as error:
            results.append(UploadResult(name, None, tuple(str(p) for p in error.problems)))
            continue
        if folder and folder != practice.city and _is_city(instance, folder):
            results.append(UploadResult(name, None, (f"city: {practice.city!r} is not {folder!r}, the folder the file "
                                                     "is filed under; move it or correct its city",)))
            continue
        if not policy.may_contribute(viewer, practice.city):
            results.append(UploadResult(name, None, (f"city: you do not write for {practice.city!r}",)))
            continue
        with instance.db.session() as session:
            base = _current_version(session, practice.id)
        draft = save(instance, viewer, practice.city, slug, data.decode("utf-8"), base,
                     note=note.format(name=name))
        results.append(UploadResult(name, draft))
    return results


def withdraw_harvested(session: Session, author_id: int, practice_id: str, sender: str) -> int | None:
    """The harvester's open submission of ``practice_id`` withdrawn, in ``session``'s transaction, because its
    node no longer makes the practice public (a reviewer must not publish that text here); its id, or None."""
    submission = session.scalar(sa.select(Submission).where(
        Submission.practice_id == practice_id, Submission.author_id == author_id,
        Submission.status == "submitted").order_by(Submission.id.desc()).limit(1).with_for_update())
    if submission is None:
        return None
    submission.status, submission.updated_at = "withdrawn", utcnow()
    session.add(SubmissionEvent(submission_id=submission.id, actor=sender[:254], action="withdraw"))
    audit.record(session, sender[:200], "submission.withdraw", practice_id, submission=submission.id)
    return submission.id


def propose_harvested(session: Session, author_id: int, practice_id: str, text: str, base_version: int | None,
                      note: str, sender: str) -> tuple[int, bool]:
    """Send a harvested text that met a local edit to the reviewers, in ``session``'s transaction: the
    harvester's open submission of ``practice_id`` takes the new text, or a new one is made; its id, and
    whether anything changed (False: the same text is already waiting)."""
    submission = session.scalar(sa.select(Submission).where(
        Submission.practice_id == practice_id, Submission.author_id == author_id,
        Submission.status == "submitted").order_by(Submission.id.desc()).limit(1).with_for_update())
    if submission is not None and submission.text == text and submission.base_version == base_version:
        return submission.id, False
    if submission is None:
        submission = Submission(practice_id=practice_id, city=practice_id.partition("/")[0], author_id=author_id,
                                text=text, base_version=base_version, status="submitted", note=note[:2000])
        session.add(submission)
        session.flush()
    else:
        submission.text, submission.base_version, submission.note = text, base_version, note[:2000]
        submission.updated_at = utcnow()
    session.add(SubmissionEvent(submission_id=submission.id, actor=sender[:254], action="harvest"))
    audit.record(session, sender[:200], "submission.harvest", practice_id, submission=submission.id)
    notifications.add(session, notifications.reviewers(session), "submitted", SUBMITTED,
                      f"/submissions/{submission.id}",
                      {"name": sender, "title": _title_and_language(submission)[0], "practice": practice_id})
    return submission.id, True
