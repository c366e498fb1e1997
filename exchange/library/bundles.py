"""Reading and writing bundles of practice files: folders and ``.zip`` archives from outside."""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from exchange.errors import Invalid
from exchange.library.practice import MAX_DOCUMENT_BYTES

MAX_ENTRIES = 5_000
MAX_TOTAL_BYTES = 200 * 1024 * 1024
CITIES_FILE = "cities.yaml"
#: a course pack's structure (sections, order, notes) in a pack's Markdown ZIP; ``exchange import`` skips it
PACK_FILE = "pack.yaml"
#: the files of a bundle that are not practices, each at most this large
EXTRA_FILES = (CITIES_FILE, PACK_FILE)
MAX_EXTRA_BYTES = 8 * 1024 * 1024


class BadBundle(Invalid):
    """A bundle is refused as a whole; the message says why. Nothing of it is used.

    ``entries`` reports each file of a damaged bundle with its own problem, when they could be listed.
    """

    def __init__(self, message: str, entries: tuple[Entry, ...] = ()) -> None:
        super().__init__(message)
        self.entries = entries


@dataclass(frozen=True)
class Entry:
    """One file of a bundle: where it came from, its slug (from its name) and its bytes or problem."""

    source: str
    slug: str
    data: bytes | None
    problem: str | None = None
    #: the folder the file is filed under inside the bundle (a city's slug in the library's layout)
    folder: str | None = None


def read_folder(root: Path) -> Iterator[Entry]:
    """Every ``.md`` file under ``root`` (symbolic links are reported, never followed)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".md") or name.startswith("."):
                continue
            path = Path(folder, name)
            source = str(path)
            filed_under = path.parent.name if path.parent != root else None
            if path.is_symlink():
                yield Entry(source, name[:-3], None, "is a symbolic link; not followed")
            elif path.stat().st_size > MAX_DOCUMENT_BYTES:
                yield Entry(source, name[:-3], None, f"is larger than {MAX_DOCUMENT_BYTES // 1024} KB")
            else:
                yield Entry(source, name[:-3], path.read_bytes(), folder=filed_under)


def read_zip(path: Path) -> tuple[list[Entry], dict[str, bytes]]:
    """The ``.md`` entries of a zip and its other known files by name; BadBundle when any entry is unsafe.

    Every entry is checked from the central directory before anything is read (threats I-7..I-10).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BadBundle(f"{path}: not a readable zip file ({error})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BadBundle(f"{path}: {len(infos)} entries; at most {MAX_ENTRIES} are allowed")
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise BadBundle(f"{path}: unpacks to more than {MAX_TOTAL_BYTES // 2**20} MB")
        wanted = []
        for info in infos:
            _check_entry(path, info)
            if not info.is_dir():
                wanted.append(info)
        entries, extras, damaged = [], {}, {}
        for info in wanted:
            try:
                data = _read_bounded(archive, info, MAX_EXTRA_BYTES if info.filename in EXTRA_FILES
                                     else MAX_DOCUMENT_BYTES)
            except _DAMAGE as error:
                damaged[info.filename] = f"damaged in the zip ({error or type(error).__name__})"
                continue
            if info.filename in EXTRA_FILES:
                extras[info.filename] = data
            else:
                parent = Path(info.filename).parent.name or None
                entries.append(Entry(f"{path}:{info.filename}", Path(info.filename).stem, data, folder=parent))
        if damaged:
            report = tuple(Entry(f"{path}:{info.filename}", Path(info.filename).stem, None,
                                 damaged.get(info.filename, "not imported: other files of this zip are damaged"))
                           for info in wanted)
            raise BadBundle(f"{path}: {len(damaged)} of {len(wanted)} files are damaged; nothing of it was "
                            "imported", report)
        return entries, extras


#: What reading a damaged entry raises: a bad CRC, a truncated or corrupt stream, an unknown method.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


def _check_entry(path: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or ":" in name or "\x00" in name:
        raise BadBundle(f"{path}: entry {name!r} would be written outside the library")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise BadBundle(f"{path}: entry {name!r} is a symbolic link")
    if info.is_dir():
        return
    if name in EXTRA_FILES:
        if info.file_size > MAX_EXTRA_BYTES:
            raise BadBundle(f"{path}: entry {name!r} is larger than {MAX_EXTRA_BYTES // 2**20} MB")
        return
    if not name.endswith(".md"):
        raise BadBundle(f"{path}: entry {name!r} is not a Markdown (.md) file")
    if info.file_size > MAX_DOCUMENT_BYTES:
        raise BadBundle(f"{path}: entry {name!r} is larger than {MAX_DOCUMENT_BYTES // 1024} KB")


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The entry's bytes, counting while streaming: the declared size may lie."""
    chunks, total = [], 0
    with archive.open(info) as handle:
        while chunk := handle.read(64 * 1024):
            total += len(chunk)
            if total > limit:
                raise BadBundle(f"entry {info.filename!r} unpacks to more than its declared size")
            chunks.append(chunk)
    if total != info.file_size:
        raise BadBundle(f"entry {info.filename!r} holds {total} bytes, not the {info.file_size} its header says")
    return b"".join(chunks)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip holding ``files`` (name → bytes), with fixed timestamps so equal files give equal zips."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
