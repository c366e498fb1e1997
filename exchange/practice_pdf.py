"""Save as PDF: one practice as its reader may read it, printed once per version and language, then kept.

The PDF is a course pack of one practice (:func:`exchange.packs.exports.course.one_practice`) printed by
the packs' PDF module, so it fetches nothing but the app's own files (threats X-12) and prints
checklists, Japanese text and links as a pack does. Permission is decided by :func:`reading.get`, as
for the practice's page: unknown and not-for-you are the same :class:`PracticeNotFound`.

Printing takes seconds of CPU, and the printed file of a version depends only on that version and the
words around it (its language, the layout, the city's name): once anyone who may read the version has
it printed, everyone who may read it gets the same file. So it is kept in ``<instance>/cache/practice-pdf/``
(derived, like the index: deleting the folder only costs printing again), written durably beside and
renamed, and printed by one request at a time per file, so that a room of readers asking at once waits
for one print instead of starting one each. The print itself runs in a process of its own with a time
and memory limit (:func:`pdf.write_bounded`): a practice of 512 KB of table cannot hold a web process.
A change of layout, words, rendering or address makes a new file name, never a stale file.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from exchange import policy
from exchange.catalogs import DIRECTORY as CATALOGS
from exchange.library import cities
from exchange.library import reading
from exchange.library import rendering
from exchange.library import vocabularies
from exchange.library.storage import write_durably
from exchange.packs.exports import attachment
from exchange.packs.exports import course as course_module

if TYPE_CHECKING:
    from exchange.instance import Instance

log = logging.getLogger(__name__)

#: where printed practices are kept, under the instance folder
FOLDER = ("cache", "practice-pdf")
TEMPLATE = "practice_print.html"
STYLESHEETS = ("pack_print.css", "practice_print.css")
_STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class PracticePdf:
    """A practice's printed version, kept on disk, and how to offer it for download."""

    path: Path
    #: the file's bytes (a practice is size-capped: a few hundred KB printed)
    data: bytes
    practice_id: str
    version: int
    #: a ``Content-Disposition`` value that keeps the title in any language
    disposition: str
    #: whether this call printed it (False: a file printed earlier was given)
    printed: bool


def practice_pdf(instance: Instance, viewer: policy.Viewer | None, practice_id: str, version: int | None,
                 language: str) -> PracticePdf:
    """``practice_id`` at ``version`` (default: current) as a PDF with its labels in ``language``, if
    ``viewer`` may read that version (PracticeNotFound otherwise), printed now or kept from before."""
    if language not in vocabularies.UI_LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(vocabularies.UI_LANGUAGES)}")
    view = reading.get(instance, practice_id, viewer, version)
    city = cities.get(instance, view.practice.city)
    path = _path(instance, practice_id, view.version, language, city.display_name(language))
    printed = False
    if not path.is_file():
        with _one_at_a_time(path):
            if not path.is_file():  # printed by whoever held the lock before
                course = course_module.one_practice(view.practice, view.version, view.rendered, language,
                                                    instance.base_url, [city])
                from exchange.packs.exports import pdf  # WeasyPrint takes a second to import: only when printing

                write_durably(path, pdf.write_bounded(course, TEMPLATE, STYLESHEETS))
                printed = True
                log.info("printed %s v%s in %s (%d bytes)", practice_id, view.version, language, path.stat().st_size)
    disposition = attachment(view.practice.title, f"-v{view.version}", "pdf",
                             f"{practice_id.replace('/', '-')}-v{view.version}.pdf", practice_id.split("/")[-1])
    return PracticePdf(path=path, data=path.read_bytes(), practice_id=practice_id, version=view.version,
                       disposition=disposition, printed=printed)


def folder(instance: Instance) -> Path:
    return instance.path.joinpath(*FOLDER)


def _path(instance: Instance, practice_id: str, version: int, language: str, city_name: str) -> Path:
    """The kept file of this version in this language, named by everything that goes into printing it."""
    key = "\n".join([practice_id, str(version), language, city_name, instance.base_url, rendering.RENDERER,
                     _layout(language)])
    return folder(instance) / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}.pdf"


@functools.cache
def _layout(language: str) -> str:
    """A digest of the template, stylesheets and catalog that shape a printed practice in ``language``."""
    files = [course_module.TEMPLATES / TEMPLATE, course_module.TEMPLATES / "_pack.html",
             *(_STATIC / name for name in STYLESHEETS), CATALOGS / language / "LC_MESSAGES" / "messages.mo"]
    digest = hashlib.sha256()
    for file in files:
        with contextlib.suppress(FileNotFoundError):  # English has no catalog of its own
            digest.update(file.read_bytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _one_at_a_time(path: Path) -> Iterator[None]:
    """Hold the lock of ``path`` (across the instance's processes) while it is printed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
