"""Webhooks as administrators manage them, and the announcement of a practice's change to them.

One function per write (``create``, ``update``, ``delete``, ``send_test``, ``redeliver``): each checks that
the acting person administers the library, validates (the target through ``addresses``: a refused
address is a clear message and nothing is saved), writes and audits in one transaction. A secret is
returned once, when it is made; nothing shows it again. ``announce`` runs inside the publishing
transaction: it queues one delivery per active webhook that wants the event, so publishing never waits
on the network. What a payload says of a practice comes only from a public version: a practice that
stops being public is announced as withdrawn with nothing but its id and address.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import catalogs
from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.db import rowcount
from exchange.errors import Conflict
from exchange.errors import Invalid
from exchange.errors import NotAllowed
from exchange.errors import NotFound
from exchange.jobs import queue
from exchange.models import PracticeRecord
from exchange.models import Webhook
from exchange.models import WebhookAttempt
from exchange.models import WebhookDelivery
from exchange.models import utcnow
from exchange.webhooks import addresses
from exchange.webhooks import signing

if TYPE_CHECKING:
    from exchange.instance import Instance

#: the visibility anyone may read
PUBLIC = "public"
PUBLISHED, UPDATED, WITHDRAWN = "practice.published", "practice.updated", "practice.withdrawn"
#: the events a webhook may want, and what each means to an administrator
EVENTS: dict[str, str] = {
    PUBLISHED: N_("a practice is published (new, or public for the first time)"),
    UPDATED: N_("a public practice gets a new version"),
    WITHDRAWN: N_("a practice is no longer public (withdrawn, or made partners-only)"),
}
#: the event of "send a test event": it names the webhook and no practice
TEST = "webhook.test"
#: the job that sends one delivery (``delivery.run``)
DELIVER = "webhooks.deliver"
QUEUED, DELIVERED, FAILED, CANCELLED = "queued", "delivered", "failed", "cancelled"
#: a secret set by hand: long enough to resist guessing, printable ASCII without spaces
MIN_SECRET, MAX_SECRET = 24, 200
#: the deliveries a webhook's log shows, newest first
LOG_DELIVERIES = 50


class WebhookNotFound(NotFound):
    """No such webhook (or delivery)."""


class InvalidWebhook(Invalid):
    """A webhook cannot be saved as given; the message names the field and the problem."""


@dataclass(frozen=True)
class WebhookView:
    """A webhook as the admin pages show it (never its secret)."""

    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    created_by: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    #: how its latest delivery ended (None: nothing sent yet)
    last_state: str | None = None


@dataclass(frozen=True)
class AttemptView:
    """One attempt of a delivery, as its log shows it."""

    attempt: int
    at: datetime.datetime
    status: int | None
    #: why it failed: a catalogs.Message (said in the reader's language), or plain text logged before
    error: str | None
    next_retry_at: datetime.datetime | None


@dataclass(frozen=True)
class DeliveryView:
    """One delivery and its attempts, as the log shows it."""

    id: int
    uid: str
    event: str
    practice_id: str | None
    state: str
    created_at: datetime.datetime
    redelivery_of: int | None
    attempts: tuple[AttemptView, ...]


def _administering(viewer: policy.Viewer) -> None:
    if not policy.may_administer(viewer):
        raise NotAllowed("only administrators manage webhooks")


def _view(hook: Webhook, last_state: str | None = None) -> WebhookView:
    return WebhookView(hook.id, hook.url, tuple(hook.events), hook.active, hook.created_by, hook.created_at,
                       hook.updated_at, last_state)


def _events(events: Collection[str]) -> list[str]:
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise InvalidWebhook(Message(N_("%(events)s is not an event a webhook can want; choose among %(known)s."),
                                     events=", ".join(map(repr, unknown)), known=", ".join(EVENTS)))
    if not events:
        raise InvalidWebhook(Message(N_("Choose at least one event.")))
    return [event for event in EVENTS if event in events]


def _secret(secret: str) -> str:
    if not (MIN_SECRET <= len(secret) <= MAX_SECRET) or not all("!" <= c <= "~" for c in secret):
        raise InvalidWebhook(Message(N_("A secret must be %(least)s to %(most)s printable characters without "
                                        "spaces (leave it empty to have one made)."),
                                     least=MIN_SECRET, most=MAX_SECRET))
    return secret


def _checked_url(instance: Instance, url: str) -> str:
    url = url.strip()
    addresses.check(url, instance.webhooks_allow_private)
    return url


def all_webhooks(instance: Instance, viewer: policy.Viewer) -> list[WebhookView]:
    """Every webhook with how its latest delivery ended, oldest first."""
    _administering(viewer)
    with instance.db.session() as session:
        hooks = list(session.scalars(sa.select(Webhook).order_by(Webhook.id)))
        latest = sa.select(WebhookDelivery.webhook_id, sa.func.max(WebhookDelivery.id).label("last")).group_by(
            WebhookDelivery.webhook_id).subquery()
        newest = sa.select(WebhookDelivery.webhook_id, WebhookDelivery.state).join(
            latest, WebhookDelivery.id == latest.c.last)
        states = {webhook_id: state for webhook_id, state in session.execute(newest)}
        return [_view(hook, states.get(hook.id)) for hook in hooks]


def _hook(session: Session, webhook_id: int, lock: bool = False) -> Webhook:
    """The webhook ``webhook_id`` (locked for this transaction with ``lock``); WebhookNotFound when there is none."""
    hook = session.get(Webhook, webhook_id, with_for_update=lock)
    if hook is None:
        raise WebhookNotFound(f"no webhook {webhook_id}")
    return hook


def webhook(instance: Instance, viewer: policy.Viewer, webhook_id: int) -> WebhookView:
    """One webhook; WebhookNotFound when there is none."""
    _administering(viewer)
    with instance.db.session() as session:
        hook = _hook(session, webhook_id)
        return _view(hook)


def create(instance: Instance, admin: policy.Viewer, url: str, events: Collection[str], active: bool = True,
           secret: str = "") -> tuple[int, str]:
    """Add a webhook; its id and its secret (``secret``, or a new one when empty), to be shown this once."""
    _administering(admin)
    chosen, url = _events(events), _checked_url(instance, url)
    secret = _secret(secret) if secret else signing.new_secret()
    with instance.db.writing() as session:
        now = utcnow()
        hook = Webhook(url=url, events=chosen, secret=secret, active=active, created_by=admin.email,
                       created_at=now, updated_at=now)
        session.add(hook)
        session.flush()
        audit.record(session, admin.email, "webhook.create", f"webhook {hook.id}", url=url, events=chosen,
                     active=active, secret="chosen" if secret else "made")
        return hook.id, secret


def update(instance: Instance, admin: policy.Viewer, webhook_id: int, url: str, events: Collection[str],
           active: bool, secret: str = "", new_secret: bool = False) -> str | None:
    """Change a webhook (``secret``: set this one; ``new_secret``: make one); the new secret, if one was made
    or set (to be shown this once), else None."""
    _administering(admin)
    chosen, url = _events(events), _checked_url(instance, url)
    replaced = _secret(secret) if secret else signing.new_secret() if new_secret else None
    with instance.db.writing() as session:
        hook = _hook(session, webhook_id, lock=True)
        changes: dict[str, object] = {}
        for name, value in (("url", url), ("events", chosen), ("active", active)):
            if getattr(hook, name) != value:
                changes[name] = value
                setattr(hook, name, value)
        if replaced is not None:
            hook.secret = replaced
            changes["secret"] = "replaced"  # that it changed, never what it is
        if changes:
            hook.updated_at = utcnow()
            audit.record(session, admin.email, "webhook.update", f"webhook {hook.id}", **changes)
    return replaced


def delete(instance: Instance, admin: policy.Viewer, webhook_id: int) -> None:
    """Remove a webhook with its deliveries and their log (deliveries still queued are not sent)."""
    _administering(admin)
    with instance.db.writing() as session:
        hook = _hook(session, webhook_id, lock=True)
        deliveries = sa.select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id)
        session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
        session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))
        audit.record(session, admin.email, "webhook.delete", f"webhook {hook.id}", url=hook.url)
        session.delete(hook)


def _queue(session: Session, hook: Webhook, event: str, practice_id: str | None, content: dict,
           redelivery_of: int | None = None) -> WebhookDelivery:
    """A delivery of ``content`` (the body without its delivery id) to ``hook``, and the job that sends it."""
    uid = str(uuid.uuid4())
    body = {"event": content["event"], "delivery": uid,
            **{key: value for key, value in content.items() if key not in ("event", "delivery")}}
    delivery = WebhookDelivery(uid=uid, webhook_id=hook.id, event=event, practice_id=practice_id,
                               body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), state=QUEUED,
                               attempts=0, redelivery_of=redelivery_of, created_at=utcnow())
    session.add(delivery)
    session.flush()
    queue.enqueue(session, DELIVER, {"delivery": delivery.id})
    return delivery


def send_test(instance: Instance, admin: policy.Viewer, webhook_id: int) -> str:
    """Queue a test event to an active webhook; its delivery id."""
    _administering(admin)
    with instance.db.writing() as session:
        hook = _hook(session, webhook_id)
        if not hook.active:
            raise Conflict(Message(N_("This webhook is inactive: make it active to send it a test event.")))
        content = {"event": TEST, "occurred_at": _timestamp(utcnow()), "webhook": {"id": hook.id}, "practice": None}
        delivery = _queue(session, hook, TEST, None, content)
        audit.record(session, admin.email, "webhook.test", f"webhook {hook.id}", delivery=delivery.uid)
        return delivery.uid


def redeliver(instance: Instance, admin: policy.Viewer, webhook_id: int, delivery_id: int) -> str:
    """Send a delivery's event again, as a new delivery (a new delivery id, the same event); its delivery id."""
    _administering(admin)
    with instance.db.writing() as session:
        earlier = session.get(WebhookDelivery, delivery_id)
        hook = session.get(Webhook, webhook_id)
        if earlier is None or hook is None or earlier.webhook_id != hook.id:
            raise WebhookNotFound(f"no delivery {delivery_id} of webhook {webhook_id}")
        if not hook.active:
            raise Conflict(Message(N_("This webhook is inactive: make it active to redeliver.")))
        again = _queue(session, hook, earlier.event, earlier.practice_id, json.loads(earlier.body),
                       redelivery_of=earlier.id)
        audit.record(session, admin.email, "webhook.redeliver", f"webhook {hook.id}", delivery=again.uid,
                     of=earlier.uid)
        return again.uid


