"""A whole instance as one folder (``exchange backup``), checked against its manifest and restored into an
empty instance (``exchange restore``).

The promise: a backup is a consistent snapshot taken while writes go on, and nobody waits for it. The
database is copied first, as one snapshot (SQLite's online backup API; on PostgreSQL ``pg_dump`` on a
snapshot this module exports and reads in the same transaction). The practice files are then copied
*as that snapshot names them*: a version file is kept before its version is committed and is never
changed after (``library/storage.py``), so every version the snapshot records is on disk, whole and
final, whatever is published meanwhile; its checksum is checked against the one the snapshot holds.
A practice's current file is its current version's text (``publishing.publish``), so it is written
from the history rather than copied from ``library/``, where it may already be newer than the
snapshot. Files the snapshot does not name (a version being published right now, set-aside
interrupted versions) are left out: they were never acknowledged.

Not in a backup: the search index and caches (derived; a restore rebuilds the index), pack export
files (made again on request), the secret key and ``config.py`` (each instance keeps its own: people
sign in again after a restore).

Layout: ``database.sqlite3`` or ``database.pgdump``, ``library/<city>/<slug>.md``,
``history/<city>/<slug>/<n>.md``, and ``manifest.json``, written last, listing every file with its
size and SHA-256. A folder without a manifest is an unfinished backup and is refused.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa

from exchange import audit
from exchange.catalogs import N_
from exchange.catalogs import Lines
from exchange.catalogs import Message
from exchange.library.practice import SLUG_PATTERN
from exchange.library.storage import fsync_folder
from exchange.library.storage import write_durably
from exchange.search import indexing

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

FORMAT = "practice-exchange-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Where a restore stages the files, in the library store, before they take their places.
STAGING = ".restoring"
SQLITE_FILE = "database.sqlite3"
POSTGRESQL_FILE = "database.pgdump"
#: where pg_dump and pg_restore are looked for when they are not on PATH (Debian's postgresql packages)
PG_BIN = Path(os.environ.get("EXCHANGE_PG_BIN") or "/usr/lib/postgresql/15/bin")
#: tables whose rows make an instance not empty (cities and the audit of adding them come with 'init')
CONTENT_TABLES = ("practices", "practice_versions", "users", "submissions", "packs")
_CHUNK = 1 << 20
#: the most problems a check of a backup names (then how many more there are)
MAX_PROBLEMS = 20


class BackupError(Exception):
    """A backup could not be made, checked or restored; the message says which file or why."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds."""

    path: Path
    practices: int
    versions: int
    files: int
    database: str


@dataclass(frozen=True)
class _Version:
    practice_id: str
    version: int
    sha256: str


def _digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _app_version() -> str:
    try:
        return metadata.version("practice-exchange")
    except metadata.PackageNotFoundError:
        return "unknown"


def _kind(instance: Instance) -> str:
    return "postgresql" if instance.db.engine.dialect.name == "postgresql" else "sqlite"


# -- backing up ------------------------------------------------------------------------------------------


