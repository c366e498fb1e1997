"""E-mail over TLS with sign-in, against a real SMTP server (aiosmtpd) on 127.0.0.1 with a test CA (trustme)."""

from __future__ import annotations

import logging
import socket
import ssl

import pytest
import sqlalchemy as sa
import trustme

from exchange import mail
from exchange.accounts import people
from exchange.app import create_app
from exchange.background import run_pending
from exchange.initialise import initialise
from exchange.models import Job
from exchange.models import PracticeRecord
from exchange.models import Submission
from exchange.review import notifications
from exchange.review import submissions
from tests.conftest import MailServer
from tests.conftest import practice_text
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import _token_in
from tests.test_accounts import post
from tests.test_accounts import sign_in

BASE_URL = "https://exchange.example.org/library"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A private certificate authority the client is told to trust (through EXCHANGE_SMTP_CA_FILE)."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA, name: str = "127.0.0.1") -> ssl.SSLContext:
    """A server's TLS context with a certificate for ``name`` issued by ``ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(name).configure_cert(context)
    return context


def settings(server: MailServer, **changes: object) -> mail.MailSettings:
    fields = {"host": "127.0.0.1", "port": server.port, "sender": "exchange@px.test", "user": server.USER,
              "password": server.PASSWORD, "base_url": BASE_URL, **changes}
    return mail.MailSettings(**fields)  # type: ignore[arg-type]


def our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the library itself logged (the test server's own debug lines are not ours)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("exchange"))


@pytest.fixture
def make_app(tmp_path, new_database):  # type: ignore[no-untyped-def]
    """An app on a fresh instance that mails through ``server`` with ``config`` (STARTTLS + sign-in by default)."""
    apps = []

    def make(server: MailServer, **config: object):  # type: ignore[no-untyped-def]
        app = create_app({"INSTANCE": tmp_path / f"instance{len(apps)}", "TESTING": True, "SERVER_NAME": "px.test",
                          "DATABASE_URL": new_database(),
                          "EXCHANGE_BASE_URL": BASE_URL, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port,
                          "MAIL_FROM": "exchange@px.test", "SMTP_USER": server.USER,
                          "SMTP_PASSWORD": server.PASSWORD, **config})
        initialise(app.extensions["exchange"], "test", seed=False)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["exchange"].search.close()
        app.extensions["exchange"].db.dispose()


def submitted_draft(instance) -> int:  # type: ignore[no-untyped-def]
    """Siti (contributor, Jakarta) has submitted a practice that Rina (reviewer) may approve; its submission id."""
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    siti = people.load(instance, "1:1")
    draft = submissions.save(instance, siti, "jakarta", "posko", practice_text(title="Posko RW").decode(), None)
    submissions.submit(instance, siti, draft.id)
    run_pending(instance)  # the runner mails the reviewer
    return draft.id


def status(instance, submission_id: int) -> str:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return session.scalar(sa.select(Submission.status).where(Submission.id == submission_id))


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_an_approval_reaches_the_author_over_starttls_with_an_absolute_link(mechanism, mail_server, make_app, ca,
                                                                            ca_file):
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    server = mail_server(tls_context=server_context(ca), require_starttls=True, auth_exclude_mechanism=[other])
    app = make_app(server, SMTP_CA_FILE=ca_file)  # no SMTP_TLS: starttls is the default, on port SMTP_PORT
    instance = app.extensions["exchange"]
    submission_id = submitted_draft(instance)
    reviewer = app.test_client()
    sign_in(reviewer, "rina@network.example")
    token = _token_in(reviewer.get(f"{HTTPS}/submissions/{submission_id}").get_data(as_text=True))
    assert post(reviewer, f"/submissions/{submission_id}/approve", {"comment": "Bagus — 良い.",
                                                                     "csrf_token": token}).status_code == 302
    run_pending(instance)
    assert [(m["From"], m["To"], m["Subject"]) for m in server.messages] == [
        ("exchange@px.test", "rina@network.example", "A practice is waiting for your review"),
        ("exchange@px.test", "siti@jakarta.example", "Your submission was approved and published"),
    ]
    # The request came to px.test; the link follows EXCHANGE_BASE_URL, path and all.
    assert server.messages[1].get_content().splitlines() == [
        "Rina approved “Posko RW”; it is published.", "", "Bagus — 良い.", "",
        f"{BASE_URL}/submissions/{submission_id}"]
    assert server.sign_ins == [(mechanism, "exchange", True)] * 2
    [note] = notifications.unread(instance, 1)
    assert note.kind == "approved" and note.link == f"/submissions/{submission_id}"


def test_over_implicit_tls_a_batch_shares_one_connection_and_sign_in(mail_server, ca, ca_file):
    # Implicit TLS: aiosmtpd only knows STARTTLS as encryption, so it is told that AUTH may go without it.
    server = mail_server(ssl_context=server_context(ca), auth_require_tls=False)
    letters = [mail.Message("siti@jakarta.example", "One", "First."),
               mail.Message("kenji@tokyo.example", "Two", "Second.")]
    assert mail.send_all(settings(server, tls="ssl", ca_file=ca_file), letters) == 2
    assert [(m["To"], m["Subject"], m.get_content().strip()) for m in server.messages] == [
        ("siti@jakarta.example", "One", "First."), ("kenji@tokyo.example", "Two", "Second.")]
    assert len(server.sign_ins) == 1


def test_a_wrong_password_is_logged_and_the_approval_still_stands(mail_server, make_app, ca, ca_file, caplog):
    caplog.set_level(logging.DEBUG)
    server = mail_server(tls_context=server_context(ca))
    app = make_app(server, SMTP_CA_FILE=ca_file, SMTP_PASSWORD="not the relay password")
    instance = app.extensions["exchange"]
    submission_id = submitted_draft(instance)
    rina = people.load(instance, "2:1")
    assert submissions.review(instance, rina, submission_id, "approve") == 1
    run_pending(instance)
    assert status(instance, submission_id) == "approved"
    with instance.db.session() as session:
        assert session.get(PracticeRecord, "jakarta/posko").version == 1  # published
    assert [n.kind for n in notifications.unread(instance, 1)] == ["approved"]
    assert server.messages == [] and server.sign_ins and not any(ok for _, _, ok in server.sign_ins)
    logged = our_log(caplog)
    assert "mail to ['siti@jakarta.example'] not sent: signing in as 'exchange' to 127.0.0.1" in logged
    assert "535" in logged  # the server's answer says why
    assert "not the relay password" not in logged and "not the relay password" not in repr(instance.mail)


def test_approving_on_the_web_returns_without_contacting_the_mail_server(tmp_path, new_database):
    # A mail server that never answers: it listens, but never accepts, so a client would wait for its
    # greeting until its timeout. The request must not be that client.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SERVER_NAME": "px.test",
                          "DATABASE_URL": new_database(), "SMTP_HOST": "127.0.0.1",
                          "SMTP_PORT": silent.getsockname()[1], "SMTP_TLS": "off"})
        instance = app.extensions["exchange"]
        initialise(instance, "test", seed=False)
        people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
        people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
        draft = submissions.save(instance, people.load(instance, "1:1"), "jakarta", "posko",
                                 practice_text(title="Posko RW").decode(), None)
        submissions.submit(instance, people.load(instance, "1:1"), draft.id)
        reviewer = app.test_client()
        sign_in(reviewer, "rina@network.example")
        token = _token_in(reviewer.get(f"{HTTPS}/submissions/{draft.id}").get_data(as_text=True))
        approved = post(reviewer, f"/submissions/{draft.id}/approve", {"comment": "", "csrf_token": token})
        assert approved.status_code == 302 and status(instance, draft.id) == "approved"
        silent.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody knocked: no connection waits to be accepted
            silent.accept()
    with instance.db.session() as session:
        letters = session.execute(sa.select(Job.state, Job.payload).where(Job.kind == notifications.MAIL)
                                  .order_by(Job.id)).all()
    assert [(state, payload["to"]) for state, payload in letters] == [
        ("queued", "rina@network.example"), ("queued", "siti@jakarta.example")]  # for the job runner
    instance.search.close()
    instance.db.dispose()


@pytest.mark.parametrize("issuer, name, trust", [
    ("another CA", "127.0.0.1", "system"),  # the default: the system's trust store knows nothing of it
    ("another CA", "127.0.0.1", "ca_file"),  # told to trust only our CA
    ("our CA", "mail.elsewhere.example", "ca_file"),  # trusted issuer, but not a certificate for this host
])
def test_a_certificate_the_client_does_not_trust_sends_nothing(issuer, name, trust, mail_server, ca, ca_file,
                                                               caplog):
    caplog.set_level(logging.DEBUG)
    signer = ca if issuer == "our CA" else trustme.CA()
    server = mail_server(tls_context=server_context(signer, name))
    chosen = settings(server, ca_file=ca_file if trust == "ca_file" else None)
    assert mail.send(chosen, "siti@jakarta.example", "Secret", "Partners only.") is False
    assert server.messages == [] and server.sign_ins == []  # nor did the password leave
    logged = our_log(caplog)
    assert "starting TLS with 127.0.0.1" in logged and "CERTIFICATE_VERIFY_FAILED" in logged
    assert server.PASSWORD not in logged


def test_a_password_never_crosses_an_unencrypted_connection(mail_server, caplog):
    caplog.set_level(logging.DEBUG)
    # A server that would take AUTH in plain text, and offers no STARTTLS.
    server = mail_server(auth_require_tls=False)
    assert mail.send(settings(server, tls="off"), "siti@jakarta.example", "Hello", "Text.") is False
    assert "EXCHANGE_SMTP_USER is set but EXCHANGE_SMTP_TLS is off" in our_log(caplog)
    # Asked for STARTTLS, the client gives up rather than go on in plain text.
    assert mail.send(settings(server), "siti@jakarta.example", "Hello", "Text.") is False
    assert "STARTTLS extension not supported" in our_log(caplog)
    assert server.sign_ins == [] and server.messages == []
    assert server.PASSWORD not in our_log(caplog)
    # The same server takes plain mail from a client that does not sign in (a relay on the same machine).
    assert mail.send(settings(server, tls="off", user=None, password=None), "siti@jakarta.example", "Hello",
                     "Text.") is True
    assert [m["Subject"] for m in server.messages] == ["Hello"]


def test_settings_come_from_the_app_config_or_else_the_environment():
    environment = {"EXCHANGE_SMTP_HOST": "smtp.env.example", "EXCHANGE_SMTP_USER": "env-user",
                   "EXCHANGE_SMTP_PASSWORD": "env secret", "EXCHANGE_SMTP_TLS": "SSL",
                   "EXCHANGE_SMTP_CA_FILE": "/etc/ssl/relay-ca.pem", "EXCHANGE_MAIL_FROM": "px@env.example"}
    assert mail.settings_from({}, {}) is None
    from_environment = mail.settings_from({"EXCHANGE_BASE_URL": BASE_URL}, environment)
    assert from_environment == mail.MailSettings(
        host="smtp.env.example", sender="px@env.example", tls="ssl", user="env-user", password="env secret",
        ca_file="/etc/ssl/relay-ca.pem", base_url=BASE_URL)
    assert from_environment.address == ("smtp.env.example", 465)
    assert "env secret" not in repr(from_environment)
    from_config = mail.settings_from({"SMTP_HOST": "smtp.config.example", "SMTP_PORT": 2525, "SMTP_TLS": "off"},
                                     environment)
    assert (from_config.address, from_config.tls, from_config.user) == (("smtp.config.example", 2525), "off",
                                                                        "env-user")
    defaults = mail.settings_from({"SMTP_HOST": "smtp.example"}, {})
    assert (defaults.address, defaults.tls, defaults.user, defaults.ca_file, defaults.base_url) == (
        ("smtp.example", 587), "starttls", None, None, "http://127.0.0.1:5000")


@pytest.mark.parametrize("setting, value", [("SMTP_TLS", "tls"), ("SMTP_TLS", "yes"), ("SMTP_PORT", "587a")])
def test_a_malformed_setting_stops_the_app_at_start(setting, value, tmp_path):
    with pytest.raises(ValueError, match=f"EXCHANGE_{setting} is '{value}'"):
        create_app({"INSTANCE": tmp_path / "instance", "SMTP_HOST": "smtp.example", setting: value})


@pytest.mark.parametrize("base, link, expected", [
    ("https://exchange.example.org", "/submissions/3", "https://exchange.example.org/submissions/3"),
    ("https://exchange.example.org/", "/submissions/3", "https://exchange.example.org/submissions/3"),
    ("https://example.org/exchange/", "/practices/jakarta/sirens", "https://example.org/exchange/practices/jakarta/sirens"),
    ("https://exchange.example.org", "//elsewhere.example/x", "https://exchange.example.org/elsewhere.example/x"),
    ("https://exchange.example.org", "https://doi.example/10.1/x", "https://doi.example/10.1/x"),
])
def test_links_in_mail_are_absolute_under_the_base_url(base, link, expected):
    assert notifications.absolute(base, link) == expected