def deliveries(instance: Instance, viewer: policy.Viewer, webhook_id: int,
               limit: int = LOG_DELIVERIES) -> list[DeliveryView]:
    """A webhook's latest deliveries, newest first, each with its attempts in order."""
    _administering(viewer)
    with instance.db.session() as session:
        rows = list(session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                                    .order_by(WebhookDelivery.id.desc()).limit(limit)))
        attempts: dict[int, list[AttemptView]] = {}
        if rows:
            for attempt in session.scalars(sa.select(WebhookAttempt).where(
                    WebhookAttempt.delivery_id.in_([row.id for row in rows]))
                    .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)):
                attempts.setdefault(attempt.delivery_id, []).append(AttemptView(
                    attempt.attempt, attempt.at, attempt.status, catalogs.restored(attempt.error),
                    attempt.next_retry_at))
        return [DeliveryView(row.id, row.uid, row.event, row.practice_id, row.state, row.created_at,
                             row.redelivery_of, tuple(attempts.get(row.id, ()))) for row in rows]


#: settled deliveries (delivered, failed, cancelled) are kept this long, with their attempts
KEEP_DELIVERIES = datetime.timedelta(days=90)


def purge_deliveries(session: Session, now: datetime.datetime) -> int:
    """Delete settled deliveries older than ``KEEP_DELIVERIES`` and their attempts; how many deliveries."""
    old = sa.select(WebhookDelivery.id).where(WebhookDelivery.state.in_((DELIVERED, FAILED, CANCELLED)),
                                              WebhookDelivery.created_at < now - KEEP_DELIVERIES)
    session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
    result = session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(old.scalar_subquery())))
    return rowcount(result)


