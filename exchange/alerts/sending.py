"""Alerts of new and updated practices: to the owners of saved searches, and to pack owners of their pins.

Every published version asks for a job (``library.publishing.ALERTS``), run once the version is
searchable: each *immediate* saved search it matches alerts its owner, and each pack that pins the
practice at an earlier version (or pins another member of its translation group, when this is a new
translation into the pack's language) alerts the pack's owner. *Daily* and *weekly* saved searches are
looked at by a recurring job (``DIGESTS``), over the versions published since they were last looked at.

An alert is a notification in the app with its e-mail (``review.notifications``), in the recipient's
language. It is sent only of a version its recipient may read when it is sent (a practice made
partners-only, a disabled account: nothing), only while that version is the practice's current one,
and once: a row in ``sent_alerts`` per (saved search or pack, practice, version), written in the same
transaction as the notification.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import policy
from exchange.accounts import people as accounts
from exchange.catalogs import N_
from exchange.models import IndexOutbox
from exchange.models import Pack
from exchange.models import PackItem
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import SavedSearch
from exchange.models import SentAlert
from exchange.models import utcnow
from exchange.review import notifications
from exchange.search import discovery
from exchange.search.backend import MAX_PER_PAGE
from exchange.search.backend import SearchRequest
from exchange.search.backend import normal_value

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: the recurring job that sends the daily and weekly alerts that are due
DIGESTS = "alerts.digests"
DIGESTS_EVERY_SECONDS = 3600
PERIODS = {"daily": datetime.timedelta(days=1), "weekly": datetime.timedelta(days=7)}
#: how long an alert waits for its version to be searchable before it is looked at anyway (a broken index)
INDEX_WAIT = datetime.timedelta(minutes=10)

SEARCH_MATCH = N_("“%(title)s” (version %(version)s) matches your saved search “%(search)s”.")
PACK_NEWER = N_("“%(title)s”, pinned in your pack “%(pack)s” at version %(pinned)s, has a newer version: "
                "%(version)s.")
PACK_TRANSLATION = N_("“%(title)s” in your pack “%(pack)s” now has a translation into the pack's language: "
                      "“%(translation)s”.")


@dataclass(frozen=True)
class Alert:
    """One alert to send: to whom, about which version, for which saved search or pack, and its words."""

    user_id: int
    subject: str
    practice_id: str
    version: int
    kind: str
    message: str
    link: str
    values: dict[str, Any] = field(default_factory=dict)


def searchable(instance: Instance, practice_id: str, now: datetime.datetime | None = None) -> bool:
    """Whether search has caught up with ``practice_id``'s publishes (or waited long enough for it)."""
    since = (now or utcnow()) - INDEX_WAIT
    with instance.db.session() as session:
        return not session.scalar(sa.select(sa.func.count()).select_from(IndexOutbox).where(
            IndexOutbox.practice_id == practice_id, IndexOutbox.done_at.is_(None), IndexOutbox.enqueued_at > since))


def published(instance: Instance, practice_id: str, version: int) -> int:
    """Alert of ``practice_id`` at ``version``, just published: immediate saved searches and packs; how many."""
    alerts: list[Alert] = []
    with instance.db.session() as session:
        record = session.get(PracticeRecord, practice_id)
        if record is None or record.version != version:
            return 0  # a later version was published meanwhile: its own job alerts of it
        row = session.get_one(PracticeVersion, (practice_id, version))
        people: dict[int, policy.Viewer | None] = {}
        for saved in session.scalars(sa.select(SavedSearch).where(SavedSearch.frequency == "immediate")
                                     .order_by(SavedSearch.id)):
            alerts += _search_alerts(instance, session, people, saved, [(record, row)])
        alerts += _pack_alerts(instance, session, people, record, row)
    return _send(instance, alerts)


def digests(instance: Instance, now: datetime.datetime | None = None) -> int:
    """Send the daily and weekly alerts that are due (``now``: as if it were then); how many alerts."""
    now = now or utcnow()
    alerts: list[Alert] = []
    looked: list[int] = []
    with instance.db.session() as session:
        people: dict[int, policy.Viewer | None] = {}
        for saved in session.scalars(sa.select(SavedSearch).where(SavedSearch.frequency.in_(tuple(PERIODS)))
                                     .order_by(SavedSearch.id)):
            if saved.checked_at + PERIODS[saved.frequency] > now:
                continue
            looked.append(saved.id)
            rows = [(record, row) for record, row in session.execute(_current_versions().where(
                PracticeVersion.published_at > saved.checked_at, PracticeVersion.published_at <= now))]
            alerts += _search_alerts(instance, session, people, saved, rows)
    if not looked:
        return 0
    return _send(instance, alerts, lambda session: session.execute(
        sa.update(SavedSearch).where(SavedSearch.id.in_(looked)).values(checked_at=now)))


def _current_versions() -> sa.Select[PracticeRecord, PracticeVersion]:
    return (sa.select(PracticeRecord, PracticeVersion)
            .join(PracticeVersion, sa.and_(PracticeVersion.practice_id == PracticeRecord.id,
                                           PracticeVersion.version == PracticeRecord.version))
            .order_by(PracticeVersion.published_at, PracticeRecord.id))


