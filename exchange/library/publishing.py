"""Publishing practices: every write to the library goes through here (publish, import, export, repairs)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import policy
from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Conflict
from exchange.errors import InvalidCity
from exchange.errors import NotAllowed
from exchange.jobs import queue as jobs
from exchange.library import bounded_rendering
from exchange.library import bundles
from exchange.library import cities
from exchange.library import rendering
from exchange.library.practice import InvalidPractice
from exchange.library.practice import Practice
from exchange.library.practice import Problem
from exchange.library.practice import parse
from exchange.library.storage import UnsafePath
from exchange.library.storage import write_durably
from exchange.models import City
from exchange.models import IndexOutbox
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.models import RenderedVersion
from exchange.webhooks import hooks as webhooks

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What happened to one file: created, updated, unchanged or failed (with its problems)."""

    source: str
    status: str
    practice_id: str | None = None
    version: int | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """One report line for the CLI."""
        if self.failed:
            return f"FAILED     {self.source}: " + "; ".join(str(p) for p in self.problems)
        return f"{self.status:<10} {self.source} -> {self.practice_id} v{self.version}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VersionConflict(Conflict):
    """The practice is no longer at the version an edit started from (someone published meanwhile)."""

    def __init__(self, practice_id: str, expected: int | None, current: int | None) -> None:
        super().__init__(f"{practice_id} is at version {current or 0}, not {expected or 0}")
        self.practice_id = practice_id
        self.expected = expected
        self.current = current


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


#: the job each new version asks for: alerts of saved searches and packs (``exchange.alerts.sending``)
ALERTS = "alerts.published"

#: ``publish(expected_version=UNCHECKED)``: publish over whatever version is current (imports).
UNCHECKED = _Unchecked()

#: Work that must commit together with a publish (e.g. closing the submission it came from).
AlsoInTransaction = Callable[[Session, "Outcome"], None]


def publish(instance: Instance, data: bytes, slug: str, actor: str, note: str = "",
            source: str | None = None, index: bool = True, *, credit: str = "",
            expected_version: int | None | _Unchecked = UNCHECKED, submission_id: int | None = None,
            also: AlsoInTransaction | None = None, filed_under: str | None = None) -> Outcome:
    """Publish ``data`` as practice ``<city>/<slug>``: a new version when it differs from the current one.

    Compare-and-set: with ``expected_version`` (None for a new practice) the version is written only if
    the practice is still at that version, checked under a lock on the city's row inside the same
    transaction that records it (BEGIN IMMEDIATE on SQLite, SELECT … FOR UPDATE on PostgreSQL), else
    VersionConflict. ``also`` runs inside that transaction, so what it writes commits with the version
    or not at all. A file that came in a partner city's folder (``filed_under``) must be that city's.
    Raises InvalidPractice listing every problem; nothing is written then. The practice is searchable
    when this returns (``index=False`` leaves it to the caller's ``indexing.drain``).

    Order on disk: the version file is kept before the commit (a crash leaves an unacknowledged file,
    set aside by ``exchange check --repair``); the library's current file is replaced after it (a
    crash leaves it one version behind, which the same repair brings forward).
    """
    source = source or f"{slug}.md"
    practice = parse(data, slug, source)
    digest = sha256(data)
    try:  # in a worker process: a hostile text holds neither this process's GIL nor the lock below
        body = bounded_rendering.render_for_publishing(practice.body)
    except bounded_rendering.RenderRefused as error:
        raise InvalidPractice(source, [Problem("body", str(error))]) from None
    kept: int | None = None
    try:
        with instance.db.writing() as session:
            _lock_city(session, practice, source)
            if filed_under not in (None, practice.city) and session.get(City, filed_under) is not None:
                raise InvalidPractice(source, [Problem("city", f"{practice.city!r} is not {filed_under!r}, the city "
                                                               f"folder the file is filed under; move it to "
                                                               f"{practice.city}/ or correct its city")])
            record = session.get(PracticeRecord, practice.id, with_for_update=True)
            current = record.version if record else None
            if not isinstance(expected_version, _Unchecked) and expected_version != current:
                raise VersionConflict(practice.id, expected_version, current)
            if record is not None and record.sha256 == digest:
                outcome = Outcome(source, "unchanged", practice.id, record.version)
                if also:
                    also(session, outcome)
                return outcome
            version = (current or 0) + 1
            instance.store.keep_version(practice.id, version, data)
            kept = version
            before = record.visibility if record is not None else None
            record = _catalogue(session, record, practice, version, digest)
            webhooks.announce(session, instance.base_url, practice.id, before, record)
            session.add(PracticeVersion(practice_id=practice.id, version=version, sha256=digest, actor=actor,
                                        note=note, visibility=practice.visibility, credit=credit,
                                        original_version=_original_version(session, practice),
                                        submission_id=submission_id))
            session.merge(RenderedVersion(practice_id=practice.id, version=version, renderer=rendering.RENDERER,
                                          html=str(body.html), contents=body.stored_contents()))
            audit.record(session, actor, "practice.publish", practice.id, version=version, sha256=digest,
                         note=note)
            _ask_to_index(session, practice.id)
            jobs.enqueue(session, ALERTS, {"practice": practice.id, "version": version})
            outcome = Outcome(source, "created" if version == 1 else "updated", practice.id, version)
            if also:
                also(session, outcome)
    except BaseException:
        if kept is not None:
            instance.store.set_aside(practice.id, kept)
        raise
    try:
        instance.store.set_current(practice.id, data)
    except OSError as error:  # the version is committed and kept; 'exchange check --repair' copies it
        log.error("published %s v%d but could not replace its library file: %r", practice.id, version, error)
    log.info("published %s v%d by %r", practice.id, version, actor)
    if index:
        instance.index_published()
    return outcome


