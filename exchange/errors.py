"""Domain errors, and their one mapping to HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from exchange.library import bounded_rendering

log = logging.getLogger(__name__)


class PracticeNotFound(LookupError):
    """No such practice, or one the viewer may not see (the two look the same outside)."""


class CityNotFound(LookupError):
    """No such partner city."""


class InvalidCity(ValueError):
    """A city cannot be added as given; the message says why."""


#: how each refused rendering answers over HTTP, and when to try again (seconds)
REFUSALS: dict[type[bounded_rendering.RenderRefused], tuple[int, int | None]] = {
    bounded_rendering.TextTooLarge: (413, None),
    bounded_rendering.TextTooComplex: (422, None),
    bounded_rendering.RenderingAllowanceUsed: (429, int(bounded_rendering.ALLOWANCE_PERIOD_SECONDS)),
    bounded_rendering.RenderersBusy: (503, 5),
}


def refusal_status(error: bounded_rendering.RenderRefused) -> int:
    """The HTTP status of a refused rendering."""
    return _refusal(error)[0]


def _refusal(error: bounded_rendering.RenderRefused) -> tuple[int, int | None]:
    return next(answer for kind, answer in REFUSALS.items() if isinstance(error, kind))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the handlers that turn errors into pages or JSON, never stack traces."""

    @app.errorhandler(PracticeNotFound)
    @app.errorhandler(CityNotFound)
    def not_found(_error: Exception):  # type: ignore[no-untyped-def]
        return _http_error(404, "Not found")

    @app.errorhandler(bounded_rendering.RenderRefused)
    def render_refused(error: bounded_rendering.RenderRefused):  # type: ignore[no-untyped-def]
        status, retry = _refusal(error)
        body, status = _http_error(status, HTTP_STATUS_CODES[status], str(error), told=True)
        return body, status, {"Retry-After": str(retry)} if retry else {}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        # A description given when raising (not the class's stock sentence) is meant for the reader.
        return _http_error(error.code or 500, error.name, error.description, told="description" in vars(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception):  # type: ignore[no-untyped-def]
        log.exception("unexpected error on %s %r", request.method, request.path)
        return _http_error(500, "Something went wrong")


def _http_error(code: int, title: str, description: str | None = None,  # type: ignore[no-untyped-def]
                told: bool = False):
    if _wants_json():
        return jsonify(error=description or title), code
    return render_template("error.html", code=code, title=title, message=description if told else None), code
