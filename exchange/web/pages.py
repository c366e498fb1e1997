"""The reading pages: home, search and browse, cities and practices."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from exchange import comparison
from exchange import diffs
from exchange import policy
from exchange import practice_pdf
from exchange import related as related_practices
from exchange.harvesting import harvests
from exchange.library import cities
from exchange.library import publishing
from exchange.library import reading
from exchange.search import discovery
from exchange.search.backend import FACETS
from exchange.search.backend import SearchRequest
from exchange.search.backend import SearchResults
from exchange.web import i18n
from exchange.web import page_cache
from exchange.web import presentation
from exchange.web import search_log
from exchange.web import search_params
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("pages", __name__)

#: the values of each filter the search page shows, the most frequent first (all of them: ``filter_values``)
FILTER_VALUES_SHOWN = 8


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers and crawlers that ask for the classic icon get the site's (every page links it too)."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/")
def home() -> ResponseReturnValue:
    # the newest practices and those revised last: a revised practice comes back to the front page
    recent = SearchRequest(sort="updated", per_page=8)
    return page_cache.page(lambda: render_template("home.html", results=_find(recent),
                                                   cities=cities.all_cities(library.instance)))


@bp.get("/practices")
def browse() -> ResponseReturnValue:
    search = search_params.from_args(request.args, strict=False, per_page=current_app.config["PER_PAGE"],
                                     reads=search_params.reader_languages(i18n.language(), request.accept_languages))
    comparing = comparison.choosing(request.args.getlist("compare"))
    return search_log.count_page(page_cache.page(lambda: _search_page(search, comparing)), search)


def _search_page(search: SearchRequest, comparing: tuple[str, ...]) -> str:
    """The search page for ``search``; when its filters left nothing, how many the query finds without them."""
    results = _found(search)
    feed, feed_arguments = search_params.feed(search)
    without_filters = None
    if not results.total and search.facet_filters():
        without_filters = _find(dataclasses.replace(search, filters={}, page=1)).total
    return render_template(
        "search.html", results=results, search=search, removals=search_params.removals(request.args, search),
        facets_shown=FILTER_VALUES_SHOWN,
        comparing=comparison.picked(library.instance, comparing, viewer(), i18n.language()),
        click_ref=search_log.ref(search), feed_url=url_for(feed, **feed_arguments), without_filters=without_filters,
        save_name=search_params.describe(search, presentation.Labels(i18n.language()).filter_value)
        or _("All practices"))


@bp.get("/practices/filter/<facet>")
def filter_values(facet: str) -> ResponseReturnValue:
    """Every value of one filter for a search, by name, with its count: the search page shows only the
    ``FILTER_VALUES_SHOWN`` most frequent (a network of a hundred cities would otherwise list them all on
    every page, and a phone reader scroll past them all)."""
    if facet not in FACETS:
        abort(404)
    search = search_params.from_args(request.args, strict=False, per_page=1,
                                     reads=search_params.reader_languages(i18n.language(), request.accept_languages))
    name = presentation.Labels(i18n.language()).filter_value
    arguments: dict[str, Any] = request.args.to_dict(flat=False)  # url_for repeats a list's values

    def render() -> str:
        counts = _find(search).facets.get(facet, {})
        chosen = search.filters.get(facet, [])
        values = sorted(dict.fromkeys([*chosen, *counts]), key=lambda key: name(facet, key).casefold(),
                        reverse=facet == "year")  # by name; years newest first
        return render_template("filter_values.html", facet=facet, search=search, values=values, counts=counts,
                               chosen=chosen, back=url_for("pages.browse", **arguments))
    return page_cache.page(render)


@bp.get("/search")
def search_alias() -> ResponseReturnValue:
    arguments: dict[str, Any] = request.args.to_dict(flat=False)  # url_for repeats a list's values
    return redirect(url_for("pages.browse", **arguments), code=301)


@bp.get("/cities/<slug>")
def city(slug: str) -> ResponseReturnValue:
    found = cities.get(library.instance, slug)
    search = search_params.from_args(request.args, strict=False, per_page=50)
    search.filters["city"] = [slug]
    search.sort = "newest" if not search.q else search.sort
    return page_cache.page(lambda: render_template("city.html", city=found, results=_find(search)))


def _found(search: SearchRequest) -> SearchResults:
    """What the viewer may find, noted for the content-gap report."""
    results = _find(search)
    search_log.found(results.total)
    return results


def _find(search: SearchRequest) -> SearchResults:
    """What the viewer may find; a page showing degraded results is not stored."""
    results = discovery.find(library.instance, search, viewer())
    if results.degraded:
        page_cache.not_to_keep()
    return results


@bp.get("/practices/<city>/<slug>")
def practice(city: str, slug: str) -> ResponseReturnValue:
    if "ref" in request.args:  # opened from a search's results: counted, then the page's own address
        return search_log.opened(request.args["ref"])
    return _practice_page(f"{city}/{slug}", None)


@bp.get("/practices/<city>/<slug>/versions/<int:version>")
def practice_version(city: str, slug: str, version: int) -> ResponseReturnValue:
    if not 0 < version < 1_000_000_000:
        abort(404)
    return _practice_page(f"{city}/{slug}", version)


@bp.get("/practices/<city>/<slug>.pdf")
def practice_pdf_file(city: str, slug: str) -> ResponseReturnValue:
    return _pdf(f"{city}/{slug}", None)


@bp.get("/practices/<city>/<slug>/versions/<int:version>.pdf")
def practice_version_pdf(city: str, slug: str, version: int) -> ResponseReturnValue:
    if not 0 < version < 1_000_000_000:
        abort(404)
    return _pdf(f"{city}/{slug}", version)


def _pdf(practice_id: str, version: int | None) -> ResponseReturnValue:
    """Save as PDF: the practice (at ``version``) printed with the interface's words, as a download."""
    printed = practice_pdf.practice_pdf(library.instance, viewer(), practice_id, version, i18n.language())
    # The file's name is a digest of everything printed into it: an ETag that changes when it does.
    response = send_file(io.BytesIO(printed.data), mimetype="application/pdf", max_age=0, etag=printed.path.stem)
    response.headers["Content-Disposition"] = printed.disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True  # a partners-only version must not be kept by a shared cache
    response.vary.update(("Cookie", "Accept-Language"))  # the interface language decides the words printed
    return response


