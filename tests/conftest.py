"""Shared fixtures: a fresh instance per test, a seeded library per module, and a practice builder.

Every fixture that builds an instance runs on each database the library supports: ``database`` is
parametrised over ``sqlite`` and ``postgresql`` (``-k sqlite`` or ``-k postgresql`` picks one), and each
test gets a fresh database of that kind. The PostgreSQL cases use a throwaway server started once per
session (tests/postgresql.py); where it cannot start they skip loudly, and under ``CI=true`` they fail.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import socket
import textwrap
import threading
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from exchange.app import create_app
from exchange.initialise import initialise
from exchange.instance import Instance
from tests.postgresql import PostgreSQLServer
from tests.postgresql import PostgreSQLUnavailable

DATA = Path(__file__).parent / "data"
DATABASES = ["sqlite", "postgresql"]

# A developer's own database must never receive test data, nor leak into the commands tests start.
os.environ.pop("EXCHANGE_DATABASE_URL", None)

# Tests assert what a search finds and what a preview shows, never how fast: on a loaded machine the
# production budgets (2 s each) cut a search short or refuse a preview. The budgets themselves are
# tested with no time at all (tests/search/test_search.py, tests/test_bounded_rendering.py); how long
# things take is for bench/.
os.environ.setdefault("EXCHANGE_SEARCH_SECONDS", "600")
os.environ.setdefault("EXCHANGE_PREVIEW_SECONDS", "600")
#: the budget a test gives a search engine it calls directly (the engines' own default is the production 2 s,
#: which a loaded machine's pauses can spend, leaving a search with no results)
SEARCH_SECONDS = float(os.environ["EXCHANGE_SEARCH_SECONDS"])
# Likewise the API's calls a minute: a module's tests call it from one address far more often than a script
# would. The limits are tested with their own settings (tests/test_api.py).
os.environ.setdefault("EXCHANGE_API_CALLS_PER_MINUTE", "1000000")
os.environ.setdefault("EXCHANGE_API_ANONYMOUS_CALLS_PER_MINUTE", "1000000")

DEFAULTS: dict[str, Any] = {
    "title": "Community flood early warning",
    "summary": "How a city relays upstream gauge alerts to riverside neighbourhoods.",
    "city": "jakarta",
    "country": "ID",
    "language": "en",
    "kind": "procedure",
    "hazards": "[riverine-flood, extreme-rainfall]",
    "phases": "[preparedness, response]",
    "published": "2023-12-05",
}


def practice_text(body: str = "## Steps\n\n1. Watch the gauge.\n2. Warn the neighbourhood.\n", **fields: Any) -> bytes:
    """A practice file: DEFAULTS overridden by ``fields`` (None drops a key; values are YAML text)."""
    meta = {**DEFAULTS, **fields}
    lines = [f"{key}: {value}" for key, value in meta.items() if value is not None]
    return ("---\n" + "\n".join(lines) + "\n---\n" + textwrap.dedent(body)).encode("utf-8")


@pytest.fixture
def make_practice() -> Callable[..., bytes]:
    """Build the bytes of a practice file from front-matter fields."""
    return practice_text


class Databases:
    """Fresh databases of one kind: SQLite (the instance's own file) or PostgreSQL (the test server)."""

    def __init__(self, server: PostgreSQLServer | None = None) -> None:
        self.server = server

    @contextlib.contextmanager
    def fresh(self, like: str | None = None) -> Iterator[str | None]:
        """The URL of a new, empty database (None: the default SQLite file in the instance folder), dropped after.

        ``like``: the URL of a database to copy instead (a SQLite file is copied with its instance folder).
        """
        if self.server is None:
            yield None
            return
        url = self.server.create_database(like)
        try:
            yield url
        finally:
            self.server.drop_database(url)


def close(app: Flask) -> None:
    """Close an app's index and database (nothing runs in the background: jobs wait for a runner)."""
    app.extensions["exchange"].search.close()
    app.extensions["exchange"].db.dispose()


def exchange_environment(instance: Path, database_url: str | None) -> dict[str, str]:
    """The environment for an ``exchange`` command (a subprocess) on ``instance`` and its database."""
    environment = {**os.environ, "EXCHANGE_INSTANCE": str(instance)}
    if database_url:
        environment["EXCHANGE_DATABASE_URL"] = database_url
    return environment


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgreSQLServer]:
    """A throwaway PostgreSQL 15 server for the session; skips loudly where it cannot start (fails under CI)."""
    try:
        server = PostgreSQLServer.start()
    except PostgreSQLUnavailable as problem:
        message = f"PostgreSQL test server unavailable: {problem}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip("!!! SKIPPING POSTGRESQL TESTS !!! " + message)
    yield server
    server.stop()


@pytest.fixture(scope="module", params=DATABASES)
def database(request: pytest.FixtureRequest) -> Databases:
    """The kind of database this test runs on (module-scoped, so a module's shared instances agree)."""
    if request.param == "postgresql":
        return Databases(request.getfixturevalue("postgresql_server"))
    return Databases()


@pytest.fixture
def new_database(database: Databases) -> Iterator[Callable[[], str | None]]:
    """Make further fresh databases of this test's kind (for a second instance), dropped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda: stack.enter_context(database.fresh())


@pytest.fixture
def database_url(new_database: Callable[[], str | None]) -> str | None:
    """The URL of this test's fresh database (None: SQLite in the instance folder)."""
    return new_database()


@pytest.fixture
def app(tmp_path: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    """An app on a fresh, empty instance (schema and partner cities, no practices)."""
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SERVER_NAME": "px.test",
                      "DATABASE_URL": database_url})
    initialise(app.extensions["exchange"], "test", seed=False)
    yield app
    close(app)


@pytest.fixture
def instance(app) -> Instance:  # type: ignore[no-untyped-def]
    return app.extensions["exchange"]


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def library_app(tmp_path_factory, database: Databases):  # type: ignore[no-untyped-def]
    """An app on an instance seeded with the bundled practices (shared by a module's read-only tests)."""
    with database.fresh() as url:
        app = create_app({"INSTANCE": tmp_path_factory.mktemp("seeded"), "TESTING": True, "SERVER_NAME": "px.test",
                          "DATABASE_URL": url})
        report = initialise(app.extensions["exchange"], "test", seed=True)
        assert not [o for o in report.seeded if o.failed]
        yield app
        close(app)


@pytest.fixture
def library_client(library_app):  # type: ignore[no-untyped-def]
    return library_app.test_client()


class MailServer:
    """What a real SMTP server (aiosmtpd on 127.0.0.1) received, and who tried to sign in to it."""

    USER = "exchange"
    PASSWORD = "relay secret 7c4e"

    def __init__(self) -> None:
        self.port = 0
        self.messages: list[email.message.EmailMessage] = []
        self.sign_ins: list[tuple[str, str, bool]] = []  # (mechanism, user, accepted)
        #: set when a message has arrived (for a test that waits on a runner in another process)
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.received.set()
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, login):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult

        accepted = (login.login.decode(), login.password.decode()) == (self.USER, self.PASSWORD)
        self.sign_ins.append((mechanism, login.login.decode(), accepted))
        return AuthResult(success=accepted, handled=False)  # False: aiosmtpd answers 535 itself


@pytest.fixture
def mail_server():  # type: ignore[no-untyped-def]
    """Start real SMTP servers on free ports: ``mail_server(**aiosmtpd_options)``; stopped after the test."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(**options: Any) -> MailServer:
        server = MailServer()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            server.port = probe.getsockname()[1]
        controller = Controller(server, hostname="127.0.0.1", port=server.port, authenticator=server.authenticate,
                                **options)
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()
