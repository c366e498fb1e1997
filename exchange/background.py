"""Every kind of job the library has, and what runs it (see ``runner.Kind``)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

from exchange import audit
from exchange import related
from exchange.accounts import api_calls
from exchange.alerts import sending as alerts
from exchange.harvesting import harvests
from exchange.insight import links
from exchange.jobs import queue
from exchange.jobs.runner import Context
from exchange.jobs.runner import Kind
from exchange.jobs.runner import Later
from exchange.jobs.runner import Runner
from exchange.library import publishing
from exchange.models import utcnow
from exchange.packs.exports import jobs as exports
from exchange.review import notifications
from exchange.search import indexing
from exchange.search.backend import ReindexRunning
from exchange.webhooks import delivery as webhook_delivery
from exchange.webhooks import hooks as webhooks

if TYPE_CHECKING:
    from exchange.instance import Instance


def _purge(context: Context, _payload: dict) -> None:
    queue.purge(context.instance.db)
    now = utcnow()
    with context.instance.db.claiming() as session:
        audit.purge_routine(session, now)
        webhooks.purge_deliveries(session, now)
        api_calls.purge(session, now)


def _catch_up(context: Context, _payload: dict) -> None:
    indexing.catch_up(context.instance)


def _rebuild_index(context: Context, _payload: dict) -> None:
    try:
        indexing.rebuild(context.instance, wait=False)
    except ReindexRunning:
        pass  # another rebuild (exchange reindex) is under way: it leaves a fresh index too


def _fill_related(context: Context, _payload: dict) -> None:
    related.fill(context.instance, stopping=context.stopping)


def _harvest_due(context: Context, _payload: dict) -> None:
    harvests.run_due(context.instance)


def _harvest_now(context: Context, payload: dict) -> None:
    harvests.harvest(context.instance, int(payload["source"]), "harvest:admin")


def _sweep_exports(context: Context, _payload: dict) -> None:
    exports.sweep(context.instance)


def _check_links(context: Context, payload: dict) -> None:
    links.check(context.instance, str(payload.get("site", "")))
def _alert_published(context: Context, payload: dict) -> None:
    if not alerts.searchable(context.instance, payload["practice"]):
        raise Later(10, "waiting for the version to be searchable")
    alerts.published(context.instance, payload["practice"], payload["version"])


def _alert_digests(context: Context, _payload: dict) -> None:
    alerts.digests(context.instance)


KINDS: dict[str, Kind] = {
    # A notification's e-mail, up to 50 due at once over one connection; tried for about three hours
    # (30 s, 1, 2, 4 … minutes apart, at most an hour) before it is given up, with why, in the jobs table.
    notifications.MAIL: Kind(run_batch=notifications.send, batch_size=50, max_attempts=10, backoff_seconds=30,
                             max_backoff_seconds=3600),
    # A pack export: a worker process with its time and memory limits, two at a time (the rest wait for
    # a free worker without using up attempts); tried again only when the runner itself failed.
    exports.KIND: Kind(run=exports.run, at_once=exports.MAX_RUNNING, max_attempts=3, backoff_seconds=10),
    # Fail exports whose worker vanished (past the time limit), delete files older than a week.
    exports.SWEEP: Kind(run=_sweep_exports, every_seconds=60),
    # Publishes not yet in this node's search index, applied from the outbox (or a rebuild asked for when
    # the index is unusable); publishing itself indexes at once on its node, this catches up with the rest.
    indexing.CATCH_UP: Kind(run=_catch_up, every_seconds=indexing.CATCH_UP_EVERY_SECONDS, per_node=True),
    # A new index built beside the unusable one and swapped in; searches answer from the catalogue meanwhile.
    indexing.REBUILD: Kind(run=_rebuild_index, max_attempts=3, backoff_seconds=60, per_node=True),
    # The public's related practices of the newest practices that have none kept (or one soon to expire),
    # a few seconds at a time: a practice page's first reader finds them ready (related.py).
    related.FILL: Kind(run=_fill_related, every_seconds=related.FILL_EVERY_SECONDS, per_node=True),
    # A webhook delivery: six attempts, 1, 2, 4, 8 and 16 minutes apart, each logged for the admin page.
    webhooks.DELIVER: webhook_delivery.RETRIES,
    # Links to other sites in practices, checked when an administrator asks (bounded: links.MAX_LINKS a run).
    links.KIND: Kind(run=_check_links, max_attempts=1),
    # Alerts of a new version to immediate saved searches and to packs pinning the practice, once it is
    # searchable (put back meanwhile, without using up attempts).
    publishing.ALERTS: Kind(run=_alert_published, max_attempts=5, backoff_seconds=60),
    # The daily and weekly alerts of saved searches that are due.
    alerts.DIGESTS: Kind(run=_alert_digests, every_seconds=alerts.DIGESTS_EVERY_SECONDS),
    # Scheduled harvests of other nodes that are due (each source keeps its own interval), one at a time.
    harvests.DUE: Kind(run=_harvest_due, every_seconds=harvests.DUE_EVERY_SECONDS),
    # A harvest an administrator started from the admin page; its report is kept on the source.
    harvests.NOW: Kind(run=_harvest_now, max_attempts=1),
    # Settled jobs are kept a while to be looked into, then deleted; so are settled webhook deliveries
    # and the audit log's routine entries (API calls answered), after 90 days; and the API's calls a
    # minute of callers gone quiet.
    "jobs.purge": Kind(run=_purge, every_seconds=3600),
}


def run_pending(instance: Instance, kinds: Mapping[str, Kind] = KINDS, now: datetime.datetime | None = None) -> int:
    """Run every job of ``instance`` that is due (``now``: as if it were then), in this thread; how many ran."""
    return Runner(instance, kinds).run_pending(now)
