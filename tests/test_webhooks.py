"""Webhooks (issue 14, item 6): signed deliveries through the job runner, retries with backoff and their log,
the address guard, and payloads that never carry a non-public version."""

from __future__ import annotations

import calendar
import datetime
import hashlib
import hmac
import http.server
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange import policy
from exchange.app import create_app
from exchange.background import run_pending
from exchange.initialise import initialise
from exchange.jobs import queue
from exchange.library import publishing
from exchange.models import AuditEntry
from exchange.models import Job
from exchange.models import Webhook
from exchange.models import WebhookAttempt
from exchange.models import WebhookDelivery
from exchange.models import utcnow
from exchange.webhooks import addresses
from exchange.webhooks import hooks
from exchange.webhooks import sending
from exchange.webhooks import signing
from tests.conftest import close
from tests.conftest import practice_text

ADMIN = policy.Viewer(id=1, email="admin@network.example", name="Admin", roles=(policy.ADMIN,))
SECRET = "whsec_a-secret-the-receiver-also-knows-0123"


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps every request it gets and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.answer = b"ok"
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/exchange?source=px"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.requests]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def private_app(tmp_path: Path, database_url: str | None):  # type: ignore[no-untyped-def]
    """An app whose administrator allows private targets (the receiver is on loopback)."""
    app = create_app({"INSTANCE": tmp_path / "instance", "TESTING": True, "SERVER_NAME": "px.test",
                      "DATABASE_URL": database_url, "WEBHOOKS_ALLOW_PRIVATE": "yes",
                      "EXCHANGE_BASE_URL": "https://practices.example.org"})
    initialise(app.extensions["exchange"], "test", seed=False)
    yield app
    close(app)