def backup(instance: Instance, dest: Path, actor: str) -> Summary:
    """Write a consistent backup of ``instance`` into the new or empty folder ``dest``; what it holds.

    Writes go on meanwhile and never wait for it. Raises BackupError (and leaves no manifest, so the
    folder is never taken for a backup) when a version file the database names is missing or altered.
    """
    dest = Path(dest).resolve()
    if dest.is_relative_to(instance.path):
        raise BackupError(Message(N_("%(dest)s is inside the instance folder; back up into a folder outside it"),
                                  dest=str(dest)))
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(Message(N_("%(dest)s is not an empty folder; back up into a new one"), dest=str(dest)))
    dest.mkdir(parents=True, exist_ok=True)
    kind = _kind(instance)
    if kind == "sqlite":
        database_file = dest / SQLITE_FILE
        _snapshot_sqlite(instance, database_file)
        versions, current = _sqlite_versions(database_file)
    else:
        database_file = dest / POSTGRESQL_FILE
        versions, current = _snapshot_postgresql(instance, database_file)
    files: list[dict[str, Any]] = []
    for version in versions:
        files.append(_copy_version(instance, version, dest / "history" / version.practice_id / f"{version.version}.md"))
    for practice_id, number in current.items():
        source = dest / "history" / practice_id / f"{number}.md"
        target = dest / "library" / f"{practice_id}.md"
        write_durably(target, source.read_bytes())
        size, digest = _digest(target)
        files.append({"path": f"library/{practice_id}.md", "size": size, "sha256": digest})
    size, digest = _digest(database_file)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "app_version": _app_version(),
        "database": {"path": database_file.name, "kind": kind, "size": size, "sha256": digest},
        "practices": len(current),
        "versions": len(versions),
        "files": files,
    }
    write_durably(dest / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    with instance.db.writing() as session:
        audit.record(session, actor, "instance.backup", str(dest), practices=len(current), versions=len(versions))
    log.info("backed up %s to %s: %d practices, %d versions", instance.path, dest, len(current), len(versions))
    return Summary(dest, len(current), len(versions), len(files), kind)


def _snapshot_sqlite(instance: Instance, target: Path) -> None:
    """Copy the SQLite database with its online backup API: one read transaction, writers carry on (WAL)."""
    source_path = instance.db.engine.url.database
    assert source_path  # an instance's SQLite database is a file
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: a single consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        source.close()
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def _sqlite_versions(database_file: Path) -> tuple[list[_Version], dict[str, int]]:
    """Every version and every practice's current version, as the snapshot recorded them."""
    connection = sqlite3.connect(database_file)
    try:
        versions = [_Version(*row) for row in connection.execute(
            "SELECT practice_id, version, sha256 FROM practice_versions ORDER BY practice_id, version")]
        current = dict(connection.execute("SELECT id, version FROM practices ORDER BY id").fetchall())
    finally:
        connection.close()
    return versions, current


def _libpq(instance: Instance) -> tuple[str, dict[str, str]]:
    """The database's address as pg_dump and pg_restore take it, and the environment that carries its password."""
    url = instance.db.engine.url
    environment = {**os.environ}
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    address = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return address, environment


def _pg_program(name: str) -> str:
    found = shutil.which(name) or (str(PG_BIN / name) if (PG_BIN / name).exists() else None)
    if found is None:
        raise BackupError(Message(N_("%(program)s is not installed; it is needed for a PostgreSQL database"),
                                  program=name))
    return found


def _snapshot_postgresql(instance: Instance, target: Path) -> tuple[list[_Version], dict[str, int]]:
    """``pg_dump`` of a snapshot exported by a transaction that reads the versions from the same snapshot."""
    address, environment = _libpq(instance)
    with instance.db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            versions = [_Version(*row) for row in connection.execute(sa.text(
                "SELECT practice_id, version, sha256 FROM practice_versions ORDER BY practice_id, version"))]
            current = {row[0]: row[1] for row in connection.execute(sa.text(
                "SELECT id, version FROM practices ORDER BY id"))}
            # the snapshot lives while this transaction is open: pg_dump reads exactly what we just read
            result = subprocess.run([_pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                     f"--snapshot={snapshot}", f"--file={target}", address],
                                    env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(Message(N_("pg_dump failed: %(error)s"), error=result.stderr.strip()))
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())
    return versions, current


def _copy_version(instance: Instance, version: _Version, target: Path) -> dict[str, Any]:
    """Copy one kept version into the backup, checked against the checksum the database recorded."""
    try:
        data = instance.store.read_version(version.practice_id, version.version)
    except FileNotFoundError:
        raise BackupError(Message(N_("history/%(practice)s/%(version)s.md is missing; run 'exchange check'"),
                                  practice=version.practice_id, version=version.version)) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != version.sha256:
        raise BackupError(Message(N_("history/%(practice)s/%(version)s.md is not the text that was published "
                                     "(its checksum differs); run 'exchange check'"),
                                  practice=version.practice_id, version=version.version))
    write_durably(target, data)
    return {"path": f"history/{version.practice_id}/{version.version}.md", "size": len(data), "sha256": digest}


# -- checking ---------------------------------------------------------------------------------------------


def verify(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source``, once every file in it is checked; BackupError naming every
    file that is missing, altered, unexpected or not where a backup may put it (the first ``MAX_PROBLEMS``)."""
    source = Path(source).resolve()
    try:
        manifest = json.loads((source / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(Message(N_("%(source)s has no manifest.json: it is not a finished backup"),
                                  source=str(source))) from None
    except (ValueError, OSError):
        raise BackupError(Message(N_("%(source)s/manifest.json cannot be read"), source=str(source))) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(Message(N_("%(source)s/manifest.json is not a Practice Exchange backup's manifest"),
                                  source=str(source)))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(Message(N_("the backup's format version %(found)s is not %(known)s, the one this "
                                     "version reads"), found=manifest.get("format_version"), known=FORMAT_VERSION))
    database = manifest.get("database") or {}
    entries = [database, *manifest.get("files", [])]
    listed = set()
    problems: list[Message] = []
    for entry in entries:
        path = str(entry.get("path", ""))
        if not _allowed(path, database.get("kind")):  # never opened: it may point outside the backup
            problems.append(Message(N_("%(path)s: the manifest names a file a backup never holds"), path=path))
            continue
        listed.add(path)
        if (source / path).is_symlink():
            problems.append(Message(N_("%(path)s is a symbolic link; a backup holds only plain files"), path=path))
            continue
        try:
            size, digest = _digest(source / path)
        except (FileNotFoundError, IsADirectoryError):
            problems.append(Message(N_("%(path)s is missing from the backup"), path=path))
            continue
        if (size, digest) != (entry.get("size"), entry.get("sha256")):
            problems.append(Message(N_("%(path)s is damaged: its size or checksum differs from the manifest"),
                                    path=path))
    for path in sorted(_files(source)):
        if path not in listed and path != MANIFEST:
            problems.append(Message(N_("%(path)s is in the backup but not in its manifest"), path=path))
    if len(problems) == 1:
        raise BackupError(problems[0])
    if problems:
        named: list[str] = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            named.append(Message(N_("and %(count)s more"), count=len(problems) - MAX_PROBLEMS))
        raise BackupError(Message(N_("the backup has %(count)s problems:\n%(problems)s"), count=len(problems),
                                  problems=Lines(named)))
    return dict(manifest)


def _allowed(path: str, kind: object) -> bool:
    """Whether ``path`` is a place a backup puts a file: the database, or a practice's current or kept version."""
    if path in (SQLITE_FILE, POSTGRESQL_FILE):
        return path == (SQLITE_FILE if kind == "sqlite" else POSTGRESQL_FILE)
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "library" and parts[2].endswith(".md"):
        return bool(SLUG_PATTERN.match(parts[1]) and SLUG_PATTERN.match(parts[2][:-3]))
    if len(parts) == 4 and parts[0] == "history" and parts[3].endswith(".md"):
        number = parts[3][:-3]
        return bool(SLUG_PATTERN.match(parts[1]) and SLUG_PATTERN.match(parts[2]) and number.isdigit()
                    and not number.startswith("0"))
    return False


def _files(root: Path) -> Iterator[str]:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            yield Path(folder, name).relative_to(root).as_posix()


# -- restoring --------------------------------------------------------------------------------------------


def is_empty(instance: Instance) -> bool:
    """Whether ``instance`` holds no practices, practice files, accounts, submissions or packs."""
    for root in (instance.store.library, instance.store.history):
        if root.is_dir() and any(True for _ in _files(root)):
            return False
    inspector = sa.inspect(instance.db.engine)
    with instance.db.engine.connect() as connection:
        for table in CONTENT_TABLES:
            if inspector.has_table(table) and connection.execute(
                    sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:  # noqa: S608 - our own names
                return False
    return True


def restore(instance: Instance, source: Path, actor: str) -> Summary:
    """Restore the backup in ``source`` into the empty ``instance``, then rebuild its search index.

    Checks everything first and changes nothing when the backup is damaged (BackupError naming the
    file), the instance is not empty, or its database is of another kind than the backup's. The files are
    staged in the library store (``STAGING``) and take their places only once the database is in, so a
    restore stopped before then (a full disk, a failed ``pg_restore``) leaves the instance empty, to be
    restored again.
    """
    source = Path(source).resolve()
    manifest = verify(source)
    if not is_empty(instance):
        raise BackupError(Message(N_("%(path)s is not empty (it has practices, accounts or packs); restore into "
                                     "a new instance made with 'exchange init --empty'"), path=str(instance.path)))
    kind = manifest["database"]["kind"]
    if kind != _kind(instance):
        raise BackupError(Message(N_("the backup holds a %(backup)s database but this instance uses %(instance)s; "
                                     "restore it into an instance with a %(backup)s database"),
                                  backup=kind, instance=_kind(instance)))
    # The files are staged beside the library first, so that a restore stopped before the database is in
    # (a full disk, a refused pg_restore) leaves the instance as empty as it was, and may simply be run again.
    staging = instance.store.root / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a restore stopped midway left
    try:
        for entry in manifest["files"]:
            _copy_in(instance, source, entry["path"], staging)
        database_file = source / manifest["database"]["path"]
        if kind == "sqlite":
            _restore_sqlite(instance, database_file)
        else:
            _restore_postgresql(instance, database_file)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    instance.db.migrate()  # a backup made by an earlier version is brought up to this one's schema
    for folder in ("history", "library"):  # history first: a current file always has its version beside it
        target = instance.store.root / folder
        if target.is_dir():
            shutil.rmtree(target)  # holds no file (``is_empty``): at most empty folders
        if (staging / folder).is_dir():
            os.replace(staging / folder, target)
    fsync_folder(instance.store.root)
    shutil.rmtree(staging)
    indexing.rebuild(instance)
    with instance.db.writing() as session:
        audit.record(session, actor, "instance.restore", str(source), created_at=manifest.get("created_at"),
                     practices=manifest.get("practices"), versions=manifest.get("versions"))
    log.info("restored %s from %s", instance.path, source)
    return Summary(source, int(manifest.get("practices", 0)), int(manifest.get("versions", 0)),
                   len(manifest["files"]), kind)


def _copy_in(instance: Instance, source: Path, path: str, staging: Path) -> None:
    """Copy the backup's file ``path`` to where it goes in the library, inside ``staging`` (checked as the
    library's own paths are: nothing lands outside it)."""
    root, _, rest = path.partition("/")
    if root == "history":
        practice, _, name = rest.rpartition("/")
        target = instance.store.version_path(practice, int(name[:-3]))
    else:
        target = instance.store.current_path(rest[:-3])
    write_durably(staging / target.relative_to(instance.store.root), (source / path).read_bytes())


def _restore_sqlite(instance: Instance, database_file: Path) -> None:
    """Copy the backup's database into the instance's, page by page, with SQLite's backup API."""
    instance.db.dispose()
    target_path = instance.db.engine.url.database
    assert target_path
    backup_copy = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        backup_copy.backup(target)
    finally:
        target.close()
        backup_copy.close()
    instance.db.dispose()


def _restore_postgresql(instance: Instance, database_file: Path) -> None:
    """``pg_restore`` into the instance's database, in one transaction: all of it or none."""
    instance.db.dispose()
    address, environment = _libpq(instance)
    result = subprocess.run([_pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                             "--single-transaction", "--exit-on-error", f"--dbname={address}", str(database_file)],
                            env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(Message(N_("pg_restore failed: %(error)s"), error=result.stderr.strip()))
