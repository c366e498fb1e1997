"""Sending one delivery: the job the runner retries with backoff, and the log of every attempt.

Each attempt checks the target again (``addresses.check``: the name is resolved now and every address
must pass) and connects to the address it checked; signs the stored body with the webhook's secret and
the attempt's time; and records how it ended (status or error, and when the next attempt is due) before
telling the runner. A failed attempt raises, so the runner queues the job again after its backoff
(``RETRIES``: six attempts, a minute, then 2, 4, 8 and 16 minutes apart); after the last the delivery
is failed. A delivery whose webhook was made inactive or deleted meanwhile is not sent.
"""

from __future__ import annotations

import calendar
import logging

from exchange import catalogs
from exchange.jobs.runner import Context
from exchange.jobs.runner import Kind
from exchange.models import Webhook
from exchange.models import WebhookAttempt
from exchange.models import WebhookDelivery
from exchange.models import utcnow
from exchange.webhooks import addresses
from exchange.webhooks import hooks
from exchange.webhooks import sending
from exchange.webhooks import signing

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """An attempt did not reach the receiver, or the receiver did not answer 2xx; the runner retries."""


def run(context: Context, payload: dict) -> None:
    """Make the next attempt of delivery ``payload["delivery"]``; raises DeliveryFailed when it failed."""
    instance = context.instance
    with instance.db.writing() as session:
        delivery = session.get(WebhookDelivery, payload.get("delivery"), with_for_update=True)
        if delivery is None or delivery.state != hooks.QUEUED:
            return  # its webhook was deleted, or it was settled already
        hook = session.get(Webhook, delivery.webhook_id)
        if hook is None or not hook.active:
            delivery.state = hooks.CANCELLED
            log.info("webhook delivery %s not sent: its webhook is inactive", delivery.uid)
            return
        delivery.attempts += 1  # counted before the request: a runner killed mid-attempt used it up
        attempt, uid, event, body, url, secret = (delivery.attempts, delivery.uid, delivery.event,
                                                  delivery.body.encode("utf-8"), hook.url, hook.secret)
    answer = _attempt(url, instance.webhooks_allow_private, secret, body, event, uid)
    at = utcnow()
    last = attempt >= RETRIES.max_attempts
    next_retry = None if answer.delivered or last else at + RETRIES.backoff(attempt)
    with instance.db.writing() as session:
        stored = session.get(WebhookDelivery, payload["delivery"], with_for_update=True)
        if stored is None:
            log.info("webhook delivery %s: its webhook was deleted during the attempt", uid)
            return  # nothing left to log it in, nor to try again for
        session.add(WebhookAttempt(delivery_id=stored.id, attempt=attempt, at=at, status=answer.status,
                                   error=catalogs.stored(answer.error) if answer.error else None,
                                   next_retry_at=next_retry))
        stored.state = hooks.DELIVERED if answer.delivered else hooks.FAILED if last else hooks.QUEUED
    if answer.delivered:
        log.info("webhook delivery %s (%s) to %r delivered on attempt %d: %s", uid, event, url, attempt, answer.status)
        return
    log.warning("webhook delivery %s (%s) to %r failed on attempt %d: %s", uid, event, url, attempt, answer.error)
    raise DeliveryFailed(answer.error)


def _attempt(url: str, allow_private: bool, secret: str, body: bytes, event: str, uid: str) -> sending.Answer:
    try:
        target = addresses.check(url, allow_private)
    except addresses.RefusedTarget as refused:
        said = refused.args[0] if refused.args else str(refused)
        return sending.Answer(None, said if isinstance(said, catalogs.Message) else str(refused))
    timestamp = calendar.timegm(utcnow().timetuple())
    return sending.post(target, body, {signing.SIGNATURE_HEADER: signing.signature(secret, timestamp, body),
                                       signing.EVENT_HEADER: event, signing.DELIVERY_HEADER: uid})


#: how the runner treats a delivery: six attempts, a minute, then 2, 4, 8 and 16 minutes apart
RETRIES = Kind(run=run, max_attempts=6, backoff_seconds=60, max_backoff_seconds=3600)
