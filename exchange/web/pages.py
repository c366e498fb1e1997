"""The reading pages: home, browse, cities and practices."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import render_template
from flask import request

from exchange import catalogue
from exchange import cities
from exchange import library as practices
from exchange import rendering
from exchange.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("pages", __name__)


def _filters() -> dict[str, list[str]]:
    return {facet: [v for v in request.args.getlist(facet) if v][:20] for facet in catalogue.FACETS}


def _page() -> int:
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    session = library.session
    records = catalogue.visible(session, viewer())
    return render_template("home.html", recent=records[:8], total=len(records),
                           counts=catalogue.counts(session, viewer()),
                           cities=cities.all_cities(session))


@bp.get("/practices")
def browse():  # type: ignore[no-untyped-def]
    filters = _filters()
    listing = catalogue.browse(library.session, viewer(), filters, _page(), current_app.config["PER_PAGE"])
    return render_template("browse.html", listing=listing, filters=filters)


@bp.get("/cities/<slug>")
def city(slug: str):  # type: ignore[no-untyped-def]
    found = cities.get(library.session, slug)
    listing = catalogue.browse(library.session, viewer(), {"city": [slug]}, _page(), 100)
    return render_template("city.html", city=found, listing=listing)


@bp.get("/practices/<city>/<slug>")
def practice(city: str, slug: str):  # type: ignore[no-untyped-def]
    return _practice_page(f"{city}/{slug}", None)


@bp.get("/practices/<city>/<slug>/versions/<int:version>")
def practice_version(city: str, slug: str, version: int):  # type: ignore[no-untyped-def]
    if not 0 < version < 1_000_000_000:
        abort(404)
    return _practice_page(f"{city}/{slug}", version)


def _practice_page(practice_id: str, version: int | None):  # type: ignore[no-untyped-def]
    view = practices.get(library.instance, library.session, practice_id, viewer(), version)
    rendered = rendering.render(view.practice.body)
    return render_template("practice.html", view=view, practice=view.practice, rendered=rendered,
                           city=cities.get(library.session, view.practice.city))
