"""Request ids and structured logs: one JSON line per request, and every log line of a request carrying its id.

A request's id is the caller's ``X-Request-Id`` when it is a sensible token (a proxy's or a load
balancer's id, so one request can be followed across them), else a new one; it is returned in the
response's ``X-Request-Id``. :func:`handler` writes each log record as one JSON object, stamped with the
id of the request being answered in the thread that logs it; ``exchange serve`` logs through it.

What a request line holds: time, id, method, path, status, duration in milliseconds, and the signed-in
person's user id. Never the query string (a search or a share link's key may be in it), and a path
argument that is a secret (an invitation's token) is replaced by ``…``.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import sys
import time
import uuid
from typing import Any
from typing import TextIO

from flask import Flask
from flask import Response
from flask import g
from flask import request

from exchange.web.viewer import current as viewer

log = logging.getLogger("exchange.requests")

HEADER = "X-Request-Id"
#: an id taken from a caller: letters, digits and a few separators, at most 128 of them (nothing to inject)
VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
#: path arguments never written to a log
SECRET_ARGUMENTS = frozenset({"token", "key"})

current_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def init_app(app: Flask) -> None:
    """Give every request an id (returned in X-Request-Id) and log one line when it is answered."""
    app.before_request(_begin)
    app.after_request(_answered)
    app.teardown_request(_end)


def _begin() -> None:
    offered = request.headers.get(HEADER, "")
    request_id = offered if VALID_ID.match(offered) else uuid.uuid4().hex
    g.request_id = request_id
    g.request_started = time.perf_counter()
    g.request_id_token = current_id.set(request_id)


def _answered(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a request refused before it began (a before_request answered first)
        return response
    response.headers[HEADER] = request_id
    duration = (time.perf_counter() - g.request_started) * 1000
    try:
        user_id = viewer().id
    except Exception:  # the account could not be read (the database is down): the line, and the answer, go out
        user_id = None
    log.info("%s %s %d", request.method, _logged_path(), response.status_code,
             extra={"request": {"method": request.method, "path": _logged_path(), "status": response.status_code,
                                "duration_ms": round(duration, 1), "user_id": user_id}})
    return response


def _end(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        current_id.reset(token)


def _logged_path() -> str:
    """The request's path without its query, a secret path argument replaced by ``…``."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name in SECRET_ARGUMENTS and isinstance(value, str) and value:
            path = path.replace(value, "…")
    return path


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request its thread is answering (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message, the request id, and a request's facts."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(getattr(record, "request", None) or {})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(stream: TextIO) -> logging.Handler:
    """A handler writing each record to ``stream`` as a JSON line with its request's id."""
    made = logging.StreamHandler(stream)
    made.addFilter(RequestIdFilter())
    made.setFormatter(JsonFormatter())
    return made


def configure(level: int = logging.INFO) -> None:
    """Log every record to standard error as a JSON line (for ``exchange serve``)."""
    root = logging.getLogger()
    root.handlers[:] = [handler(sys.stderr)]
    root.setLevel(level)
