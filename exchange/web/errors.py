"""The one mapping of errors to HTTP responses: a page, or JSON under ``/api/``, never a stack trace.

The four kinds of domain error (``exchange.errors``) answer as follows; a view that wants another
answer for one case (a 403 where the person already knows the thing exists, a form shown again with
the problem) catches the error itself.

=============  ======  ===============================================================
kind           status  what the reader is told
=============  ======  ===============================================================
NotFound       404     "Not found", nothing more
Forbidden      404     the same as NotFound: unknown and forbidden look alike (DESIGN 4)
Conflict       409     the error's message
Invalid        400     the error's message
=============  ======  ===============================================================

A refused rendering (``bounded_rendering.RenderRefused``) answers with the status in :data:`REFUSALS`,
its message, and when to try again.
"""

from __future__ import annotations

import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from exchange import errors
from exchange.library import bounded_rendering
from exchange.web import i18n

log = logging.getLogger(__name__)

#: the status of each kind of domain error, and whether its message is shown
KINDS: dict[type[errors.DomainError], tuple[int, bool]] = {
    errors.NotFound: (404, False),
    errors.Forbidden: (404, False),
    errors.Conflict: (409, True),
    errors.Invalid: (400, True),
}

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


def _kind(error: errors.DomainError) -> tuple[int, bool] | None:
    return next((answer for kind, answer in KINDS.items() if isinstance(error, kind)), None)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register the handlers that turn errors into pages or JSON, never stack traces."""

    @app.errorhandler(errors.DomainError)
    def domain_error(error: errors.DomainError) -> ResponseReturnValue:
        answer = _kind(error)
        if answer is None:  # a domain error of none of the four kinds is a mistake in our code
            return unexpected(error)
        status, told = answer
        if status == 404:
            return _http_error(404, "Not found")
        return _http_error(status, HTTP_STATUS_CODES[status], i18n.told(error), told=told)

    @app.errorhandler(bounded_rendering.RenderRefused)
    def render_refused(error: bounded_rendering.RenderRefused) -> ResponseReturnValue:
        status, retry = _refusal(error)
        body, status = _http_error(status, HTTP_STATUS_CODES[status], i18n.told(error), told=True)
        return body, status, {"Retry-After": str(retry)} if retry else {}

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        # A description given when raising (not the class's stock sentence) is meant for the reader.
        return _http_error(error.code or 500, error.name, error.description, told="description" in vars(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %r", request.method, request.path)
        return _http_error(500, "Something went wrong")


def _http_error(code: int, title: str, description: str | None = None,
                told: bool = False) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=description or title), code
    return render_template("error.html", code=code, title=title, message=description if told else None), code
