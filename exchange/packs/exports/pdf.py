"""The printed pack: WeasyPrint with a URL fetcher that reaches nothing but the app's own files.

Practices come from other organisations, so the fetcher refuses the network, the disk and every
scheme except ``data:`` images and the files of ``exchange/static`` (threats X-12, R-7): a practice that
points at ``file:///etc/passwd`` or an internal address gets no fetch and no attachment.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from weasyprint import CSS
from weasyprint import HTML
from weasyprint import URLFetcher
from weasyprint.urls import URLFetcherResponse

from exchange.packs.exports.course import Course
from exchange.packs.exports.course import PackTooLarge
from exchange.packs.exports.course import Progress
from exchange.packs.exports.course import no_progress
from exchange.packs.exports.course import page

STATIC = (Path(__file__).resolve().parents[2] / "static").resolve()
MAX_PAGES = 1_500
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


def write(course: Course, progress: Progress = no_progress, template: str = "pack_print.html",
          stylesheets: tuple[str, ...] = ("pack_print.css",)) -> bytes:
    """The pack as a PDF (laid out by ``template`` with ``stylesheets`` of exchange/static, in order);
    PackTooLarge over the page cap."""
    html = page(template, course)
    fetcher = AppAssetsOnly(course.base_url)
    progress(0.35, "laying out the pages")
    document = HTML(string=print_links(html, course.base_url), base_url=course.base_url + "/",
                    url_fetcher=fetcher).render(
        stylesheets=[CSS(filename=str(STATIC / name), url_fetcher=fetcher) for name in stylesheets])
    if len(document.pages) > MAX_PAGES:
        raise PackTooLarge(f"This pack would print as {len(document.pages)} pages; a PDF holds at most {MAX_PAGES}. "
                           "Duplicate the pack and split it into smaller ones.")
    progress(0.85, f"writing the PDF ({len(document.pages)} pages)")
    if fetcher.refused:
        log.info("pack %s: refused %d URL(s) while printing", course.pack.id, len(fetcher.refused))
    # Tagged PDF: headings, lists and tables keep their structure for screen readers and reflow.
    pdf: bytes = document.write_pdf(pdf_tags=True)
    return pdf
