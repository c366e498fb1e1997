"""The JSON API (version 1) that partner scripts depend on; see DESIGN.md and ``/api/v1/openapi.json``.

Anonymous callers read what the public reads. A call with ``Authorization: Bearer <token>`` (a personal
API token, ``accounts/tokens.py``) acts as the token's person, within its scopes: ``read`` for every GET,
``submit`` for POST. A token that does not work is a 401 and nothing is done; a missing scope a 403.
Every call with a token is audited by the token's id. Calls are limited per minute, per token and per
address without one, counted in the database so that every process of the instance shares one count
(``accounts/api_calls.py``); every counted answer says where the caller stands (X-RateLimit-Limit,
-Remaining, -Used, -Reset, as GitHub's API does), and past the limit the answer is 429 with Retry-After and
a message saying how calls are counted and where the limits are set. Writes need a token, so the API is
exempt from CSRF: no browser sends a token on its own.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from typing import Any

from flask import Blueprint
from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response

from exchange import policy
from exchange.accounts import api_calls
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.errors import PracticeNotFound
from exchange.library import cities
from exchange.library import reading
from exchange.library import vocabularies
from exchange.library.practice import check_slug
from exchange.models import PracticeRecord
from exchange.review import submissions
from exchange.search import discovery
from exchange.search.backend import FACETS
from exchange.search.backend import SearchRequest
from exchange.web import api_document
from exchange.web import page_cache
from exchange.web import search_log
from exchange.web import search_params
from exchange.web.extensions import library
from exchange.web.viewer import current as viewer

bp = Blueprint("api", __name__, url_prefix="/api/v1")
#: GETs that need no scope: the description of the API itself
UNSCOPED = ("api.openapi",)


def _refuse(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(error=error)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers.update(headers or {})
    return response


@bp.before_request
def _caller() -> ResponseReturnValue | None:
    """Who calls (a token's person, or whoever the session says), within their scope and rate."""
    instance = library.instance
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return _refuse(401, "the Authorization header must be 'Bearer <token>'")
        try:
            use = tokens.authenticate(instance, secret.strip(), current_app.config["API_CALLS_PER_MINUTE"])
        except tokens.TokenRefused as refused:
            if refused.token_id is not None:
                tokens.record_call(instance, refused.token_id, request.method, request.path, 401)
            return _refuse(401, f"this token does not work: {refused.reason}")
        account = people.by_id(instance, use.user_id)
        if account is None:
            return _refuse(401, "this token does not work: account disabled")
        g.api_token, g.token_account, g.api_allowance = use, account, use.allowance
        scope = tokens.SUBMIT if request.method == "POST" else tokens.READ
        if request.endpoint not in UNSCOPED and scope not in use.scopes:
            return _refuse(403, f"this token lacks the {scope!r} scope")
        return _too_many(use.allowance, _TOKEN_LIMIT) if use.allowance.refused else None
    if request.method == "POST":
        return _refuse(401, "submitting needs a personal API token with the 'submit' scope "
                            "(Authorization: Bearer <token>)")
    g.api_allowance = allowance = api_calls.count_address(
        instance, request.remote_addr, current_app.config["API_ANONYMOUS_CALLS_PER_MINUTE"])
    return _too_many(allowance, _ADDRESS_LIMIT) if allowance.refused else None


#: a 429's message to a token's caller, and to a caller without one: how calls are counted, where limits are set
_TOKEN_LIMIT = (
    "more than {limit} calls a minute with this token; try again in {wait} s. Calls with a token are counted per "
    "token, by every server of this library together. The library's administrator sets the limit (setting "
    "API_CALLS_PER_MINUTE).")
_ADDRESS_LIMIT = (
    "more than {limit} calls a minute from this address; try again in {wait} s. Calls without a token are counted "
    "per address, however many people share it (an office, a classroom behind one router). Calls with a personal "
    "API token (Authorization: Bearer <token>; make one at {tokens_page}) are counted per token, {token_limit} a "
    "minute each. The library's administrator sets both limits (settings API_ANONYMOUS_CALLS_PER_MINUTE and "
    "API_CALLS_PER_MINUTE).")


def _too_many(allowance: api_calls.Allowance, message: str) -> Response:
    error = message.format(limit=allowance.limit, wait=allowance.wait, token_limit=current_app.config[
        "API_CALLS_PER_MINUTE"], tokens_page=url_for("auth.api_tokens", _external=True))
    return _refuse(429, error, {"Retry-After": str(allowance.wait)})


def _limit_headers(allowance: api_calls.Allowance) -> dict[str, str]:
    """Where the caller stands, as GitHub's API says it: the limit, what is left and used, when it resets."""
    return {"X-RateLimit-Limit": str(allowance.limit), "X-RateLimit-Remaining": str(allowance.remaining),
            "X-RateLimit-Used": str(allowance.used), "X-RateLimit-Reset": str(allowance.reset)}


@bp.after_request
def _audit(response: Response) -> Response:
    response.vary.add("Authorization")
    allowance = g.get("api_allowance")
    if allowance is not None:
        response.headers.update(_limit_headers(allowance))
    use = g.get("api_token")
    if use is not None:
        response.headers["Cache-Control"] = "private, no-store"  # what a token reads is its person's alone
        tokens.record_call(library.instance, use.token_id, request.method, request.path, response.status_code)
    return response


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(api_document.document(url_for("api.openapi", _external=True).removesuffix("/api/v1/openapi.json")))


@bp.get("/search")
def search() -> ResponseReturnValue:
    try:
        wanted = search_params.from_args(request.args, strict=True)
    except search_params.BadSearch as error:
        return jsonify(error=str(error)), 400
    return search_log.count_api(page_cache.page(lambda: _search_answer(wanted), mimetype="application/json"), wanted)


def _search_answer(wanted: SearchRequest) -> str:
    """The JSON of what the caller may find for ``wanted`` (the page cache keeps it for the public)."""
    results = discovery.find(library.instance, wanted, viewer())
    search_log.found(results.total)
    if results.degraded:
        page_cache.not_to_keep()
    return current_app.json.dumps({
        "query": results.query, "corrected": results.corrected,
        "total": results.total, "page": results.page, "per_page": results.per_page,
        "results": [{
            "id": hit.id, **{k: hit.card[k] for k in ("title", "summary", "city", "country", "language", "kind",
                                                      "hazards", "phases", "published", "version")},
            "revised": _utc(hit.card["revised"]),
            "url": _url(hit.id), "snippet": str(hit.snippet), "score": hit.score,
            "translations": [{**translation._asdict(), "url": _url(translation.id)}
                             for translation in hit.translations],
        } for hit in results.hits],
        "facets": {name: results.facets.get(name, {}) for name in FACETS},
        "suggestion": results.suggestion,
        "notices": results.notices,
    }) + "\n"


def _utc(moment: str | None) -> str | None:
    """A card's moment (kept in UTC, without a zone, as the page's <time> is written) as every moment the API
    gives: to the second, saying it is UTC."""
    if not moment:
        return None
    value = datetime.datetime.fromisoformat(moment)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


def _url(practice_id: str) -> str:
    city, _, slug = practice_id.partition("/")
    return url_for("pages.practice", city=city, slug=slug, _external=True)


def _api_url(practice_id: str) -> str:
    city, _, slug = practice_id.partition("/")
    return url_for("api.practice", city=city, slug=slug, _external=True)


@bp.get("/practices")
def practices() -> ResponseReturnValue:
    try:
        wanted = search_params.from_args(request.args, strict=True)
        after = _cursor(request.args.get("cursor"))
    except search_params.BadSearch as error:
        return jsonify(error=str(error)), 400
    found = discovery.practice_page(library.instance, wanted, viewer(), after, wanted.per_page)
    cursor = _new_cursor(found.after) if found.after else None
    arguments: dict[str, Any] = {k: request.args.getlist(k) for k in request.args if k not in ("cursor", "page")}
    return jsonify({
        "practices": [_listed(record) for record in found.records],
        "per_page": wanted.per_page,
        "cursor": cursor,
        "next": url_for("api.practices", **arguments, cursor=cursor, _external=True) if cursor else None,
    })


def _listed(record: PracticeRecord) -> dict[str, Any]:
    meta = record.meta or {}
    return {"id": record.id, "title": record.title, "summary": record.summary, "city": record.city,
            "country": record.country, "language": record.language, "kind": record.kind,
            "hazards": list(record.hazards), "phases": list(record.phases),
            "published": record.published.isoformat(), "updated": _date(meta.get("updated")),
            "visibility": record.visibility, "version": record.version, "translation_of": record.translation_of,
            "url": _url(record.id), "api_url": _api_url(record.id)}


def _date(value: object) -> str | None:
    return str(value) if value else None


def _new_cursor(after: str) -> str:
    """An opaque cursor: where the next page starts."""
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def _cursor(raw: str | None) -> str | None:
    """The practice id a cursor this API gave out starts after; BadSearch naming the problem otherwise."""
    if raw is None or raw == "":
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        decoded = None
    after = decoded.get("after") if isinstance(decoded, dict) else None
    if not isinstance(after, str) or len(raw) > 400 or not all(
            part and not check_slug(part) for part in after.split("/", 1)) or "/" not in after:
        raise search_params.BadSearch("cursor is not one this API gave out: use the 'cursor' (or the 'next' "
                                      "link) of the page before, or leave it out for the first page")
    return after


@bp.get("/practices/<city>/<slug>")
def practice(city: str, slug: str) -> ResponseReturnValue:
    if check_slug(city) or check_slug(slug):
        raise PracticeNotFound(f"{city!r}/{slug!r}")  # not a practice's id: not worth a look in the database
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
        # Of a version the caller may not read, only that it exists and when (as the page's history shows it).
        "versions": [{
            "version": entry.version, "published_at": entry.published_at.isoformat(timespec="seconds") + "Z",
            "readable": text is not None,
            **({"credit": entry.credit, "note": entry.note, "metadata": text.json_meta(), "markdown": text.body}
               if text is not None else {}),
        } for entry, text in reading.versions_as_read(library.instance, view, viewer())],
    })