def verified(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The receiver's check as README shows it: HMAC-SHA256 over "<t>.<body>", compared in constant time."""
    fields = dict(part.split("=", 1) for part in headers["x-exchange-signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    now = calendar.timegm(datetime.datetime.now(datetime.UTC).timetuple())
    return hmac.compare_digest(expected, fields["v1"]) and abs(now - int(fields["t"])) <= 300


def test_publishing_queues_and_the_runner_delivers_signed_payloads_of_public_versions_only(private_app, receiver):
    instance = private_app.extensions["exchange"]
    assert instance.webhooks_allow_private  # WEBHOOKS_ALLOW_PRIVATE = "yes"
    hook_id, secret = hooks.create(instance, ADMIN, receiver.url, list(hooks.EVENTS), secret=SECRET)
    assert secret == SECRET

    publishing.publish(instance, practice_text(title="Ciliwung gauge relay"), "gauge-relay", "test")
    assert receiver.requests == []  # publishing only queued the delivery
    run_pending(instance)
    headers, body = receiver.requests[0]
    assert verified(headers, body, SECRET) and not verified(headers, body, "whsec_some-other-secret-000000000")
    assert signing.verify(SECRET, headers["x-exchange-signature"], body, calendar.timegm(
        datetime.datetime.now(datetime.UTC).timetuple()))
    published = json.loads(body)
    assert headers["x-exchange-event"] == published["event"] == "practice.published"
    assert headers["x-exchange-delivery"] == published["delivery"]
    assert published["practice"] == {
        "id": "jakarta/gauge-relay", "version": 1, "language": "en", "title": "Ciliwung gauge relay",
        "summary": "How a city relays upstream gauge alerts to riverside neighbourhoods.",
        "url": "https://practices.example.org/practices/jakarta/gauge-relay", "city": "jakarta",
        "hazards": ["riverine-flood", "extreme-rainfall"]}

    publishing.publish(instance, practice_text(title="Ciliwung gauge relay, revised"), "gauge-relay", "test")
    # made partners-only: withdrawn from the public, and its new words go nowhere
    publishing.publish(instance, practice_text("Partners only: PUMPHOUSE-KEY-7731\n", title="Restricted relay",
                                               visibility="partners"), "gauge-relay", "test")
    # a practice restricted from its first version is no event at all
    publishing.publish(instance, practice_text("SLUICE-CODE-4410\n", title="Sluice codes", visibility="partners"),
                       "sluice-codes", "test")
    run_pending(instance)
    assert [(p["event"], p["practice"].get("version")) for p in receiver.payloads()] == [
        ("practice.published", 1), ("practice.updated", 2), ("practice.withdrawn", None)]
    assert receiver.payloads()[2]["practice"] == {
        "id": "jakarta/gauge-relay", "url": "https://practices.example.org/practices/jakarta/gauge-relay"}
    everything = b"".join(body for _headers, body in receiver.requests)
    for secret_word in (b"PUMPHOUSE", b"Restricted relay", b"SLUICE", b"Sluice codes", b"sluice-codes"):
        assert secret_word not in everything
    assert all(verified(headers, body, SECRET) for headers, body in receiver.requests)
    log = hooks.deliveries(instance, ADMIN, hook_id)
    assert [(d.event, d.state, [(a.attempt, a.status) for a in d.attempts]) for d in log] == [
        ("practice.withdrawn", "delivered", [(1, 200)]), ("practice.updated", "delivered", [(1, 200)]),
        ("practice.published", "delivered", [(1, 200)])]


def test_the_hourly_purge_forgets_settled_deliveries_and_api_calls_after_90_days_and_keeps_the_rest(private_app,
                                                                                                     receiver):
    instance = private_app.extensions["exchange"]
    hook_id, _secret = hooks.create(instance, ADMIN, receiver.url, list(hooks.EVENTS), secret=SECRET)
    publishing.publish(instance, practice_text(title="Old relay"), "old-relay", "test")
    run_pending(instance)  # delivered: a delivery with its attempt
    long_ago = utcnow() - datetime.timedelta(days=91)
    with instance.db.writing() as session:
        session.execute(sa.update(WebhookDelivery).values(created_at=long_ago))
        for action in ("api.call", "api.refused", "practice.publish"):
            session.add(AuditEntry(actor="siti@jakarta.example", action=action, target="/api/v1/practices",
                                   at=long_ago, detail={}))
        session.add(AuditEntry(actor="siti@jakarta.example", action="api.call", target="/api/v1/search", detail={}))
    receiver.status = 500
    publishing.publish(instance, practice_text(title="New relay"), "new-relay", "test")
    run_pending(instance)  # its first attempt failed: queued for a retry, never purged however old
    with instance.db.writing() as session:
        session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.state == "queued").values(created_at=long_ago))
    run_pending(instance, now=utcnow() + datetime.timedelta(hours=2))  # the hourly purge is due
    left = hooks.deliveries(instance, ADMIN, hook_id)
    assert [(d.event, d.state) for d in left] == [("practice.published", "queued")]
    with instance.db.session() as session:  # the purged delivery's attempt went with it
        assert set(session.scalars(sa.select(WebhookAttempt.delivery_id))) == {left[0].id}
        kept = sorted((e.action, e.target) for e in session.scalars(
            sa.select(AuditEntry).where(AuditEntry.actor == "siti@jakarta.example")))
    assert kept == [("api.call", "/api/v1/search"), ("api.refused", "/api/v1/practices"),
                    ("practice.publish", "/api/v1/practices")]


def test_a_failing_receiver_is_retried_with_backoff_and_every_attempt_is_logged(private_app, receiver):
    instance = private_app.extensions["exchange"]
    hook_id, _secret = hooks.create(instance, ADMIN, receiver.url, [hooks.PUBLISHED])
    receiver.status = 500
    publishing.publish(instance, practice_text(), "gauge-relay", "test")
    now = None
    for _attempt in range(8):  # more rounds than attempts: the sixth is the last
        run_pending(instance, now=now)
        with instance.db.session() as session:
            job = session.scalar(sa.select(Job).where(Job.kind == hooks.DELIVER))
        if job.state != queue.QUEUED:
            break
        now = job.run_after  # as if the clock had reached the retry
    assert job.state == queue.FAILED and "HTTP 500" in job.last_error
    assert len(receiver.requests) == 6
    assert len({headers["x-exchange-delivery"] for headers, _body in receiver.requests}) == 1  # one delivery
    [delivery] = hooks.deliveries(instance, ADMIN, hook_id)
    assert delivery.state == "failed"
    assert [(a.attempt, a.status) for a in delivery.attempts] == [(n, 500) for n in range(1, 7)]
    assert all("HTTP 500" in (a.error or "") for a in delivery.attempts)
    waits = [(a.next_retry_at - a.at).total_seconds() for a in delivery.attempts[:-1]]
    assert waits == [60, 120, 240, 480, 960]  # exponential backoff
    assert delivery.attempts[-1].next_retry_at is None

    receiver.status = 204
    again = hooks.redeliver(instance, ADMIN, hook_id, delivery.id)
    run_pending(instance)
    newest = hooks.deliveries(instance, ADMIN, hook_id)[0]
    assert (newest.uid, newest.state, newest.redelivery_of) == (again, "delivered", delivery.id)
    assert receiver.payloads()[-1]["delivery"] == again and receiver.payloads()[-1]["event"] == "practice.published"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://0.0.0.0/hook",
    "http://[fe80::1]/hook",
    "http://192.168.1.20/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
    "http://localhost:8080/hook",  # a name resolving to loopback
])
def test_the_guard_refuses_addresses_inside_the_server_networks(url):
    with pytest.raises(addresses.RefusedTarget, match="refused because"):
        addresses.check(url)


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.org/hook", "must start with https://"),
    ("https://user:pw@example.org/hook", "user name or password"),
    ("https://example.org:99999/hook", "is not a web address"),
    ("https://nonexistent.invalid/hook", "could not be found"),
])
def test_the_guard_names_what_is_wrong_with_an_address(url, problem):
    with pytest.raises(addresses.RefusedTarget, match=problem):
        addresses.check(url)


