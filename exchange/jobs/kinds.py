"""Every kind of job the library has, and what runs it (see ``runner.Kind``)."""

from __future__ import annotations

from exchange.jobs import queue
from exchange.jobs.runner import Context
from exchange.jobs.runner import Kind
from exchange.review import notifications


def _purge(context: Context, _payload: dict) -> None:
    queue.purge(context.instance.db)


KINDS: dict[str, Kind] = {
    # A notification's e-mail, up to 50 due at once over one connection; tried for about three hours
    # (30 s, 1, 2, 4 … minutes apart, at most an hour) before it is given up, with why, in the jobs table.
    notifications.MAIL: Kind(run_batch=notifications.send, batch_size=50, max_attempts=10, backoff_seconds=30,
                             max_backoff_seconds=3600),
    # Settled jobs are kept a while to be looked into, then deleted.
    "jobs.purge": Kind(run=_purge, every_seconds=3600),
}