@bp.get("/cities")
def cities_list() -> ResponseReturnValue:
    return jsonify({"cities": [{
        "slug": city.slug, "country": city.country, "name": city.name,
        "names": {language: city.display_name(language) for language in vocabularies.UI_LANGUAGES},
        "url": url_for("pages.city", slug=city.slug, _external=True),
    } for city in cities.all_cities(library.instance)]})


@bp.get("/vocabularies")
def vocabularies_list() -> ResponseReturnValue:
    return jsonify(vocabularies.described())


@bp.post("/submissions")
def submit() -> ResponseReturnValue:
    if not policy.may_contribute_anywhere(viewer()):
        return jsonify(error="this token's account does not write for any city"), 403
    files = [(f.filename or "unnamed", f.read(submissions.MAX_UPLOAD_BYTES + 1))
             for f in request.files.getlist("files")[:submissions.MAX_UPLOAD_FILES]]
    if not files:
        return jsonify(error="files: attach one or more Markdown (.md) files or .zip bundles as multipart "
                             "form fields named 'files'"), 400
    report = submissions.upload_for_review(library.instance, viewer(), files)
    return jsonify({"files": [{
        "file": result.name,
        "status": "refused" if result.draft is None else result.draft.status,
        "practice": result.draft.practice_id if result.draft else None,
        "submission": result.draft.id if result.draft else None,
        "url": url_for("contribute.submission", submission_id=result.draft.id, _external=True)
        if result.draft else None,
        "problems": [str(problem) for problem in result.problems],
    } for result in report]})