def test_a_public_address_passes_and_private_ones_pass_only_when_allowed():
    assert addresses.check("https://93.184.215.14:8443/in?x=1").address == "93.184.215.14"
    assert addresses.check("https://[2606:4700::1111]/in").path == "/in"
    assert addresses.check("http://127.0.0.1:8080/", allow_private=True).address == "127.0.0.1"
    with pytest.raises(addresses.RefusedTarget, match="unspecified"):
        addresses.check("http://0.0.0.0/", allow_private=True)


def test_a_delivery_connects_to_the_checked_address_never_resolving_the_name_again(receiver):
    port = receiver.server.server_address[1]
    target = addresses.Target("http", "rebound.invalid", port, "/hooks", "127.0.0.1")
    answer = sending.post(target, b"{}", {})
    assert answer.delivered and receiver.requests[0][0]["host"] == f"rebound.invalid:{port}"


def test_redirects_are_not_followed_and_an_answer_is_read_only_in_part(receiver):
    target = addresses.check(receiver.url, allow_private=True)
    receiver.status = 307
    answer = sending.post(target, b"{}", {})
    assert not answer.delivered and "redirects are not followed" in answer.error and len(receiver.requests) == 1
    receiver.status, receiver.answer = 500, b"x" * (4 * sending.MAX_RESPONSE_BYTES)
    answer = sending.post(target, b"{}", {})
    assert answer.status == 500 and len(answer.error) < 500


def test_the_guard_refuses_when_saving_and_again_at_each_delivery(app, receiver):
    instance = app.extensions["exchange"]
    assert not instance.webhooks_allow_private  # off by default
    with pytest.raises(addresses.RefusedTarget, match="WEBHOOKS_ALLOW_PRIVATE"):
        hooks.create(instance, ADMIN, receiver.url, [hooks.PUBLISHED])
    with instance.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0
        assert not session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("webhook.%"))).all()
    instance.webhooks_allow_private = True  # saved while allowed, then the administrator turns it off
    hook_id, _secret = hooks.create(instance, ADMIN, receiver.url, [hooks.PUBLISHED])
    instance.webhooks_allow_private = False
    publishing.publish(instance, practice_text(), "gauge-relay", "test")
    run_pending(instance)
    assert receiver.requests == []
    [delivery] = hooks.deliveries(instance, ADMIN, hook_id)
    assert "loopback" in delivery.attempts[0].error and delivery.attempts[0].status is None


def test_the_delivery_log_says_why_attempts_failed_in_the_readers_language(private_app):
    import socket

    from exchange.accounts import people
    from tests.test_accounts import HTTPS
    from tests.test_accounts import PASSWORD
    from tests.test_accounts import sign_in
    from tests.test_i18n import english_in

    instance = private_app.extensions["exchange"]
    people.create_user(instance, ADMIN.email, "Admin", ["admin"], [], "test", PASSWORD)
    with socket.socket() as closed:  # a port on loopback that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    hook_id, _secret = hooks.create(instance, ADMIN, f"http://127.0.0.1:{port}/hook", [hooks.PUBLISHED])
    hooks.send_test(instance, ADMIN, hook_id)
    run_pending(instance)  # refused: nothing listens there
    instance.webhooks_allow_private = False
    hooks.send_test(instance, ADMIN, hook_id)
    run_pending(instance)  # refused by the guard: a loopback address
    errors = [delivery.attempts[0].error for delivery in hooks.deliveries(instance, ADMIN, hook_id)]
    assert "loopback" in errors[0] and "refused the connection" in errors[1]  # English where no reader is known
    admin = private_app.test_client()
    sign_in(admin, ADMIN.email)
    page = admin.get(HTTPS + f"/admin/webhooks/{hook_id}?lang=ja").get_data(as_text=True)
    assert english_in(page, "ja") == [] and "ループバック" in page and "接続を拒否" in page


