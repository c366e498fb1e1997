"""Counting searches and the results opened from them for the content-gap report (``insight/gaps.py``).

The count is written after the response has been sent (``call_on_close``), so a search never waits
for it or fails because of it. A public search page (or API answer) may come from the page cache
without being rendered again, in this worker or another: what it found is kept with the page
(``page_cache.note``) and counted each time it is served. A conditional request answered 304 is the
same browser showing the page again, and is not counted. A result link carries ``ref`` (the counted
query and its language); opening it counts a click and redirects to the practice's own address, so the
link stays a plain link and the address that is shared or bookmarked has no ``ref``.

A link from the content-gap report itself carries ``from=gaps``: an administrator reading the report
opens the search to see what it finds, which is neither counted nor gives its result links a ``ref``
(else reading the report would inflate it).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from exchange.insight import gaps
from exchange.library import vocabularies
from exchange.search.backend import SearchRequest
from exchange.web import i18n
from exchange.web import page_cache
from exchange.web.extensions import library

#: the argument (and its value) of a search address that is not counted: the content-gap report's links
NOT_COUNTED = ("from", "gaps")


def _counted() -> bool:
    return request.args.get(NOT_COUNTED[0]) != NOT_COUNTED[1]


def ref(search: SearchRequest) -> str | None:
    """The ``ref`` the result links of this search page carry (None when it is not counted)."""
    if search.page != 1 or not _counted():
        return None
    return gaps.click_ref(search.q, gaps.searcher_language(search.filters, i18n.language()))


def found(total: int) -> None:
    """Note what the search page being rendered found: kept with the page, for every time it is served."""
    page_cache.note(str(total))


def _found() -> int | None:
    noted = page_cache.noted()
    return int(noted) if noted and noted.isdigit() else None


def count_page(response: Response, search: SearchRequest) -> Response:
    """Count the search page ``response`` answers, once it is sent."""
    if response.status_code != 200 or search.page != 1 or not search.q.strip() or not _counted():
        return response
    total = _found()
    if total is not None:
        _count_after(response, search.q, gaps.searcher_language(search.filters, i18n.language()), total)
    return response


def count_api(response: Response, search: SearchRequest) -> Response:
    """Count the API search ``response`` answers, once it is sent (under its language filter, else the
    language the caller's Accept-Language prefers)."""
    total = _found()
    if response.status_code == 200 and search.page == 1 and search.q.strip() and total is not None:
        asked = request.accept_languages.best_match(vocabularies.UI_LANGUAGES) or "en"
        _count_after(response, search.q, gaps.searcher_language(search.filters, asked), total)
    return response


def _count_after(response: Response, query: str, language: str, total: int) -> None:
    instance = library.instance
    response.call_on_close(lambda: gaps.record_search(instance, query, language, total))


def opened(ref_value: str) -> BaseResponse:
    """Count a result opened from a search, then send the reader to the address without ``ref``."""
    arguments: dict[str, Any] = {key: values for key, values in request.args.lists() if key != "ref"}
    arguments.update(request.view_args or {})
    response = redirect(url_for(request.endpoint or "pages.home", **arguments), 303)
    instance = library.instance
    response.call_on_close(lambda: gaps.record_click(instance, ref_value[:300]))
    return response
