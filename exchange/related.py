"""Related practices for a practice page, computed once per version and reader kind, kept while they hold.

Finding related practices weighs a practice's key terms against the whole index (a few hundred
milliseconds at 10,000 practices), and the answer for one version changes rarely. So each process keeps
it per (practice, version, what the reader may read), with the version of every practice it names. Before
a kept list is shown, one query checks each named practice still has that version and that this reader
may read it: a practice republished, restricted or removed since sends the list to be found again, so a
kept list never shows what the reader may not see now (DESIGN invariant 5). A list shorter than asked for
is found again after any publish (the new practice may belong in it); any list older than
``MAX_AGE_SECONDS`` are found again too, to take in practices published since.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from exchange import policy
from exchange.library import generation
from exchange.models import PracticeRecord
from exchange.search import discovery
from exchange.search.backend import Hit

if TYPE_CHECKING:
    from exchange.instance import Instance

#: how long a list is kept before it is found again (new practices may belong in it)
MAX_AGE_SECONDS = 3600
#: practices in a list
LIMIT = 5
#: lists kept per process (a list is a few kilobytes)
MAX_LISTS = 20_000


@dataclass(frozen=True)
class _Kept:
    hits: list[Hit]
    #: the version of each practice the list names (the hits and their translations)
    versions: dict[str, int]
    found_at: float
    #: for a list shorter than asked for, the library's generation it was found in: anything published
    #: since may belong in it
    generation: str | None


_kept: OrderedDict[tuple[str, str, int, frozenset[str]], _Kept] = OrderedDict()
_lock = threading.Lock()


def related(instance: Instance, practice_id: str, version: int, viewer: policy.Viewer | None) -> list[Hit]:
    """Practices like ``practice_id`` (read at ``version``) that ``viewer`` may read now."""
    key = (str(instance.path), practice_id, version, policy.readable_visibilities(viewer))
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    now = generation.current(instance).token if kept is None or kept.generation is not None else None
    if kept is not None and time.monotonic() - kept.found_at < MAX_AGE_SECONDS \
            and kept.generation in (None, now) and _holds(instance, kept, viewer):
        return kept.hits
    now = now or generation.current(instance).token
    hits = discovery.related(instance, practice_id, viewer, LIMIT)
    named = {hit.id for hit in hits} | {other for hit in hits for other, _language in hit.also_in}
    with instance.db.session() as session:
        rows = session.execute(sa.select(PracticeRecord.id, PracticeRecord.version).where(PracticeRecord.id.in_(named)))
        versions = {practice_id: number for practice_id, number in rows}
    with _lock:
        _kept[key] = _Kept(hits, versions, time.monotonic(), now if len(hits) < LIMIT else None)
        while len(_kept) > MAX_LISTS:
            _kept.popitem(last=False)
    return hits


def _holds(instance: Instance, kept: _Kept, viewer: policy.Viewer | None) -> bool:
    """Whether every practice a kept list names is still at its version and readable by ``viewer``."""
    versions = kept.versions
    if not versions:
        return True
    with instance.db.session() as session:
        records = list(session.scalars(sa.select(PracticeRecord).where(PracticeRecord.id.in_(versions))))
    return len(records) == len(versions) and all(
        versions[record.id] == record.version and policy.may_read(viewer, record) for record in records)
