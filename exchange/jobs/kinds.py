"""Every kind of job the library has, and what runs it (see ``runner.Kind``)."""

from __future__ import annotations

from exchange.jobs import queue
from exchange.jobs.runner import Context
from exchange.jobs.runner import Kind


def _purge(context: Context, _payload: dict) -> None:
    queue.purge(context.instance.db)


KINDS: dict[str, Kind] = {
    # Settled jobs are kept a while to be looked into, then deleted.
    "jobs.purge": Kind(run=_purge, every_seconds=3600),
}
