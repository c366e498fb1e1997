"""Related practices for a practice page, computed once per version and reader kind, kept while they hold.

Finding related practices weighs a practice's key terms against the whole index (a few hundred
milliseconds at 10,000 practices), and the answer for one version changes rarely. So it is kept per
(practice, version, what the reader may read), with the version of every practice it names: in the
process, and as a file in ``<instance>/cache/related/`` that every worker process shares and a restart
keeps (derived, like the index: deleting the folder only costs finding them again). Before
a kept list is shown, one query checks each named practice still has that version and that this reader
may read it: a practice republished, restricted or removed since sends the list to be found again, so a
kept list never shows what the reader may not see now (DESIGN invariant 5). A list shorter than asked for
is found again after any publish (the new practice may belong in it); any list older than
``MAX_AGE_SECONDS`` are found again too, to take in practices published since.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from markupsafe import Markup

from exchange import policy
from exchange.library import generation
from exchange.models import PracticeRecord
from exchange.search import discovery
from exchange.search.backend import Hit
from exchange.search.backend import IndexUnavailable
from exchange.search.backend import Translation

if TYPE_CHECKING:
    from exchange.instance import Instance

#: how long a list is kept before it is found again (new practices may belong in it)
MAX_AGE_SECONDS = 3600
#: practices in a list
LIMIT = 5
#: lists kept per process (a list is a few kilobytes)
MAX_LISTS = 20_000
#: the job runner finds the public's lists ahead of readers (``fill``): those missing, and those this old
#: (before a reader would find them expired), for at most ``FILL_SECONDS`` a run, every ``FILL_EVERY_SECONDS``
REFRESH_AFTER_SECONDS = MAX_AGE_SECONDS * 3 // 4
FILL_SECONDS = 5.0
FILL_EVERY_SECONDS = 10
#: the job that does it, on each node (the kept lists are in the node's instance folder)
FILL = "related.fill"


@dataclass(frozen=True)
class _Kept:
    hits: list[Hit]
    #: the version of each practice the list names (the hits and their translations)
    versions: dict[str, int]
    #: when it was found (seconds since the epoch: compared across processes)
    found_at: float
    #: for a list shorter than asked for, the library's generation it was found in: anything published
    #: since may belong in it
    generation: str | None


#: where kept lists are shared by the instance's processes, under its folder
FOLDER = ("cache", "related")

_kept: OrderedDict[tuple[str, str, int, frozenset[str]], _Kept] = OrderedDict()
_lock = threading.Lock()


def related(instance: Instance, practice_id: str, version: int, viewer: policy.Viewer | None) -> list[Hit]:
    """Practices like ``practice_id`` (read at ``version``) that ``viewer`` may read now."""
    key = (str(instance.path), practice_id, version, policy.readable_visibilities(viewer))
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
    if kept is None or time.time() - kept.found_at >= MAX_AGE_SECONDS:  # the job runner may have found it anew
        kept = _read(instance, key) or kept
    now = generation.current(instance).token if kept is not None and kept.generation is not None else None
    if kept is not None and time.time() - kept.found_at < MAX_AGE_SECONDS \
            and kept.generation in (None, now) and _holds(instance, kept, viewer):
        _keep(key, kept)
        return kept.hits
    return _find(instance, key, viewer, now).hits


def fill(instance: Instance, seconds: float = FILL_SECONDS, stopping: threading.Event | None = None) -> int:
    """Find the public's related practices of the public practices that have none kept, or one soon to
    expire, newest first, for at most ``seconds``; how many were found. The job runner does it every
    ``FILL_EVERY_SECONDS``, so a page's first reader finds its list ready (finding it is half of a first
    view's cost: ~13 of ~25 ms at 10,000 practices), and after a bulk import the whole library is done
    within minutes (about 13 ms a practice)."""
    try:
        instance.search.verify()
    except IndexUnavailable:  # nothing to find them with until it is rebuilt (an empty list would be kept)
        return 0
    deadline = time.monotonic() + seconds
    readers = policy.readable_visibilities(None)
    with instance.db.session() as session:
        rows = session.execute(sa.select(PracticeRecord.id, PracticeRecord.version)
                               .where(PracticeRecord.visibility.in_(readers))
                               .order_by(PracticeRecord.published.desc(), PracticeRecord.id)).all()
    found = 0
    for practice_id, version in rows:
        if time.monotonic() >= deadline or (stopping is not None and stopping.is_set()):
            break
        key = (str(instance.path), practice_id, version, readers)
        try:
            if time.time() - _path(instance, key).stat().st_mtime < REFRESH_AFTER_SECONDS:
                continue
        except OSError:  # none kept yet
            pass
        _find(instance, key, None, None)
        found += 1
    return found


def _find(instance: Instance, key: tuple[str, str, int, frozenset[str]], viewer: policy.Viewer | None,
          now: str | None) -> _Kept:
    """The related practices of ``key``'s practice for ``viewer``, found now, kept and shared."""
    practice_id = key[1]
    hits = discovery.related(instance, practice_id, viewer, LIMIT)
    if len(hits) < LIMIT:  # kept only until the next publish: found again after reading which that is
        now = now or generation.current(instance).token
        hits = discovery.related(instance, practice_id, viewer, LIMIT)
    else:
        now = None
    named = {hit.id for hit in hits} | {other for hit in hits for other, _language in hit.also_in}
    with instance.db.session() as session:
        rows = session.execute(sa.select(PracticeRecord.id, PracticeRecord.version).where(PracticeRecord.id.in_(named)))
        versions = {practice_id: number for practice_id, number in rows}
    found = _Kept(hits, versions, time.time(), now)
    _keep(key, found)
    _write(instance, key, found)
    return found


