"""``/healthz``: the instance's health as JSON for a monitor or load balancer (200 when well, 503 when degraded)."""

from __future__ import annotations

from flask import Blueprint
from flask import jsonify
from flask.typing import ResponseReturnValue

from exchange import health
from exchange.web.extensions import library

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    state = health.check(library.instance)
    response = jsonify(state.as_json())
    response.status_code = 200 if state.ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
