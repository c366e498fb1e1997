"""Reading practices back: a version as a viewer may see it, its history, its rendering and comparisons.

Every read is decided per version: a version is shown under the visibility it was published with and
the practice's visibility now (DESIGN invariant 5).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import policy
from exchange.errors import PracticeNotFound
from exchange.library import rendering
from exchange.library.practice import InvalidPractice
from exchange.library.practice import Practice
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import RenderedVersion

if TYPE_CHECKING:
    from exchange.instance import Instance


@dataclass(frozen=True)
class VersionEntry:
    """One line of a practice's version history as a viewer sees it."""

    version: int
    published_at: datetime.datetime
    #: the name the publisher is credited by ("" when it was imported)
    credit: str
    note: str
    #: whether this viewer may read this version (an earlier version may have been restricted)
    readable: bool
    #: who published it: shown to administrators only
    actor: str


@dataclass(frozen=True)
class PracticeView:
    """A practice as a reader sees it: the parsed document, its catalogue row and its history."""

    practice: Practice
    record: PracticeRecord
    version: int
    versions: tuple[VersionEntry, ...]
    original: PracticeRecord | None
    translations: tuple[PracticeRecord, ...]
    #: the body as safe HTML, rendered when this version was published
    rendered: rendering.Rendered
    #: For a translation whose original was published again after it: (original's version then, now).
    original_updated: tuple[int, int] | None = None

    @property
    def is_current(self) -> bool:
        return self.version == self.record.version


def readable_version(instance: Instance, record: PracticeRecord, version: int,
                     viewer: policy.Viewer | None) -> Practice | None:
    """The practice at ``version`` if ``viewer`` may read that version, else None.

    A version is read under the visibility it was published with (its own front matter) and the
    practice's visibility now: an earlier partners-only text stays partners-only after the practice
    is made public, and a practice made partners-only hides its earlier public versions too.
    """
    if not policy.may_read(viewer, record):
        return None  # without reading the file
    try:
        practice = parse(instance.store.read_version(record.id, version), record.slug)
    except (FileNotFoundError, UnsafePath, InvalidPractice):
        return None
    return practice if policy.may_read_version(viewer, record, practice) else None


def get(instance: Instance, practice_id: str, viewer: policy.Viewer | None, version: int | None = None) -> PracticeView:
    """The practice ``practice_id`` (at ``version``, default current) if ``viewer`` may read it."""
    with instance.db.session() as session:
        return _view(instance, session, practice_id, viewer, version)


def versions_as_read(instance: Instance, view: PracticeView,
                     viewer: policy.Viewer | None) -> list[tuple[VersionEntry, Practice | None]]:
    """Each version of ``view``'s practice, newest first, with its text where ``viewer`` may read that version.

    A version published partners-only stays unreadable to the public after a later version is made public.
    """
    return [(entry, readable_version(instance, view.record, entry.version, viewer) if entry.readable else None)
            for entry in view.versions]


def titles(instance: Instance, practice_ids: Collection[str],
           viewer: policy.Viewer | None) -> dict[str, tuple[str, str]]:
    """The current title and its language of those of ``practice_ids`` that ``viewer`` may read, by id
    (others are left out)."""
    wanted = sorted({practice_id for practice_id in practice_ids if "/" in practice_id})
    if not wanted:
        return {}
    with instance.db.session() as session:
        records = session.scalars(sa.select(PracticeRecord).where(PracticeRecord.id.in_(wanted)))
        return {record.id: (record.title, record.language) for record in records if policy.may_read(viewer, record)}


def _view(instance: Instance, session: Session, practice_id: str, viewer: policy.Viewer | None,
          version: int | None) -> PracticeView:
    record = session.get(PracticeRecord, practice_id)
    number = record.version if record is not None and version is None else version
    practice = readable_version(instance, record, number, viewer) if record is not None and number else None
    if record is None or number is None or practice is None:
        raise PracticeNotFound(f"{practice_id} v{number}")
    rows = tuple(session.scalars(sa.select(PracticeVersion).where(PracticeVersion.practice_id == practice_id)
                                 .order_by(PracticeVersion.version.desc())))
    versions = tuple(VersionEntry(r.version, r.published_at, r.credit or "", r.note,
                                  policy.may_read_visibility(viewer, r.visibility), r.actor) for r in rows)
    original_id = record.translation_of or record.id
    original = session.get(PracticeRecord, original_id) if record.translation_of else None
    if original is not None and not policy.may_read(viewer, original):
        original = None
    family = session.scalars(sa.select(PracticeRecord).where(
        PracticeRecord.translation_of == original_id,
        PracticeRecord.id != record.id,
        PracticeRecord.visibility.in_(policy.readable_visibilities(viewer))).order_by(PracticeRecord.language))
    return PracticeView(practice=practice, record=record, version=number, versions=versions, original=original,
                        translations=tuple(family), rendered=rendered(instance, session, practice, number),
                        original_updated=_original_updated(original, rows[0] if rows else None))


def stored_renderings(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], RenderedVersion]:
    """The stored renderings of the (practice id, version) pairs ``keys``, in one query."""
    if not keys:
        return {}
    rows = session.scalars(sa.select(RenderedVersion).where(
        sa.tuple_(RenderedVersion.practice_id, RenderedVersion.version).in_(keys)))
    return {(row.practice_id, row.version): row for row in rows}


def rendered(instance: Instance, session: Session, practice: Practice, version: int,
             stored: dict[tuple[str, int], RenderedVersion] | None = None) -> rendering.Rendered:
    """The body of ``practice`` at ``version`` as safe HTML: stored at publish, rendered (and stored) once
    more only for versions published before renderings were kept or by another renderer.

    ``stored``: renderings already read with ``stored_renderings`` (for a page that shows many).
    """
    row = stored.get((practice.id, version)) if stored is not None else session.get(RenderedVersion,
                                                                                      (practice.id, version))
    if row is not None and row.renderer == rendering.RENDERER:
        return rendering.Rendered.from_stored(row.html, row.contents)
    body = rendering.render(practice.body)
    with instance.db.writing() as writer:
        writer.merge(RenderedVersion(practice_id=practice.id, version=version, renderer=rendering.RENDERER,
                                     html=str(body.html), contents=body.stored_contents()))
    return body


def original_updated(original: PracticeRecord | None, latest: PracticeVersion | None) -> tuple[int, int] | None:
    """For a translation whose latest version is ``latest``: the version of ``original`` it was made from
    and the original's current version, when the original is newer (None when it is not behind)."""
    return _original_updated(original, latest)


def _original_updated(original: PracticeRecord | None, latest: PracticeVersion | None) -> tuple[int, int] | None:
    """The original's version this translation was made from, and its current one, when that is newer.

    A translation published before its original existed (imported in the same batch, say) was made
    from the original's first version.
    """
    if original is None or latest is None:
        return None
    then = latest.original_version or 1
    return (then, original.version) if then < original.version else None


def due_for_review(instance: Instance, cities: tuple[str, ...], within_days: int = 30) -> list[PracticeRecord]:
    """Practices of ``cities`` whose review_by date has passed or comes within ``within_days``."""
    limit = (datetime.date.today() + datetime.timedelta(days=within_days)).isoformat()
    with instance.db.session() as session:
        records = list(session.scalars(sa.select(PracticeRecord).where(PracticeRecord.city.in_(cities))))
    return sorted((r for r in records if r.meta.get("review_by") and r.meta["review_by"] <= limit),
                  key=lambda r: r.meta["review_by"])
