"""The OAI-PMH 2.0 endpoint, /oai (GET and POST): harvesters are anonymous and see public versions only."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import url_for

from exchange.oai import provider
from exchange.web.extensions import library

bp = Blueprint("oai", __name__)


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    pairs = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    return Response(provider.respond(library.instance, repository(), pairs), mimetype="text/xml")


def repository() -> provider.Repository:
    """This node as the provider describes it: addresses from EXCHANGE_BASE_URL, never the request's Host."""
    config = current_app.config
    base = str(config["EXCHANGE_BASE_URL"]).rstrip("/")
    identifier = config.get("OAI_REPOSITORY_ID") or urlsplit(base).hostname or "localhost"

    def practice_url(practice_id: str) -> str:
        city, _, slug = practice_id.partition("/")
        return base + url_for("pages.practice", city=city, slug=slug)

    return provider.Repository(
        base_url=base + url_for("oai.endpoint"), identifier=identifier,
        admin_email=config.get("OAI_ADMIN_EMAIL") or config.get("MAIL_FROM") or f"admin@{identifier}",
        secret=config["SECRET_KEY"], practice_url=practice_url,
        px_schema=base + url_for("static", filename="px_markdown.xsd"),
        name=str(config.get("OAI_REPOSITORY_NAME") or "Practice Exchange"),
        page_size=max(1, int(config.get("OAI_PAGE_SIZE") or provider.PAGE_SIZE)))
