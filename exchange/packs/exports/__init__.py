"""Exporting a course pack: single-file HTML, PDF, EPUB and Markdown ZIP, in trainer or participant edition.

Every format starts from :func:`course.assemble`, which reads the pack as the exporting person may read
it at that moment (threats A-6) and refuses packs over the limits (R-7). The web app runs exports in
worker processes (:mod:`.jobs`); the command line runs them directly.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from exchange import policy
from exchange.packs.exports.course import EDITIONS
from exchange.packs.exports.course import Course
from exchange.packs.exports.course import PackTooLarge
from exchange.packs.exports.course import Progress
from exchange.packs.exports.course import assemble
from exchange.packs.exports.course import no_progress
from exchange.packs.exports.course import page
from exchange.packs.exports.words import words

if TYPE_CHECKING:
    from exchange.instance import Instance

#: The single-file HTML allows no scripts, no network and images only as data: URLs (threats X-12).
EXPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_CSS = Path(__file__).resolve().parents[2] / "static" / "pack.css"


@dataclass(frozen=True)
class Format:
    """One export format: how it is named, served and written."""

    key: str
    label: str
    extension: str
    mimetype: str


FORMATS = {f.key: f for f in (
    Format("pdf", "PDF", "pdf", "application/pdf"),
    Format("epub", "EPUB", "epub", "application/epub+zip"),
    Format("html", "HTML", "html", "text/html"),
    Format("zip", "Markdown ZIP", "zip", "application/zip"),
)}


def html(course: Course, progress: Progress = no_progress) -> bytes:
    """The pack as one HTML file that opens offline."""
    progress(0.5, "writing the page")
    document = page("pack_export.html", course, csp=EXPORT_CSP, css=_CSS.read_text("utf-8"))
    return document.encode("utf-8")


def export(instance: Instance, viewer: policy.Viewer, pack_id: int, format_key: str, edition: str, base_url: str,
           progress: Progress = no_progress, link_digest: str | None = None) -> bytes:
    """The pack in ``format_key`` as ``viewer`` (or the holder of a link) may read it now."""
    if format_key not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    progress(0.02, "reading the pack")
    course = assemble(instance, viewer, pack_id, edition, base_url, progress, link_digest)
    if format_key == "pdf":
        from exchange.packs.exports import pdf  # WeasyPrint takes a second to import: only when printing

        return pdf.write(course, progress)
    if format_key == "epub":
        from exchange.packs.exports import epub

        return epub.write(course, progress)
    if format_key == "zip":
        from exchange.packs.exports import markdown_zip

        return markdown_zip.write(course, progress)
    return html(course, progress)


def filename(title: str, pack_id: int, edition: str, format_key: str) -> str:
    """A download name such as ``pack-7-flood-workshop-trainer.pdf`` (ASCII, safe in a header)."""
    words_ = "".join(c if c.isascii() and c.isalnum() else "-" for c in title.lower()).strip("-")
    stem = "-".join(filter(None, [f"pack-{pack_id}", "-".join(filter(None, words_.split("-")))[:40], edition]))
    return f"{stem}.{FORMATS[format_key].extension}"


#: what a file name may not hold on some system: path separators, reserved characters, quotes
_UNSAFE_IN_NAMES = frozenset('/\\:*?"<>|')


def _name_character(character: str) -> str:
    kind = unicodedata.category(character)[0]
    if kind == "Z":  # any space or separator, including line and paragraph separators
        return " "
    return "-" if kind == "C" or character in _UNSAFE_IN_NAMES else character


def content_disposition(title: str, pack_id: int, edition: str, format_key: str, language: str = "en") -> str:
    """A ``Content-Disposition`` header value that downloads the export under its title, in any language
    (see :func:`attachment`), with the edition named in the pack's ``language``: ``避難所運営研修（講師用）.pdf``,
    ``Pelatihan banjir (Edisi pelatih).pdf``."""
    said = words(language)[edition]
    return attachment(title, f"（{said}）" if language == "ja" else f" ({said})", FORMATS[format_key].extension,
                      filename(title, pack_id, edition, format_key), f"pack-{pack_id}")


def attachment(title: str, tail: str, extension: str, fallback: str, untitled: str) -> str:
    """A ``Content-Disposition`` header value that downloads a file as ``<title><tail>.<extension>``.

    RFC 6266: ``filename`` is the ASCII name ``fallback`` for old clients, ``filename*`` (RFC 5987,
    UTF-8, percent-encoded) keeps the title as written. Control characters (a line break could start a
    header of its own), path and reserved characters become ``-``; a title of nothing else is ``untitled``.
    """
    kept = "".join(_name_character(c) for c in unicodedata.normalize("NFC", title))
    words_ = "-".join(filter(None, (part.strip(" .") for part in kept.split("-"))))
    words_ = " ".join(words_.split())[:80].strip(" .-") or untitled
    name = f"{words_}{tail}.{extension}"
    ascii_fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in fallback)
    return f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


__all__ = ["EDITIONS", "FORMATS", "PackTooLarge", "attachment", "content_disposition", "export", "filename", "html"]
