"""The Atom feeds: the library's, each city's, hazard's and kind's, and any search's (public practices only)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale

from exchange import feeds
from exchange import policy
from exchange.alerts import saved as saved_searches
from exchange.web import i18n
from exchange.web import page_cache
from exchange.web import search_params
from exchange.web.extensions import library

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

#: what an Atom document is served as
ATOM = "application/atom+xml"
#: the namespace of what an entry says beyond Atom and Dublin Core (its version)
NAMESPACE = "tag:practice-exchange.org,2026:feeds"


@bp.app_template_filter("atom_time")
def atom_time(value: datetime.date | datetime.datetime) -> str:
    """A date or a moment (naive ones are UTC) as Atom writes it (RFC 3339, in UTC)."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, datetime.time())
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


@bp.get("/library.atom")
def whole() -> ResponseReturnValue:
    return _public(lambda language: feeds.library(library.instance, policy.ANONYMOUS, language=language),
                   "library", url_for("pages.browse", sort="newest", _external=True))


@bp.get("/city/<slug>.atom")
def city(slug: str) -> ResponseReturnValue:
    return _public(lambda language: feeds.library(library.instance, policy.ANONYMOUS, city=slug, language=language),
                   "city", url_for("pages.city", slug=slug, _external=True), slug)


@bp.get("/hazard/<slug>.atom")
def hazard(slug: str) -> ResponseReturnValue:
    return _public(lambda language: feeds.library(library.instance, policy.ANONYMOUS, hazard=slug, language=language),
                   "hazard", url_for("pages.browse", hazard=slug, sort="newest", _external=True), slug)


@bp.get("/kind/<slug>.atom")
def kind(slug: str) -> ResponseReturnValue:
    return _public(lambda language: feeds.library(library.instance, policy.ANONYMOUS, kind=slug, language=language),
                   "kind", url_for("pages.browse", kind=slug, sort="newest", _external=True), slug)


@bp.get("/search.atom")
def search() -> ResponseReturnValue:
    wanted = search_params.from_args(request.args, strict=False)
    arguments = search_params.arguments(wanted)
    return _public(lambda language: feeds.search(library.instance, policy.ANONYMOUS, wanted, language),
                   "search", url_for("pages.browse", **arguments, _external=True), wanted.q)


@bp.get("/saved/<token>.atom")
def saved(token: str) -> ResponseReturnValue:
    """A saved search's private feed: what its owner may read now (404 once the address or account is gone)."""
    found, person = saved_searches.by_feed_token(library.instance, token)
    language = getattr(person, "language", None) or i18n.language()
    with force_locale(language):
        body = atom(feeds.search(library.instance, person, found.request(), language), "saved",
                    url_for("pages.browse", **search_params.arguments(found.request()), _external=True), found.name,
                    language)
    response = Response(body, mimetype=ATOM)
    response.headers["Cache-Control"] = "private, no-cache"  # never kept by a shared cache: it is one person's
    response.add_etag()
    return response.make_conditional(request)


def _public(entries: Callable[[str], feeds.Feed], about: str, alternate: str, name: str = "") -> ResponseReturnValue:
    """The feed ``entries`` makes, as anyone may read it, from the page cache (ETag, Last-Modified, 304)."""
    return page_cache.page(lambda: atom(entries(i18n.language()), about, alternate, name), mimetype=ATOM)


def atom(feed: feeds.Feed, about: str, alternate: str, name: str = "", language: str | None = None) -> str:
    """The Atom document of ``feed``; ``about`` (library, city, hazard, kind, search, saved) and ``name`` title it."""
    return render_template("feed.xml", feed=feed, about=about, name=name, alternate=alternate,
                           self_url=request.url, language=language or i18n.language(), namespace=NAMESPACE,
                           now=datetime.datetime.now(datetime.UTC))
