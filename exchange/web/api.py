"""The JSON API (version 1) that partner scripts depend on; see DESIGN.md."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from exchange.library import reading
from exchange.search import discovery
from exchange.search.backend import FACETS
from exchange.web import search_log
from exchange.web import search_params
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search() -> ResponseReturnValue:
    try:
        wanted = search_params.from_args(request.args, strict=True)
    except search_params.BadSearch as error:
        return jsonify(error=str(error)), 400
    results = discovery.find(library.instance, wanted, viewer())
    return search_log.count_api(jsonify({
        "query": results.query, "corrected": results.corrected,
        "total": results.total, "page": results.page, "per_page": results.per_page,
        "results": [{
            "id": hit.id, **{k: hit.card[k] for k in ("title", "summary", "city", "country", "language", "kind",
                                                      "hazards", "phases", "published")},
            "url": _url(hit.id), "snippet": str(hit.snippet), "score": hit.score,
            "translations": [{**translation._asdict(), "url": _url(translation.id)}
                             for translation in hit.translations],
        } for hit in results.hits],
        "facets": {name: results.facets.get(name, {}) for name in FACETS},
        "suggestion": results.suggestion,
        "notices": results.notices,
    }), wanted, results.total)


def _url(practice_id: str) -> str:
    city, _, slug = practice_id.partition("/")
    return url_for("pages.practice", city=city, slug=slug, _external=True)


@bp.get("/practices/<city>/<slug>")
def practice(city: str, slug: str) -> ResponseReturnValue:
    view = reading.get(library.instance, f"{city}/{slug}", viewer())
    document = view.practice
    return jsonify({
        "id": document.id,
        **document.json_meta(),
        "markdown": document.body,
        "html": str(view.rendered.html),
        "version": view.version,
        "translations": [{"id": r.id, "language": r.language, "title": r.title, "url": _url(r.id)}
                         for r in ([view.original] if view.original else []) + list(view.translations)],
        "url": _url(document.id),
    })
