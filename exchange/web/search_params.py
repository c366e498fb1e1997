"""Reading a search from request arguments, the same way for pages and the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import LanguageAccept
from werkzeug.datastructures import MultiDict

from exchange.errors import Invalid
from exchange.library import vocabularies
from exchange.search.backend import FACETS
from exchange.search.backend import MAX_PER_PAGE
from exchange.search.backend import SORTS
from exchange.search.backend import SearchRequest
from exchange.search.query import MAX_QUERY_CHARS

MAX_PAGE = 1000
MAX_VALUES = 20
_VOCABULARY = {"hazard": "hazard", "kind": "kind", "phase": "phase"}


class BadSearch(Invalid):
    """A search parameter is not acceptable; the message names it and what is allowed."""


def from_args(args: MultiDict, strict: bool, per_page: int = 20, reads: tuple[str, ...] = ()) -> SearchRequest:
    """The search in ``args``; ``strict`` (the API) refuses bad values, pages fall back to defaults.
    ``reads``: the reader's languages (``reader_languages``)."""
    q = args.get("q", "")
    if strict and len(q) > MAX_QUERY_CHARS:
        raise BadSearch(f"q is {len(q)} characters; at most {MAX_QUERY_CHARS} are allowed")
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        if strict:
            raise BadSearch(f"sort must be one of {', '.join(SORTS)}")
        sort = "relevance"
    page = _number(args, "page", 1, 1, MAX_PAGE, strict)
    size = _number(args, "per_page", per_page, 1, MAX_PER_PAGE, strict)
    filters = {}
    for name in FACETS:
        values = [v for v in args.getlist(name) if v][:MAX_VALUES]
        if strict and name in _VOCABULARY:
            vocabulary = vocabularies.get(_VOCABULARY[name])
            unknown = [v for v in values if v not in vocabulary]
            if unknown:
                raise BadSearch(f"{name} {unknown[0]!r} is unknown; allowed: {', '.join(vocabulary.keys())}")
        if strict and name == "year" and not all(v.isascii() and v.isdigit() and len(v) == 4 for v in values):
            raise BadSearch("year must be a year of four digits, such as 2024")
        filters[name] = values
    return SearchRequest(q=q, filters=filters, sort=sort, page=page, per_page=size, reads=reads)


def arguments(search: SearchRequest) -> dict[str, Any]:
    """The address arguments of ``search``'s query and filters (not its page or sort): what its feed and its
    page are linked with."""
    found: dict[str, Any] = {"q": search.q} if search.q else {}
    found.update({name: list(values) for name, values in search.filters.items() if values})
    return found


#: the filters that have a feed of their own (``/feeds/<facet>/<value>.atom``)
OWN_FEEDS = ("city", "hazard", "kind")


def feed(search: SearchRequest) -> tuple[str, dict[str, Any]]:
    """The feed endpoint and its arguments for ``search``: a city's, hazard's or kind's own feed when that is
    the whole search (one value, no words, nothing else), else the search's feed."""
    wanted = {name: values for name, values in search.filters.items() if values}
    if not search.q.strip() and len(wanted) == 1:
        [(name, values)] = wanted.items()
        known = name not in _VOCABULARY or values[0] in vocabularies.get(_VOCABULARY[name])
        if name in OWN_FEEDS and len(values) == 1 and known:
            return f"feeds.{name}", {"slug": values[0]}
    return "feeds.search", arguments(search)


def describe(search: SearchRequest, label: Callable[[str, str], str]) -> str:
    """A name for ``search``: its words, then each filter's value as ``label(facet, value)`` names it."""
    parts = [search.q.strip()] if search.q.strip() else []
    parts += [label(name, value) for name, values in search.filters.items() for value in values]
    return " · ".join(parts)[:200]


def removals(args: MultiDict, search: SearchRequest) -> list[tuple[str, str, dict[str, list[str]]]]:
    """Each active filter of ``search`` as (facet, value, the arguments of the same search without it), on
    its first page: what a removable chip links to."""
    found = []
    for name, values in search.filters.items():
        for value in values:
            rest = {key: [v for v in args.getlist(key) if not (key == name and v == value)]
                    for key in args if key != "page"}
            found.append((name, value, {key: kept for key, kept in rest.items() if kept}))
    return found


def reader_languages(interface: str, accept_languages: LanguageAccept) -> tuple[str, ...]:
    """The library's languages a reader reads: the interface's language, then their browser's
    Accept-Language, most preferred first, then English, which partner agencies share (so a Japanese
    original shows in its English version to an Indonesian reader when it has one)."""
    found = [interface] + [code.split("-")[0].lower() for code, _quality in accept_languages]
    return tuple(dict.fromkeys(code for code in [*found, "en"] if code in vocabularies.languages()))


def _number(args: MultiDict, name: str, default: int, low: int, high: int, strict: bool) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if raw.isascii() and raw.isdigit() and low <= int(raw) <= high:
        return int(raw)
    if strict:
        raise BadSearch(f"{name} must be a whole number from {low} to {high}")
    return default