@bp.get("/practices/<city>/<slug>/compare")
def compare(city: str, slug: str) -> ResponseReturnValue:
    old, new = request.args.get("from", ""), request.args.get("to", "")
    if not (old.isascii() and old.isdigit() and new.isascii() and new.isdigit()):
        abort(404)
    comparison = diffs.compare(library.instance, f"{city}/{slug}", viewer(), int(old), int(new))
    return render_template("compare.html", comparison=comparison, city=city, slug=slug, old=int(old), new=int(new))


@bp.get("/practices/<city>/<slug>/versions/<int:version>/restore")
def restore_confirm(city: str, slug: str, version: int) -> ResponseReturnValue:
    """Ask before restoring: what publishing ``version`` again would change in the current text."""
    if not policy.may_review(viewer()):
        abort(403)
    view = reading.get(library.instance, f"{city}/{slug}", viewer(), version)  # 404 when unknown
    if view.is_current:
        return redirect(url_for("pages.practice", city=city, slug=slug))
    comparison = diffs.compare(library.instance, f"{city}/{slug}", viewer(), view.record.version, version)
    return render_template("restore.html", view=view, comparison=comparison, city=city, slug=slug, version=version)


@bp.post("/practices/<city>/<slug>/versions/<int:version>/restore")
def restore(city: str, slug: str, version: int) -> ResponseReturnValue:
    if not policy.may_review(viewer()):
        abort(403)
    reading.get(library.instance, f"{city}/{slug}", viewer(), version)  # 404 when unknown
    if request.form.get("confirm") != "yes":  # only the confirmation page restores
        return redirect(url_for("pages.restore_confirm", city=city, slug=slug, version=version))
    outcome = publishing.restore(library.instance, viewer(), f"{city}/{slug}", version)
    flash(_("Version %(version)s was published again as version %(new)s.", version=version, new=outcome.version))
    return redirect(url_for("pages.practice", city=city, slug=slug))


def _practice_page(practice_id: str, version: int | None) -> ResponseReturnValue:
    return page_cache.page(lambda: _render_practice(practice_id, version), practice_id)


def _render_practice(practice_id: str, version: int | None) -> str:
    view = reading.get(library.instance, practice_id, viewer(), version)
    return render_template("practice.html", view=view, practice=view.practice,
                           city=cities.get(library.instance, view.practice.city),
                           related=related_practices.related(library.instance, practice_id, view.version, viewer()),
                           may_edit=policy.may_contribute(viewer(), view.practice.city),
                           may_restore=policy.may_review(viewer()), may_administer=policy.may_administer(viewer()),
                           may_translate=policy.may_translate(viewer()),
                           provenance=harvests.provenance(library.instance, practice_id))
