"""Every kind of job the library has, and what runs it (see ``runner.Kind``)."""

from __future__ import annotations

from exchange.jobs import queue
from exchange.jobs.runner import Context
from exchange.jobs.runner import Kind
from exchange.packs.exports import jobs as exports
from exchange.review import notifications


def _purge(context: Context, _payload: dict) -> None:
    queue.purge(context.instance.db)


def _sweep_exports(context: Context, _payload: dict) -> None:
    exports.sweep(context.instance)


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
    # Settled jobs are kept a while to be looked into, then deleted.
    "jobs.purge": Kind(run=_purge, every_seconds=3600),
}
