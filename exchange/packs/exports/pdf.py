"""The printed pack: WeasyPrint with a URL fetcher that reaches nothing but the app's own files.

Practices come from other organisations, so the fetcher refuses the network, the disk and every
scheme except ``data:`` images and the files of ``exchange/static`` (threats X-12, R-7): a practice that
points at ``file:///etc/passwd`` or an internal address gets no fetch and no attachment.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import subprocess
import sys
import threading
from pathlib import Path

from weasyprint import CSS
from weasyprint import HTML
from weasyprint import URLFetcher
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid
from exchange.library.bounded_rendering import RenderersBusy
from exchange.packs.exports.course import Course
from exchange.packs.exports.course import PackTooLarge
from exchange.packs.exports.course import Progress
from exchange.packs.exports.course import no_progress
from exchange.packs.exports.course import page

STATIC = (Path(__file__).resolve().parents[2] / "static").resolve()
MAX_PAGES = 1_500
#: One practice printed while a reader waits (:func:`write_bounded`): the wall clock and address space of
#: the process that lays it out, and how many such processes run at once in a web process. A practice's
#: 512 KB of table could otherwise hold a web process for minutes and take gigabytes (threats R-7).
PRINT_SECONDS = float(os.environ.get("EXCHANGE_PRINT_SECONDS", "30"))
PRINT_MEMORY_BYTES = int(os.environ.get("EXCHANGE_PRINT_MEMORY_MB", "768")) * 2**20
MAX_PRINTING = 2
_printing = threading.BoundedSemaphore(MAX_PRINTING)
_ROOT = str(Path(__file__).resolve().parents[3])  # the folder that holds the exchange package
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from exchange.packs.exports.pdf import print_one; "
         "sys.exit(print_one())")
_HREF = re.compile(r'\shref="([^"]*)"')

log = logging.getLogger(__name__)


class AppAssetsOnly(URLFetcher):
    """Fetches ``data:`` URLs and the app's own static files; refuses everything else."""

    def __init__(self, base_url: str) -> None:
        super().__init__(timeout=5, allowed_protocols={"data"})
        self.prefixes = (f"{base_url.rstrip('/')}/static/", STATIC.as_uri() + "/")
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        for prefix in self.prefixes:
            if url.startswith(prefix):
                path = (STATIC / url[len(prefix):].split("?")[0]).resolve()
                if path.is_relative_to(STATIC) and path.is_file():
                    return URLFetcherResponse(url, path.read_bytes())
        self.refused.append(url)
        raise ValueError(f"refused: {url[:200]} (exports fetch nothing from the network or the disk)")


def print_links(html: str, base_url: str) -> str:
    """Links in the PDF are only http(s) or in-document: site paths made absolute, anything else unlinked."""
    def link(match: re.Match[str]) -> str:
        href = match.group(1)
        if href.startswith(("http://", "https://", "#")):
            return match.group(0)
        if href.startswith("/") and not href.startswith("//"):
            return f' href="{base_url.rstrip("/")}{href}"'
        return ""
    return _HREF.sub(link, html)


class TooLargeToPrint(Invalid):
    """A practice could not be printed within the time, memory or pages one print may use."""

    def __init__(self) -> None:
        super().__init__(Message(N_("This practice is too large to save as a PDF here. Use Print instead, and "
                                    "choose to save as PDF in your browser's print dialog.")))


