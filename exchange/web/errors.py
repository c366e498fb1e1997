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
its message, and when to try again. A disk that is full or failing (``STORAGE_FAILURES``) answers 503
saying so, with when to try again: services change nothing when a write fails, so the request may simply
be sent again once an administrator has made room (it is logged as an error for them).
"""

from __future__ import annotations

import errno
import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_babel import gettext as _
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

#: errors of the disk itself, not of our code: the server's disk is full, read-only or failing
STORAGE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})
#: when to try again after a storage failure (seconds)
STORAGE_RETRY_SECONDS = 60


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

    @app.errorhandler(OSError)
    def storage_failure(error: OSError) -> ResponseReturnValue:
        if error.errno not in STORAGE_FAILURES:
            return unexpected(error)
        log.error("storage failure on %s %r: %r", request.method, request.path, error)
        body, status = _http_error(503, HTTP_STATUS_CODES[503], _(
            "The library could not save or read its files: the server's disk is full or failing. Nothing was "
            "changed. Go back to keep what you wrote, and try again later; the administrators can see this in "
            "the server's log."), told=True)
        return body, status, {"Retry-After": str(STORAGE_RETRY_SECONDS)}

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %r", request.method, request.path)
        return _http_error(500, "Something went wrong")


def _http_error(code: int, title: str, description: str | None = None,
                told: bool = False) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=description or title), code
    return render_template("error.html", code=code, title=title, message=description if told else None), code
