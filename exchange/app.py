"""The application: the web app for one library instance (``create_app``) and the ``exchange`` command.

The top of the house: it wires the web layer and the command line together, and nothing imports it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask import current_app
from werkzeug.middleware.proxy_fix import ProxyFix

from exchange import cli
from exchange import settings
from exchange.accounts import people
from exchange.catalogs import N_
from exchange.instance import Instance
from exchange.library import bounded_rendering
from exchange.library.practice import MAX_DOCUMENT_BYTES
from exchange.mail import settings_from
from exchange.web import admin
from exchange.web import api
from exchange.web import auth
from exchange.web import comparison_pages
from exchange.web import compression
from exchange.web import contribute
from exchange.web import errors
from exchange.web import feeds
from exchange.web import health
from exchange.web import i18n
from exchange.web import inputs
from exchange.web import insight_pages
from exchange.web import oai
from exchange.web import packs_pages
from exchange.web import page_cache
from exchange.web import pages
from exchange.web import presentation
from exchange.web import request_log
from exchange.web import saved_searches
from exchange.web import webhook_pages
from exchange.web.extensions import csrf
from exchange.web.extensions import library
from exchange.web.extensions import login_manager
from exchange.web.request_limits import BoundedInteger
from exchange.web.request_limits import LimitedRequest

#: the folder that holds the package, the templates and the bundled practices
ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The web application for one library instance; wiring only, no side effects on disk."""
    config = dict(test_config or {})
    instance_path = Path(config.pop("INSTANCE", None) or settings.instance_path_from_environment())
    app = Flask(
        __name__,
        instance_path=str(instance_path.resolve()),
        template_folder=str(ROOT / "templates"),
    )
    app.request_class = LimitedRequest
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        PER_PAGE=20,
        PREVIEW_ALLOWANCE_SECONDS=bounded_rendering.ALLOWANCE_SECONDS,
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
    # Defaults, then the instance's config.py, then EXCHANGE_* variables; a test's own config last.
    app.config.update(settings.load(instance_path, os.environ))
    app.config.update(config)
    mail = settings_from(app.config, {})
    instance = Instance.open(instance_path, app.config["DATABASE_URL"], mail, app.config["SEARCH_SECONDS"],
                             app.config["EXCHANGE_BASE_URL"], app.config["LIBRARY_STORE"], app.config["NODE"],
                             app.config["SEARCH_ENGINE"])
    instance.webhooks_allow_private = settings.boolean(str(app.config["WEBHOOKS_ALLOW_PRIVATE"]))
    library.init_app(app, instance)
    if app.config["TRUSTED_PROXIES"]:
        # Behind that many reverse proxies, trust their X-Forwarded-For/-Proto/-Host/-Port/-Prefix (and none else's).
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,  # type: ignore[method-assign]
                                x_port=proxies, x_prefix=proxies)
    request_log.init_app(app)  # first: its id is set before any other hook runs, its line written after them all
    inputs.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # The login manager is one object for every app of the process: each request loads its person from
    # its own app's instance (a closure over this instance would serve every app from the last one made).
    login_manager.user_loader(lambda key: people.load(current_app.extensions["exchange"], key))
    errors.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)
    presentation.init_app(app)
    page_cache.init_app(app)
    compression.init_app(app)
    app.url_map.converters["int"] = BoundedInteger  # before the routes that use it are added
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # its writes need a personal token, which no browser sends on its own
    app.register_blueprint(auth.bp)
    app.register_blueprint(contribute.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(insight_pages.bp)
    app.register_blueprint(packs_pages.bp)
    app.register_blueprint(comparison_pages.bp)
    app.register_blueprint(oai.bp)
    csrf.exempt(oai.bp)  # harvesters POST their arguments; the endpoint reads public versions only
    app.register_blueprint(webhook_pages.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(saved_searches.bp)
    app.register_blueprint(health.bp)
    return app


main = cli.Main(
    name="exchange",
    create_app=create_app,
    add_version_option=False,
    help=N_("Practice Exchange: manage and serve a library of disaster-risk practices.\n\n"
            "The instance folder is EXCHANGE_INSTANCE (default ./instance)."),
)
main.add_command(cli.run_command)
cli.speaking(main)  # Flask's own options and commands (shell, routes) too


if __name__ == "__main__":
    main()