def _keep(key: tuple[str, str, int, frozenset[str]], kept: _Kept) -> None:
    with _lock:
        _kept[key] = kept
        while len(_kept) > MAX_LISTS:
            _kept.popitem(last=False)


def _path(instance: Instance, key: tuple[str, str, int, frozenset[str]]) -> Path:
    _instance, practice_id, version, readers = key
    name = hashlib.sha256(f"{practice_id}\n{version}\n{','.join(sorted(readers))}".encode()).hexdigest()[:40]
    return instance.path.joinpath(*FOLDER, f"{name}.json")


def _read(instance: Instance, key: tuple[str, str, int, frozenset[str]]) -> _Kept | None:
    """The list another process (or this one before a restart) kept, if any and readable."""
    try:
        data = json.loads(_path(instance, key).read_bytes())
        hits = [Hit(id=h["id"], card=h["card"], snippet=Markup(h["snippet"]), score=h["score"],
                    translations=[Translation(*translation) for translation in h["translations"]])
                for h in data["hits"]]
        return _Kept(hits, {k: int(v) for k, v in data["versions"].items()}, float(data["found_at"]),
                     data["generation"])
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or torn by a crash: found again
        return None


def _write(instance: Instance, key: tuple[str, str, int, frozenset[str]], kept: _Kept) -> None:
    """Share ``kept`` with the other processes: written beside, then renamed (readers see all or nothing).
    Not synced to disk: a list lost in a crash is only found again."""
    path = _path(instance, key)
    data = {"hits": [{"id": h.id, "card": h.card, "snippet": str(h.snippet), "score": h.score,
                      "translations": h.translations} for h in kept.hits],
            "versions": kept.versions, "found_at": kept.found_at, "generation": kept.generation}
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
    except (OSError, TypeError, ValueError):  # a full disk, say: the list is kept in this process alone
        temporary.unlink(missing_ok=True)


def _holds(instance: Instance, kept: _Kept, viewer: policy.Viewer | None) -> bool:
    """Whether every practice a kept list names is still at its version and readable by ``viewer``."""
    versions = kept.versions
    if not versions:
        return True
    with instance.db.session() as session:
        records = list(session.scalars(sa.select(PracticeRecord).where(PracticeRecord.id.in_(versions))))
    return len(records) == len(versions) and all(
        versions[record.id] == record.version and policy.may_read(viewer, record) for record in records)