def test_administrators_manage_webhooks_on_their_page_and_see_each_secret_once(private_app, receiver):
    from exchange.accounts import people
    from tests.test_accounts import HTTPS
    from tests.test_accounts import PASSWORD
    from tests.test_accounts import csrf_token
    from tests.test_accounts import post
    from tests.test_accounts import sign_in

    instance = private_app.extensions["exchange"]
    people.create_user(instance, ADMIN.email, "Admin", ["admin"], [], "test", PASSWORD)
    people.create_user(instance, "siti@bpbd.example", "Siti", ["contributor"], ["jakarta"], "test", PASSWORD)
    staff, admin = private_app.test_client(), private_app.test_client()
    sign_in(staff, "siti@bpbd.example")
    assert staff.get(HTTPS + "/admin/webhooks").status_code == 404  # only administrators
    sign_in(admin, ADMIN.email)

    instance.webhooks_allow_private = False
    refused = post(admin, "/admin/webhooks", {"url": "http://169.254.169.254/latest", "events": [hooks.PUBLISHED],
                                              "active": "y", "secret": SECRET,
                                              "csrf_token": csrf_token(admin, "/admin/webhooks")})
    assert refused.status_code == 400
    assert "169.254.169.254 is refused because it is a link-local address" in refused.get_data(as_text=True)
    assert SECRET not in refused.get_data(as_text=True)  # a typed secret is not written back either
    instance.webhooks_allow_private = True
    assert "No webhooks yet." in admin.get(HTTPS + "/admin/webhooks").get_data(as_text=True)

    created = post(admin, "/admin/webhooks", {"url": receiver.url, "events": [hooks.PUBLISHED, hooks.WITHDRAWN],
                                              "active": "y", "csrf_token": csrf_token(admin, "/admin/webhooks")})
    page = created.get_data(as_text=True)
    secret = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert created.status_code == 200 and "it is not shown again" in page
    [hook] = hooks.all_webhooks(instance, ADMIN)
    assert hook.events == (hooks.PUBLISHED, hooks.WITHDRAWN)
    for path in ("/admin/webhooks", f"/admin/webhooks/{hook.id}", "/admin/audit"):
        assert secret not in admin.get(HTTPS + path).get_data(as_text=True)

    edit = f"/admin/webhooks/{hook.id}"
    assert post(admin, f"{edit}/test", {"csrf_token": csrf_token(admin, edit)}).status_code == 302
    run_pending(instance)
    headers, body = receiver.requests[-1]
    assert json.loads(body)["event"] == "webhook.test" and verified(headers, body, secret)
    log = admin.get(HTTPS + edit).get_data(as_text=True)
    assert "webhook.test" in log and "delivered" in log and ">200<" in log

    saved = post(admin, edit, {"url": receiver.url, "events": [hooks.UPDATED], "new_secret": "y",
                               "csrf_token": csrf_token(admin, edit)})  # "active" unticked: made inactive
    replaced = re.search(r'<code class="secret">([^<]+)</code>', saved.get_data(as_text=True)).group(1)
    assert replaced != secret and secret not in saved.get_data(as_text=True)
    assert hooks.webhook(instance, ADMIN, hook.id).active is False
    asked = post(admin, f"{edit}/delete", {"csrf_token": csrf_token(admin, edit)})
    assert "Delete the webhook to" in asked.get_data(as_text=True) and hooks.all_webhooks(instance, ADMIN)
    post(admin, f"{edit}/delete", {"csrf_token": csrf_token(admin, edit), "confirmed": "yes"})
    assert hooks.all_webhooks(instance, ADMIN) == []
    with instance.db.session() as session:
        entries = list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action.like("webhook.%"))
                                       .order_by(AuditEntry.id)))
    assert [(e.action, e.actor) for e in entries] == [
        ("webhook.create", ADMIN.email), ("webhook.test", ADMIN.email), ("webhook.update", ADMIN.email),
        ("webhook.delete", ADMIN.email)]
    assert entries[2].detail == {"events": [hooks.UPDATED], "active": False, "secret": "replaced"}
    assert all(secret not in json.dumps(e.detail) and replaced not in json.dumps(e.detail) for e in entries)