def write(course: Course, progress: Progress = no_progress, template: str = "pack_print.html",
          stylesheets: tuple[str, ...] = ("pack_print.css",)) -> bytes:
    """The pack as a PDF (laid out by ``template`` with ``stylesheets`` of exchange/static, in order);
    PackTooLarge over the page cap. Runs in this process: an export worker, which limits itself."""
    progress(0.35, "laying out the pages")
    document, fetcher = _layout(print_links(page(template, course), course.base_url), course.base_url, stylesheets)
    if len(document.pages) > MAX_PAGES:
        raise PackTooLarge(f"This pack would print as {len(document.pages)} pages; a PDF holds at most {MAX_PAGES}. "
                           "Duplicate the pack and split it into smaller ones.")
    progress(0.85, f"writing the PDF ({len(document.pages)} pages)")
    if fetcher.refused:
        log.info("pack %s: refused %d URL(s) while printing", course.pack.id, len(fetcher.refused))
    # Tagged PDF: headings, lists and tables keep their structure for screen readers and reflow.
    pdf: bytes = document.write_pdf(pdf_tags=True)
    return pdf


def write_bounded(course: Course, template: str, stylesheets: tuple[str, ...],
                  seconds: float | None = None, memory_bytes: int | None = None) -> bytes:
    """The course as a PDF, laid out in a process of its own within ``seconds`` and ``memory_bytes``
    (default PRINT_SECONDS, PRINT_MEMORY_BYTES), for a print someone waits for in a web request.

    TooLargeToPrint past a limit (or MAX_PAGES); RenderersBusy when MAX_PRINTING prints of this process
    have been running for as long as one may take.
    """
    seconds = PRINT_SECONDS if seconds is None else seconds
    request = json.dumps({"html": print_links(page(template, course), course.base_url), "base_url": course.base_url,
                          "stylesheets": list(stylesheets), "memory": memory_bytes or PRINT_MEMORY_BYTES})
    if not _printing.acquire(timeout=seconds):
        raise RenderersBusy()
    try:
        # A fresh interpreter (never a fork of a threaded web process), with no environment but where
        # fontconfig keeps its cache, killed when its time is up.
        environment = {key: os.environ[key] for key in ("HOME", "XDG_CACHE_HOME", "LANG") if key in os.environ}
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-I", "-X", "utf8", "-c", _BOOT, _ROOT], input=request.encode("utf-8"),
            capture_output=True, timeout=seconds, env=environment, cwd="/", start_new_session=True)
    except subprocess.TimeoutExpired:
        log.warning("printing %r took longer than %s s: stopped", course.pack.title, seconds)
        raise TooLargeToPrint() from None
    finally:
        _printing.release()
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF-"):
        log.warning("printing %r stopped with status %s: %s", course.pack.title, done.returncode,
                    done.stderr.decode("utf-8", "replace")[-500:])
        raise TooLargeToPrint()
    return done.stdout


def print_one() -> int:
    """A print process's work: the request of :func:`write_bounded` on stdin, the PDF on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    # The code and the fonts are loaded before the cap, so that the cap meets the layout (load_fonts).
    load_fonts()
    resource.setrlimit(resource.RLIMIT_AS, (request["memory"], request["memory"]))
    try:
        document, _fetcher = _layout(request["html"], request["base_url"], tuple(request["stylesheets"]))
        if len(document.pages) > MAX_PAGES:
            return 4
        sys.stdout.buffer.write(document.write_pdf(pdf_tags=True))
    except MemoryError:
        return 3
    return 0


#: the fonts a capped process loaded before its cap (load_fonts), for every layout it makes after
_loaded: list[FontConfiguration] = []


def load_fonts() -> None:
    """Load the fonts now, before a process caps its memory: fontconfig loading them under the cap fails
    to map its caches, scans the font folders for nothing and writes that as the whole machine's cache."""
    _loaded[:] = [FontConfiguration()]


def _layout(html: str, base_url: str, stylesheets: tuple[str, ...]) -> tuple[Document, AppAssetsOnly]:
    fetcher = AppAssetsOnly(base_url)
    fonts = _loaded[0] if _loaded else FontConfiguration()
    document = HTML(string=html, base_url=base_url.rstrip("/") + "/", url_fetcher=fetcher).render(
        stylesheets=[CSS(filename=str(STATIC / name), url_fetcher=fetcher, font_config=fonts) for name in stylesheets],
        font_config=fonts)
    return document, fetcher
