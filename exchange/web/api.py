"""The JSON API (version 1) that partner scripts depend on; see DESIGN.md."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import url_for

from exchange import library as practices
from exchange import rendering
from exchange.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/practices/<city>/<slug>")
def practice(city: str, slug: str):  # type: ignore[no-untyped-def]
    view = practices.get(library.instance, library.session, f"{city}/{slug}", viewer())
    document = view.practice
    return jsonify({
        "id": document.id,
        **document.json_meta(),
        "markdown": document.body,
        "html": str(rendering.render(document.body).html),
        "version": view.version,
        "translations": [{"id": r.id, "language": r.language, "title": r.title,
                          "url": url_for("pages.practice", city=r.city, slug=r.slug, _external=True)}
                         for r in ([view.original] if view.original else []) + list(view.translations)],
        "url": url_for("pages.practice", city=document.city, slug=document.slug, _external=True),
    })