def _person(instance: Instance, people: dict[int, policy.Viewer | None], user_id: int) -> policy.Viewer | None:
    """The person ``user_id`` as the policy sees them now (None once their account is disabled)."""
    if user_id not in people:
        people[user_id] = accounts.by_id(instance, user_id)
    return people[user_id]


def _readable(person: policy.Viewer, record: PracticeRecord, row: PracticeVersion) -> bool:
    """Whether ``person`` may read ``record`` at the version ``row`` now."""
    return policy.may_read(person, record) and policy.may_read_visibility(person, row.visibility or record.visibility)


def _search_alerts(instance: Instance, session: Session, people: dict[int, policy.Viewer | None],
                   saved: SavedSearch, rows: Iterable[tuple[PracticeRecord, PracticeVersion]]) -> list[Alert]:
    person = _person(instance, people, saved.user_id)
    if person is None:
        return []
    return [Alert(saved.user_id, f"search:{saved.id}", record.id, record.version, "saved_search", SEARCH_MATCH,
                  f"/practices/{record.id}", {"title": record.title, "version": record.version, "search": saved.name})
            for record, row in rows
            if row.published_at >= saved.created_at and _readable(person, record, row)
            and matches(instance, saved, person, record)]


def matches(instance: Instance, saved: SavedSearch, person: policy.Viewer, record: PracticeRecord) -> bool:
    """Whether ``saved``'s search finds ``record`` for ``person`` (searched within its city and language, so
    that it is among the first results when it is found at all)."""
    filters = {facet: list(values) for facet, values in saved.filters.items()}
    for facet, value in (("city", record.city), ("language", record.language)):
        wanted = [normal_value(facet, v) for v in filters.get(facet, [])]
        if wanted and normal_value(facet, value) not in wanted:
            return False
        filters[facet] = [value]
    request = SearchRequest(q=saved.query, filters=filters, sort="newest", per_page=MAX_PER_PAGE,
                            reads=(record.language,))
    return any(hit.id == record.id for hit in discovery.find(instance, request, person).hits)


def _pack_alerts(instance: Instance, session: Session, people: dict[int, policy.Viewer | None], record: PracticeRecord,
                 row: PracticeVersion) -> list[Alert]:
    """Alerts to the owners of packs that pin ``record`` at an earlier version, or (a new translation) pin
    another member of its translation group in another language than the pack's, which is its."""
    alerts: dict[int, Alert] = {}
    pinned = session.execute(sa.select(PackItem, Pack).join(Pack, Pack.id == PackItem.pack_id).where(
        PackItem.practice_id == record.id, PackItem.version < record.version).order_by(Pack.id, PackItem.position))
    for item, pack in pinned:
        person = _person(instance, people, pack.owner_id)
        if person is not None and pack.id not in alerts and _readable(person, record, row):
            alerts[pack.id] = Alert(pack.owner_id, f"pack:{pack.id}", record.id, record.version, "pack_update",
                                    PACK_NEWER, f"/packs/{pack.id}", {"title": record.title, "pack": pack.title,
                                                                     "pinned": item.version, "version": record.version})
    if record.translation_of and row.version == 1:
        group = record.translation_of
        members = {r.id: r for r in session.scalars(sa.select(PracticeRecord).where(
            sa.or_(PracticeRecord.id == group, PracticeRecord.translation_of == group),
            PracticeRecord.id != record.id))}
        pinned = session.execute(sa.select(PackItem, Pack).join(Pack, Pack.id == PackItem.pack_id).where(
            PackItem.practice_id.in_(list(members)), Pack.language == record.language).order_by(Pack.id))
        for item, pack in pinned:
            person = _person(instance, people, pack.owner_id)
            original = members[item.practice_id or ""]
            if (person is not None and pack.id not in alerts and original.language != record.language
                    and _readable(person, record, row) and policy.may_read(person, original)):
                alerts[pack.id] = Alert(pack.owner_id, f"pack:{pack.id}", record.id, record.version, "pack_update",
                                        PACK_TRANSLATION, f"/packs/{pack.id}",
                                        {"title": original.title, "pack": pack.title, "translation": record.title})
    return list(alerts.values())


def _send(instance: Instance, alerts: list[Alert], also: Callable[[Session], object] | None = None) -> int:
    """Store each alert not sent before as a notification with its e-mail, in one transaction; how many."""
    if not alerts and also is None:
        return 0
    sent = 0
    with instance.db.writing() as session:
        for alert in alerts:
            if session.get(SentAlert, (alert.subject, alert.practice_id, alert.version)) is not None:
                continue
            session.add(SentAlert(subject=alert.subject, practice_id=alert.practice_id, version=alert.version))
            session.flush()  # a second runner sending the same alert fails here, and its job tries again
            notifications.add(session, [alert.user_id], alert.kind, alert.message, alert.link, alert.values)
            sent += 1
        if also is not None:
            also(session)
    if sent:
        log.info("sent %d alerts (%s)", sent, ", ".join(sorted({a.subject for a in alerts})))
    return sent
