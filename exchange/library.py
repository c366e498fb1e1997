"""Publishing practices and reading them back: every write to the library goes through here."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from exchange import audit
from exchange import bundles
from exchange import cities
from exchange import diffs
from exchange import indexing
from exchange import policy
from exchange.errors import InvalidCity
from exchange.errors import PracticeNotFound
from exchange.instance import Instance
from exchange.models import City
from exchange.models import PracticeRecord
from exchange.models import PracticeVersion
from exchange.practice import InvalidPractice
from exchange.practice import Practice
from exchange.practice import Problem
from exchange.practice import parse
from exchange.storage import UnsafePath
from exchange.storage import write_durably

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


def publish(instance: Instance, data: bytes, slug: str, actor: str, note: str = "",
            source: str | None = None, index: bool = True) -> Outcome:
    """Publish ``data`` as practice ``<city>/<slug>``: a new version when it differs from the current one.

    Raises InvalidPractice listing every problem; nothing is written then. The practice is searchable
    when this returns (``index=False`` leaves it to the caller's one ``indexing.drain`` for a batch).
    """
    source = source or f"{slug}.md"
    practice = parse(data, slug, source)
    digest = sha256(data)
    with instance.db.writing() as session:
        _check_city(session, practice, source)
        record = session.get(PracticeRecord, practice.id)
        if record is not None and record.sha256 == digest:
            return Outcome(source, "unchanged", practice.id, record.version)
        version = (record.version if record else 0) + 1
        instance.store.publish(practice.id, version, data)
        record = _catalogue(session, record, practice, version, digest)
        session.add(PracticeVersion(practice_id=practice.id, version=version, sha256=digest,
                                    actor=actor, note=note))
        audit.record(session, actor, "practice.publish", practice.id, version=version, sha256=digest,
                     note=note)
        indexing.enqueue(session, practice.id)
    log.info("published %s v%d by %r", practice.id, version, actor)
    if index:
        _index_now(instance)
    return Outcome(source, "created" if version == 1 else "updated", practice.id, version)


def _index_now(instance: Instance) -> None:
    """Make a publish searchable now; if the index cannot take it, the outbox keeps it for later."""
    if not instance.search.exists():
        return  # the first search or 'exchange init' builds the index from the library
    try:
        indexing.drain(instance)
    except Exception as error:
        log.warning("indexing after publish deferred to the outbox: %r", error)


def _check_city(session: Session, practice: Practice, source: str) -> None:
    city = session.get(City, practice.city)
    if city is None:
        raise InvalidPractice(source, [Problem("city", f"{practice.city!r} is not a partner city of "
                                                       "this library; an administrator adds it with "
                                                       "'exchange cities add'")])
    if city.country != practice.country:
        raise InvalidPractice(source, [Problem("country", f"{practice.country!r} does not match "
                                                          f"{city.slug}'s country {city.country!r}")])


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


def import_paths(instance: Instance, paths: list[Path], actor: str) -> list[Outcome]:
    """Publish every practice file in ``paths`` (files, folders, zips); one outcome per file."""
    outcomes: list[Outcome] = []
    for path in paths:
        path = Path(path)
        try:
            entries = _entries(instance, path, actor, outcomes)
        except bundles.BadBundle as error:
            outcomes.append(Outcome(str(path), "failed", problems=(Problem(None, str(error)),)))
            continue
        for entry in entries:
            outcomes.append(_import_entry(instance, entry, actor))
    if any(o.status in ("created", "updated") for o in outcomes):
        _index_now(instance)
    return outcomes


def _entries(instance: Instance, path: Path, actor: str, outcomes: list[Outcome]) -> list[bundles.Entry]:
    if path.is_dir():
        cities_file = path / bundles.CITIES_FILE
        if cities_file.is_file() and not cities_file.is_symlink():
            outcomes.extend(_add_cities(instance, cities_file.read_bytes(), str(cities_file), actor))
        return list(bundles.read_folder(path))
    if path.suffix == ".zip":
        entries, extras = bundles.read_zip(path)
        if bundles.CITIES_FILE in extras:
            outcomes.extend(_add_cities(instance, extras[bundles.CITIES_FILE], f"{path}:{bundles.CITIES_FILE}", actor))
        return entries
    if path.is_symlink():
        return [bundles.Entry(str(path), path.stem, None, "is a symbolic link; not followed")]
    if not path.exists():
        return [bundles.Entry(str(path), path.stem, None, "no such file or folder")]
    if path.suffix != ".md":
        return [bundles.Entry(str(path), path.stem, None, "is not a Markdown (.md) file")]
    return [bundles.Entry(str(path), path.stem, path.read_bytes())]


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
        return publish(instance, entry.data, entry.slug, actor, note="imported", source=entry.source, index=False)
    except InvalidPractice as error:
        log.info("import refused %r: %s", entry.source, error)
        return Outcome(entry.source, "failed", problems=tuple(error.problems))
    except (UnsafePath, OSError) as error:
        log.warning("import failed %r: %s", entry.source, error)
        return Outcome(entry.source, "failed", problems=(Problem(None, f"could not be saved: {error}"),))


def export(instance: Instance, dest: Path, actor: str) -> int:
    """Write every current practice (and the cities) to folder or ``.zip`` ``dest``; the count."""
    with instance.db.session() as session:
        files = {bundles.CITIES_FILE: cities.as_yaml(cities.all_cities(session)).encode("utf-8")}
        for practice_id in session.scalars(sa.select(PracticeRecord.id).order_by(PracticeRecord.id)):
            files[f"{practice_id}.md"] = instance.store.read_current(practice_id)
        audit.record(session, actor, "library.export", str(dest), practices=len(files) - 1)
        session.commit()
    if dest.suffix == ".zip":
        write_durably(dest, bundles.zip_bytes(files))
    else:
        for name, data in files.items():
            write_durably(dest / name, data)
    return len(files) - 1


@dataclass(frozen=True)
class PracticeView:
    """A practice as a reader sees it: the parsed document, its catalogue row and its history."""

    practice: Practice
    record: PracticeRecord
    version: int
    versions: tuple[PracticeVersion, ...]
    original: PracticeRecord | None
    translations: tuple[PracticeRecord, ...]
    #: For a translation whose original was published again after it: (original's version then, now).
    original_updated: tuple[int, int] | None = None

    @property
    def is_current(self) -> bool:
        return self.version == self.record.version


def get(instance: Instance, session: Session, practice_id: str, viewer: policy.Viewer | None,
        version: int | None = None) -> PracticeView:
    """The practice ``practice_id`` (at ``version``, default current) if ``viewer`` may read it."""
    record = session.get(PracticeRecord, practice_id)
    if record is None or not policy.may_read(viewer, record):
        raise PracticeNotFound(practice_id)
    number = record.version if version is None else version
    try:
        data = (instance.store.read_current(practice_id) if version is None
                else instance.store.read_version(practice_id, number))
    except (FileNotFoundError, UnsafePath):
        raise PracticeNotFound(f"{practice_id} v{number}") from None
    versions = tuple(session.scalars(
        sa.select(PracticeVersion).where(PracticeVersion.practice_id == practice_id)
        .order_by(PracticeVersion.version.desc())))
    original_id = record.translation_of or record.id
    original = session.get(PracticeRecord, original_id) if record.translation_of else None
    if original is not None and not policy.may_read(viewer, original):
        original = None
    family = session.scalars(sa.select(PracticeRecord).where(
        PracticeRecord.translation_of == original_id,
        PracticeRecord.id != record.id,
        PracticeRecord.visibility.in_(policy.readable_visibilities(viewer))).order_by(PracticeRecord.language))
    return PracticeView(practice=parse(data, record.slug), record=record, version=number,
                        versions=versions, original=original, translations=tuple(family),
                        original_updated=_original_updated(session, original, versions))


def _original_updated(session: Session, original: PracticeRecord | None,
                      versions: tuple[PracticeVersion, ...]) -> tuple[int, int] | None:
    """The original's version when this translation was last published, and its current one, if newer."""
    if original is None or not versions:
        return None
    translated_at = versions[0].published_at
    then = session.scalar(sa.select(sa.func.max(PracticeVersion.version)).where(
        PracticeVersion.practice_id == original.id, PracticeVersion.published_at <= translated_at))
    if then is None or then >= original.version:
        return None
    return then, original.version


def due_for_review(session: Session, cities: tuple[str, ...], within_days: int = 30) -> list[PracticeRecord]:
    """Practices of ``cities`` whose review_by date has passed or comes within ``within_days``."""
    import datetime

    limit = (datetime.date.today() + datetime.timedelta(days=within_days)).isoformat()
    records = session.scalars(sa.select(PracticeRecord).where(PracticeRecord.city.in_(cities)))
    return sorted((r for r in records if r.meta.get("review_by") and r.meta["review_by"] <= limit),
                  key=lambda r: r.meta["review_by"])


def restore_missing_file(instance: Instance, practice_id: str, actor: str) -> str:
    """Put back a current file that vanished from disk, from its kept version; what was done."""
    with instance.db.writing() as session:
        record = session.get(PracticeRecord, practice_id)
        if record is None:
            return f"{practice_id}: nothing to restore"
        try:
            data = instance.store.read_version(practice_id, record.version)
        except FileNotFoundError:
            session.delete(record)
            indexing.enqueue(session, practice_id)
            audit.record(session, actor, "practice.unlist", practice_id, reason="no file and no kept version")
            return f"{practice_id}: no file and no kept version; removed from the catalogue"
        write_durably(instance.store.current_path(practice_id), data)
        audit.record(session, actor, "practice.restore-file", practice_id, version=record.version)
        indexing.enqueue(session, practice_id)
    return f"{practice_id}: restored v{record.version} from history"


def set_aside_unacknowledged(instance: Instance, practice_id: str, actor: str) -> str:
    """Rename version files newer than the catalogue knows (left by a crash); what was done."""
    with instance.db.writing() as session:
        record = session.get(PracticeRecord, practice_id)
        newer = [v for v in instance.store.versions(practice_id) if record is None or v > record.version]
        for version in newer:
            path = instance.store.version_path(practice_id, version)
            path.rename(path.with_name(f"{version}.md.interrupted"))
        if record is not None:
            write_durably(instance.store.current_path(practice_id),
                          instance.store.read_version(practice_id, record.version))
        audit.record(session, actor, "practice.set-aside", practice_id, versions=newer)
    return f"{practice_id}: set aside unacknowledged versions {newer}"


def compare(instance: Instance, session: Session, practice_id: str, viewer: policy.Viewer | None, old: int,
            new: int) -> list[tuple[str, str]]:
    """The differences between two published versions the viewer may read."""
    record = session.get(PracticeRecord, practice_id)
    if record is None or not policy.may_read(viewer, record):
        raise PracticeNotFound(practice_id)
    try:
        texts = [instance.store.read_version(practice_id, n).decode("utf-8") for n in (old, new)]
    except (FileNotFoundError, UnsafePath, ValueError):
        raise PracticeNotFound(f"{practice_id} v{old}..v{new}") from None
    return diffs.lines(texts[0], texts[1], f"version {old}", f"version {new}")


def restore(instance: Instance, reviewer: policy.Viewer, practice_id: str, version: int) -> Outcome:
    """Publish an earlier version again, as a new version (reviewers only; nothing is overwritten)."""
    if not policy.may_review(reviewer):
        raise PermissionError("only reviewers restore versions")
    data = instance.store.read_version(practice_id, version)
    return publish(instance, data, practice_id.split("/")[1], reviewer.email,  # type: ignore[attr-defined]
                   note=f"restored version {version}")
