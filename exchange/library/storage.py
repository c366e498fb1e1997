"""The library on disk: current practices in ``library/``, every published version in ``history/``.

Every write is atomic and durable: a temporary file in the same folder, fsync, rename, fsync of the
folder. Nothing here ever deletes or overwrites a published version.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from exchange.errors import Invalid
from exchange.library.practice import SLUG_PATTERN
from exchange.library.practice import check_slug

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
_VERSION_FILE = re.compile(r"^([1-9][0-9]{0,8})\.md$")


class UnsafePath(Invalid):
    """A path would leave the library, or passes through a symbolic link."""


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file, whole."""
    _make_folder(path.parent)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def _make_folder(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        fsync_folder(created.parent)


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path: Path) -> bytes:
    """The bytes of ``path``, refusing to follow a symbolic link at the last step."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


class LibraryStore:
    """Practice files of one library: ``library/<city>/<slug>.md`` and ``history/<city>/<slug>/<n>.md`` in
    ``root`` (the instance folder, or a folder several nodes share: ``LIBRARY_STORE``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.library = root / "library"
        self.history = root / "history"

    def _inside(self, root: Path, *parts: str) -> Path:
        path = root.joinpath(*parts)
        real_root = os.path.realpath(root)
        if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
            log.warning("refused a path outside the library: %r", str(path))
            raise UnsafePath(f"{'/'.join(parts)} leaves the library")
        return path

    @staticmethod
    def _split(practice_id: str) -> tuple[str, str]:
        city, _, slug = practice_id.partition("/")
        if check_slug(city) or check_slug(slug):
            raise UnsafePath(f"{practice_id!r} is not a practice id")
        return city, slug

    def current_path(self, practice_id: str) -> Path:
        city, slug = self._split(practice_id)
        return self._inside(self.library, city, f"{slug}.md")

    def version_path(self, practice_id: str, version: int) -> Path:
        city, slug = self._split(practice_id)
        return self._inside(self.history, city, slug, f"{int(version)}.md")

    def read_current(self, practice_id: str) -> bytes:
        """The current text of a practice (FileNotFoundError when there is none)."""
        return read_file(self.current_path(practice_id))

    def read_version(self, practice_id: str, version: int) -> bytes:
        """The text of one published version (FileNotFoundError when there is no such version)."""
        return read_file(self.version_path(practice_id, version))

    def versions(self, practice_id: str) -> list[int]:
        """The version numbers kept for a practice, oldest first."""
        city, slug = self._split(practice_id)
        folder = self._inside(self.history, city, slug)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for m in map(_VERSION_FILE.match, os.listdir(folder)) if m)

    def keep_version(self, practice_id: str, version: int, text: bytes) -> None:
        """Keep ``text`` as version ``version`` (before the database records it).

        A history file left by an interrupted earlier attempt (never acknowledged) is set aside, not
        overwritten. Until the database commits, the version is unacknowledged: ``set_aside`` undoes it.
        """
        history_file = self.version_path(practice_id, version)
        if history_file.exists():
            self.set_aside(practice_id, version)
        write_durably(history_file, text)

    def set_aside(self, practice_id: str, version: int) -> Path | None:
        """Rename an unacknowledged version file out of the history (never deleted); its new path."""
        history_file = self.version_path(practice_id, version)
        if not history_file.exists():
            return None
        aside = history_file.with_name(f"{version}.md.interrupted-{os.getpid()}-{os.urandom(3).hex()}")
        log.warning("setting aside an unacknowledged version file %s", history_file)
        os.replace(history_file, aside)
        fsync_folder(history_file.parent)
        return aside

    def set_current(self, practice_id: str, text: bytes) -> None:
        """Make ``text`` (an acknowledged version) the practice's current file in the library folder."""
        write_durably(self.current_path(practice_id), text)

    def practice_ids(self) -> Iterator[str]:
        """The ids of every current practice file, in a stable order."""
        if not self.library.is_dir():
            return
        for city in sorted(os.listdir(self.library)):
            folder = self.library / city
            if not SLUG_PATTERN.match(city) or folder.is_symlink() or not folder.is_dir():
                continue
            for name in sorted(os.listdir(folder)):
                if name.endswith(".md") and SLUG_PATTERN.match(name[:-3]):
                    yield f"{city}/{name[:-3]}"

    def sweep_temporary_files(self, older_than_seconds: float = 0.0) -> int:
        """Remove temporary files left by interrupted writes (last written ``older_than_seconds`` ago or
        earlier: on a store several nodes share, a younger one may be another node's write in progress);
        the number removed."""
        removed = 0
        written_before = time.time() - older_than_seconds
        for root in (self.library, self.history):
            if not root.is_dir():
                continue
            for folder, _dirs, files in os.walk(root):
                for name in (name for name in files if name.startswith(TEMP_PREFIX)):
                    path = Path(folder, name)
                    try:
                        if older_than_seconds and path.stat().st_mtime >= written_before:
                            continue
                        path.unlink()
                    except FileNotFoundError:
                        continue  # renamed into place meanwhile by the write that made it
                    removed += 1
        if removed:
            log.info("removed %d temporary files left by interrupted writes", removed)
        return removed