def _lock_city(session: Session, practice: Practice, source: str) -> City:
    """The practice's city, locked for this transaction: publishes in one city take turns."""
    city = session.scalar(sa.select(City).where(City.slug == practice.city).with_for_update())
    if city is None:
        raise InvalidPractice(source, [Problem("city", f"{practice.city!r} is not a partner city of "
                                                       "this library; an administrator adds it with "
                                                       "'exchange cities add'")])
    if city.country != practice.country:
        raise InvalidPractice(source, [Problem("country", f"{practice.country!r} does not match "
                                                          f"{city.slug}'s country {city.country!r}")])
    return city


def _original_version(session: Session, practice: Practice) -> int | None:
    """For a translation, the version its original is at now (None: not a translation, or no original yet)."""
    if not practice.translation_of:
        return None
    return session.scalar(sa.select(PracticeRecord.version).where(PracticeRecord.id == practice.translation_of))


def _ask_to_index(session: Session, practice_id: str) -> None:
    """Ask search to (re)index ``practice_id``, in ``session``'s transaction: a row in the outbox that
    ``search/indexing.py`` applies to the engine."""
    session.add(IndexOutbox(practice_id=practice_id))


def _catalogue(session: Session, record: PracticeRecord | None, practice: Practice, version: int,
               digest: str) -> PracticeRecord:
    if record is None:
        record = PracticeRecord(id=practice.id, city=practice.city, slug=practice.slug)
        session.add(record)
    record.version = version
    record.sha256 = digest
    record.title = practice.title
    record.summary = practice.summary
    record.country = practice.country
    record.language = practice.language
    record.kind = practice.kind
    record.hazards = list(practice.hazards)
    record.phases = list(practice.phases)
    record.published = practice.published
    record.visibility = practice.visibility
    record.translation_of = practice.translation_of
    record.meta = practice.json_meta()
    return record


def import_paths(instance: Instance, paths: list[Path], actor: str) -> Iterator[Outcome]:
    """Publish every practice file in ``paths`` (files, folders, zips), yielding each file's outcome as
    soon as it is done; what was published is searchable once the iteration ends."""
    published = False
    try:
        for path in paths:
            for outcome in _import_path(instance, Path(path), actor):
                published = published or outcome.status in ("created", "updated")
                yield outcome
    finally:
        if published:
            instance.index_published()


def _import_path(instance: Instance, path: Path, actor: str) -> Iterator[Outcome]:
    try:
        if path.is_dir():
            cities_file = path / bundles.CITIES_FILE
            if cities_file.is_file() and not cities_file.is_symlink():
                yield from _add_cities(instance, cities_file.read_bytes(), str(cities_file), actor)
            entries: Iterable[bundles.Entry] = bundles.read_folder(path)
        elif path.suffix == ".zip":
            entries, extras = bundles.read_zip(path)
            if bundles.CITIES_FILE in extras:
                yield from _add_cities(instance, extras[bundles.CITIES_FILE], f"{path}:{bundles.CITIES_FILE}", actor)
        else:
            entries = [_single_file(path)]
        for entry in entries:
            yield _import_entry(instance, entry, actor)
    except bundles.BadBundle as error:
        if not error.entries:
            yield Outcome(str(path), "failed", problems=(Problem(None, str(error)),))
        for entry in error.entries:
            yield Outcome(entry.source, "failed", problems=(Problem(None, entry.problem or str(error)),))


def _single_file(path: Path) -> bundles.Entry:
    if path.is_symlink():
        return bundles.Entry(str(path), path.stem, None, "is a symbolic link; not followed")
    if not path.exists():
        return bundles.Entry(str(path), path.stem, None, "no such file or folder")
    if path.suffix != ".md":
        return bundles.Entry(str(path), path.stem, None, "is not a Markdown (.md) file")
    return bundles.Entry(str(path), path.stem, path.read_bytes())


def _add_cities(instance: Instance, data: bytes, source: str, actor: str) -> list[Outcome]:
    try:
        specs = cities.parse_list(data.decode("utf-8"))
        added = [spec.slug for spec in specs if cities.add(instance, spec, actor)]
    except (InvalidCity, UnicodeDecodeError, ValueError) as error:
        return [Outcome(source, "failed", problems=(Problem(None, str(error)),))]
    return [Outcome(source, "city added", f"city {slug}", 1) for slug in added]


