"""Practice Exchange: a library where partner cities share disaster-risk practices."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = "instance"


def instance_path_from_environment() -> Path:
    """The instance folder named by ``EXCHANGE_INSTANCE`` (default ``./instance``)."""
    return Path(os.environ.get("EXCHANGE_INSTANCE", DEFAULT_INSTANCE)).resolve()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The web application for one library instance; wiring only, no side effects on disk."""
    from exchange import cli
    from exchange import errors
    from exchange.accounts import people
    from exchange.instance import Instance
    from exchange.library import bounded_rendering
    from exchange.library.practice import MAX_DOCUMENT_BYTES
    from exchange.mail import settings_from
    from exchange.search.backend import TIME_LIMIT_SECONDS
    from exchange.web import admin
    from exchange.web import api
    from exchange.web import auth
    from exchange.web import contribute
    from exchange.web import inputs
    from exchange.web import packs_pages
    from exchange.web import pages
    from exchange.web import presentation
    from exchange.web.extensions import csrf
    from exchange.web.extensions import library
    from exchange.web.extensions import login_manager
    from exchange.web.request_limits import LimitedRequest

    config = dict(test_config or {})
    instance_path = Path(config.pop("INSTANCE", None) or instance_path_from_environment())
    app = Flask(
        __name__,
        instance_path=str(instance_path.resolve()),
        template_folder=str(ROOT / "templates"),
    )
    app.request_class = LimitedRequest
    app.config.from_mapping(
        SECRET_KEY=_secret_key(instance_path),
        DATABASE_URL=os.environ.get("EXCHANGE_DATABASE_URL"),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        PER_PAGE=20,
        # Seconds a search may spend matching before it stops and answers with no results (threats R-5).
        SEARCH_SECONDS=float(os.environ.get("EXCHANGE_SEARCH_SECONDS", TIME_LIMIT_SECONDS)),
        # Seconds of wall clock one preview may take, and that one person's previews may take in a minute
        # (exchange/bounded_rendering.py).
        PREVIEW_SECONDS=float(os.environ.get("EXCHANGE_PREVIEW_SECONDS", bounded_rendering.RENDER_SECONDS)),
        PREVIEW_ALLOWANCE_SECONDS=bounded_rendering.ALLOWANCE_SECONDS,
        # Links sent to people (invitations, e-mail) use this, never the request's Host (threats AU-7).
        EXCHANGE_BASE_URL=os.environ.get("EXCHANGE_BASE_URL", "http://127.0.0.1:5000"),
        # Session cookies: host-only, HTTPS only (browsers treat 127.0.0.1 and localhost as secure),
        # not readable by scripts, not sent on cross-site requests (threats AU-8).
        SESSION_COOKIE_NAME="__Host-px-session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        # Form bodies, in either encoding (exchange/web/request_limits.py): no field larger than a whole
        # practice may be (threats ).
        MAX_FORM_PARTS=1000,
        MAX_FORM_MEMORY_SIZE=MAX_DOCUMENT_BYTES,
    )
    app.config.update(config)
    mail = settings_from(app.config, os.environ)
    instance = Instance.open(instance_path, app.config["DATABASE_URL"], mail, app.config["SEARCH_SECONDS"])
    library.init_app(app, instance)
    inputs.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(lambda key: people.load(instance, key))
    errors.init_app(app)
    cli.init_app(app)
    presentation.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(contribute.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(packs_pages.bp)
    return app


def _secret_key(instance_path: Path) -> str:
    """The key ``exchange init`` stored in the instance, or the environment's, or a per-process one."""
    if os.environ.get("EXCHANGE_SECRET_KEY"):
        return os.environ["EXCHANGE_SECRET_KEY"]
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        return key_file.read_text().strip()
    return secrets.token_hex(32)

