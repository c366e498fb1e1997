"""Shared fixtures: a fresh instance per test, a seeded library per module, and a practice builder."""

from __future__ import annotations

import email
import email.policy
import os
import socket
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exchange import create_app
from exchange.initialise import initialise
from exchange.instance import Instance

DATA = Path(__file__).parent / "data"

# Tests assert what a search finds and what a preview shows, never how fast: on a loaded machine the
# production budgets (2 s each) cut a search short or refuse a preview. The budgets themselves are
# tested with no time at all (tests/search/test_search.py, tests/test_bounded_rendering.py); how long
# things take is for bench/.
os.environ.setdefault("EXCHANGE_SEARCH_SECONDS", "600")
os.environ.setdefault("EXCHANGE_PREVIEW_SECONDS", "600")

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


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An app on a fresh, empty instance (schema and partner cities, no practices)."""
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SERVER_NAME": "px.test"})
    initialise(app.extensions["exchange"], "test", seed=False)
    yield app
    app.extensions["exchange"].search.close()
    app.extensions["exchange"].db.dispose()


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
def library_app(tmp_path_factory):  # type: ignore[no-untyped-def]
    """An app on an instance seeded with the bundled practices (shared by a module's read-only tests)."""
    app = create_app({"INSTANCE": tmp_path_factory.mktemp("seeded"), "TESTING": True, "SERVER_NAME": "px.test"})
    report = initialise(app.extensions["exchange"], "test", seed=True)
    assert not [o for o in report.seeded if o.failed]
    yield app
    app.extensions["exchange"].search.close()
    app.extensions["exchange"].db.dispose()


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

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
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