def _import_entry(instance: Instance, entry: bundles.Entry, actor: str) -> Outcome:
    if entry.problem or entry.data is None:
        return Outcome(entry.source, "failed", problems=(Problem(None, entry.problem or "unreadable"),))
    try:
        return publish(instance, entry.data, entry.slug, actor, note="imported", source=entry.source, index=False,
                       filed_under=entry.folder)
    except InvalidPractice as error:
        log.info("import refused %r: %s", entry.source, error)
        return Outcome(entry.source, "failed", problems=tuple(error.problems))
    except (UnsafePath, OSError) as error:
        log.warning("import failed %r: %s", entry.source, error)
        return Outcome(entry.source, "failed", problems=(Problem(None, f"could not be saved: {error}"),))
    except Exception as error:  # a report line, never a traceback; nothing of this file was kept
        log.exception("import failed %r", entry.source)
        return Outcome(entry.source, "failed", problems=(Problem(None, f"could not be saved ({type(error).__name__}); "
                                                                       "nothing of it was kept"),))


def export(instance: Instance, dest: Path, actor: str) -> int:
    """Write every current practice (and the cities) to folder or ``.zip`` ``dest``; the count."""
    files = {bundles.CITIES_FILE: cities.as_yaml(cities.all_cities(instance)).encode("utf-8")}
    with instance.db.session() as session:
        for practice_id, version in session.execute(sa.select(PracticeRecord.id, PracticeRecord.version)
                                                    .order_by(PracticeRecord.id)):
            files[f"{practice_id}.md"] = instance.store.read_version(practice_id, version)
        audit.record(session, actor, "library.export", str(dest), practices=len(files) - 1)
        session.commit()
    if dest.suffix == ".zip":
        write_durably(dest, bundles.zip_bytes(files))
    else:
        for name, data in files.items():
            write_durably(dest / name, data)
    return len(files) - 1


def record_version_visibility(instance: Instance) -> int:
    """Fill in the visibility of versions published before it was recorded, from their files; how many."""
    done = 0
    with instance.db.writing() as session:
        for row in session.scalars(sa.select(PracticeVersion).where(PracticeVersion.visibility.is_(None))):
            try:
                row.visibility = parse(instance.store.read_version(row.practice_id, row.version),
                                       row.practice_id.partition("/")[2]).visibility
                done += 1
            except (FileNotFoundError, UnsafePath, InvalidPractice) as error:
                log.warning("cannot read %s v%d to record its visibility: %s", row.practice_id, row.version, error)
    return done


def restore_missing_file(instance: Instance, practice_id: str, actor: str) -> Message:
    """Put back a current file that vanished from disk or fell behind, from its kept version; what was done."""
    with instance.db.writing() as session:
        record = session.get(PracticeRecord, practice_id)
        if record is None:
            return Message(N_("%(practice)s: nothing to restore"), practice=practice_id)
        try:
            data = instance.store.read_version(practice_id, record.version)
        except FileNotFoundError:
            session.delete(record)
            _ask_to_index(session, practice_id)
            webhooks.announce(session, instance.base_url, practice_id, record.visibility, None)
            audit.record(session, actor, "practice.unlist", practice_id, reason="no file and no kept version")
            return Message(N_("%(practice)s: no file and no kept version; removed from the catalogue"),
                           practice=practice_id)
        instance.store.set_current(practice_id, data)
        audit.record(session, actor, "practice.restore-file", practice_id, version=record.version)
        _ask_to_index(session, practice_id)
    return Message(N_("%(practice)s: restored v%(version)s from history"), practice=practice_id,
                   version=record.version)


def set_aside_unacknowledged(instance: Instance, practice_id: str, actor: str) -> Message:
    """Rename version files newer than the catalogue knows (left by a crash); what was done."""
    with instance.db.writing() as session:
        record = session.get(PracticeRecord, practice_id)
        newer = [v for v in instance.store.versions(practice_id) if record is None or v > record.version]
        for version in newer:
            instance.store.set_aside(practice_id, version)
        if record is not None:
            instance.store.set_current(practice_id, instance.store.read_version(practice_id, record.version))
        audit.record(session, actor, "practice.set-aside", practice_id, versions=newer)
    return Message(N_("%(practice)s: set aside unacknowledged versions %(versions)s"), practice=practice_id,
                   versions=", ".join(map(str, newer)))


def restore(instance: Instance, reviewer: policy.Viewer, practice_id: str, version: int) -> Outcome:
    """Publish an earlier version again, as a new version (reviewers only; nothing is overwritten)."""
    if not policy.may_review(reviewer):
        raise NotAllowed("only reviewers restore versions")
    data = instance.store.read_version(practice_id, version)
    return publish(instance, data, practice_id.split("/")[1], reviewer.email, note=f"restored version {version}",
                   credit=reviewer.name)
