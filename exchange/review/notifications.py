"""Notifications: in the app always, by e-mail too when SMTP is configured.

Kinds: submitted, commented, changes_requested, approved, rejected, review_due. A notification is
stored in the same transaction as the event it reports, and so is its e-mail: a "mail" job (the
outbox) that exists exactly when that transaction commits. The job runner sends it (``send``), over
one connection for the letters due together, and tries again with a growing wait while the server
cannot be reached; no request waits for a mail server, and a failure to send never undoes the event.
A notification and its e-mail are written in the language each recipient chose for the interface
(English when they chose none), from a message of the catalogs and its values (``exchange.catalogs``).
The app keeps a notification's link relative (``/submissions/3``); its e-mail carries the link made
absolute against the library's base URL (EXCHANGE_BASE_URL), since a mail client has no page to
resolve it against.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import catalogs
from exchange import mail
from exchange import policy
from exchange.catalogs import N_
from exchange.jobs import queue as jobs
from exchange.jobs.runner import Context
from exchange.models import Notification
from exchange.models import User
from exchange.models import utcnow

if TYPE_CHECKING:
    from exchange.instance import Instance

#: the kind of job that carries one letter
MAIL = "mail"

SUBJECTS = {
    "submitted": N_("A practice is waiting for your review"),
    "commented": N_("A reviewer commented on your submission"),
    "changes_requested": N_("Changes were requested on your submission"),
    "approved": N_("Your submission was approved and published"),
    "rejected": N_("Your submission was not accepted"),
    "review_due": N_("A practice of your city is due for review"),
    "saved_search": N_("A new or updated practice matches your saved search"),
    "pack_update": N_("A practice in your pack has changed"),
}

#: what a city's contributors are told of a practice due for review (its date written YYYY-MM-DD in any language)
REVIEW_DUE = N_("“%(title)s” should be reviewed by %(date)s.")


@dataclass(frozen=True)
class Letter:
    """The e-mail of one notification, to send once the event's transaction commits."""

    to: str
    subject: str
    message: str
    link: str  # as stored for the app: a path on the library's site

    def text(self, base_url: str) -> str:
        """The body: the message, then the link made absolute against ``base_url``."""
        return f"{self.message}\n\n{absolute(base_url, self.link)}\n"


def absolute(base_url: str, link: str) -> str:
    """``link`` as a full address under ``base_url`` (kept as it is when it already is one).

    The base's own path is kept (``https://example.org/exchange`` + ``/submissions/3`` →
    ``https://example.org/exchange/submissions/3``), as for a library served under a prefix.
    """
    if urlsplit(link).scheme:
        return link
    return f"{base_url.rstrip('/')}/{link.lstrip('/')}"


def add(session: Session, user_ids: list[int], kind: str, message: str, link: str, values: dict[str, Any] | None = None,
        postscript: str = "") -> list[Letter]:
    """Store notifications in ``session``, each with a job to e-mail it once the transaction commits; the letters.

    ``message`` is a message of the catalogs (marked with ``N_``) with ``values`` to put in, written in
    each recipient's language; ``postscript`` (a reviewer's comment) follows it as it was written.
    """
    letters = []
    for user in session.scalars(sa.select(User).where(User.id.in_(user_ids), User.active.is_(True))):
        text = catalogs.gettext(user.language, message, **(values or {})) + (f"\n\n{postscript}" if postscript else "")
        session.add(Notification(user_id=user.id, kind=kind, message=text, template=message,
                                 arguments={**(values or {}), "postscript": postscript}, link=link))
        subject = catalogs.gettext(user.language, SUBJECTS[kind]) if kind in SUBJECTS else "Practice Exchange"
        letter = Letter(user.email, subject, text, link)
        jobs.enqueue(session, MAIL, asdict(letter))
        letters.append(letter)
    return letters


def send(context: Context, letters: list[dict]) -> list[str | None]:
    """Send queued letters over one connection (the job runner's "mail" jobs); for each, None or why it failed.

    Without SMTP settings there is nothing to send: the notification in the app is all there is.
    """
    settings = context.instance.mail
    if settings is None:
        return [None] * len(letters)
    return mail.deliver(settings, [mail.Message(letter.to, letter.subject, letter.text(settings.base_url))
                                   for letter in (Letter(**fields) for fields in letters)])


def _person(user: User, cities: tuple[str, ...] = ()) -> policy.Viewer:
    """``user`` as the policy sees them (with ``cities``: the memberships that matter to the question)."""
    return policy.Viewer(id=user.id, email=user.email, name=user.name, roles=tuple(user.roles or ()), cities=cities)


def reviewers(session: Session) -> list[int]:
    """The active people who are told that a text is waiting for review."""
    return [u.id for u in session.scalars(sa.select(User).where(User.active.is_(True)))
            if policy.told_of_submissions(_person(u))]


def unread(instance: Instance, user_id: int) -> list[Notification]:
    with instance.db.session() as session:
        return list(session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id, Notification.read_at.is_(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc())))


def recent(instance: Instance, user_id: int, limit: int = 50) -> list[Notification]:
    with instance.db.session() as session:
        return list(session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                    .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def open_recent(instance: Instance, user_id: int, limit: int = 50) -> list[Notification]:
    """The person's latest notifications as they were before this look (unread ones still unread, to show as
    new), all of them marked read now that they have been seen."""
    shown = recent(instance, user_id, limit)
    if any(n.read_at is None for n in shown):
        with instance.db.claiming() as session:  # a short write of the person's own rows, behind no publish
            session.execute(sa.update(Notification).where(Notification.user_id == user_id,
                                                          Notification.read_at.is_(None)).values(read_at=utcnow()))
    return shown


def follow(instance: Instance, user_id: int, notification_id: int) -> str | None:
    """The link of the person's notification ``notification_id``, marked read; None when it is not theirs."""
    with instance.db.claiming() as session:
        notification = session.get(Notification, notification_id)
        if notification is None or notification.user_id != user_id:
            return None
        if notification.read_at is None:
            notification.read_at = utcnow()
        return notification.link


def mark_read(instance: Instance, user_id: int) -> None:
    with instance.db.writing() as session:
        session.execute(sa.update(Notification).where(Notification.user_id == user_id,
                                                      Notification.read_at.is_(None)).values(read_at=utcnow()))


def review_due(instance: Instance, within_days: int = 30) -> int:
    """Tell each city's contributors which of its practices are due for review (once a day); how many told."""
    from exchange.library import reading
    from exchange.models import Membership

    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    letters: list[Letter] = []
    with instance.db.writing() as session:
        members: dict[str, list[int]] = {}
        for membership in session.scalars(sa.select(Membership)):
            members.setdefault(membership.city, []).append(membership.user_id)
        for city, user_ids in members.items():
            contributors = [u.id for u in session.scalars(sa.select(User).where(User.id.in_(user_ids)))
                            if policy.told_of_review_due(_person(u, (city,)), city)]
            for record in reading.due_for_review(instance, (city,), within_days):
                link = f"/practices/{record.id}"
                already = session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
                    Notification.kind == "review_due", Notification.link == link,
                    Notification.created_at >= today))
                if not already:
                    letters += add(session, contributors, "review_due", REVIEW_DUE, link,
                                   {"title": record.title, "date": str(record.meta["review_by"])})
    return len(letters)