def _timestamp(at: datetime.datetime) -> str:
    return at.replace(microsecond=0).isoformat() + "Z"


def practice_url(base_url: str, practice_id: str) -> str:
    """A practice's stable address: its page, which always shows its current readable version."""
    return f"{base_url.rstrip('/')}/practices/{practice_id}"


def event_of(before: str | None, after: str | None) -> str | None:
    """What a change of a practice's current visibility from ``before`` to ``after`` (None: no practice)
    tells the outside world, or None (a change among non-public versions tells it nothing)."""
    if after == PUBLIC:
        return UPDATED if before == PUBLIC else PUBLISHED
    return WITHDRAWN if before == PUBLIC else None


def announce(session: Session, base_url: str, practice_id: str, before: str | None,
             record: PracticeRecord | None) -> int:
    """In the transaction that changes a practice (``record``: its catalogue row now, None when it is gone;
    ``before``: its visibility until now), queue a delivery to each active webhook that wants the event; how many."""
    event = event_of(before, record.visibility if record is not None else None)
    if event is None:
        return 0
    hooks = [hook for hook in session.scalars(sa.select(Webhook).where(Webhook.active.is_(True)).order_by(Webhook.id))
             if event in hook.events]
    if not hooks:
        return 0
    url = practice_url(base_url, practice_id)
    if event == WITHDRAWN or record is None:
        practice: dict[str, object] = {"id": practice_id, "url": url}
    else:  # a public version: what its page shows anyone
        practice = {"id": record.id, "version": record.version, "language": record.language, "title": record.title,
                    "summary": record.summary, "url": url, "city": record.city, "hazards": list(record.hazards)}
    content = {"event": event, "occurred_at": _timestamp(utcnow()), "practice": practice}
    for hook in hooks:
        _queue(session, hook, event, practice_id, content)
    return len(hooks)
