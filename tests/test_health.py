"""Health, headers, proxies and request logs (issue 15, item 2)."""

from __future__ import annotations

import datetime
import io
import json
import logging

import pytest

from exchange.app import create_app
from exchange.models import IndexOutbox
from exchange.models import Job
from exchange.models import utcnow
from exchange.web import request_log
from tests.conftest import close

HTTPS = "https://px.test"


def test_a_healthy_instance_answers_200_with_every_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert answer["status"] == "ok" and answer["failing"] == []
    assert set(answer["checks"]) == {"database", "index", "outbox", "jobs"}
    assert all(check["ok"] for check in answer["checks"].values())
    assert answer["checks"]["outbox"]["pending"] == 0 and answer["checks"]["jobs"]["due"] == 0


def _stuck_outbox(instance) -> None:  # type: ignore[no-untyped-def]
    with instance.db.writing() as session:
        session.add(IndexOutbox(practice_id="jakarta/flood-warning",
                                enqueued_at=utcnow() - datetime.timedelta(hours=1)))


def _forgotten_job(instance) -> None:  # type: ignore[no-untyped-def]
    with instance.db.writing() as session:
        session.add(Job(kind="mail.send", payload={}, state="queued", run_after=utcnow() - datetime.timedelta(hours=2)))


def _damaged_index(instance) -> None:  # type: ignore[no-untyped-def]
    instance.search.close()
    for path in instance.path.joinpath("index").rglob("*"):
        if path.is_file() and path.name != "rebuild.lock":
            path.write_bytes(b"\0garbage")


@pytest.mark.parametrize(("fault", "failing", "problem"), [
    (_stuck_outbox, "outbox", "publishes have waited 3600 s to reach the search index"),
    (_forgotten_job, "jobs", "a job has been due for 7200 s"),
    (_damaged_index, "index", "the search index cannot be read"),
])
def test_a_degraded_instance_answers_503_naming_the_failing_check(client, instance, fault, failing, problem):
    fault(instance)
    response = client.get("/healthz")
    assert response.status_code == 503
    answer = response.get_json()
    assert answer["status"] == "degraded" and answer["failing"] == [failing]
    assert answer["checks"][failing]["problem"].startswith(problem)
    assert str(instance.path) not in response.get_data(as_text=True)  # no paths, no secrets


def test_every_response_carries_the_security_headers(client):
    for url in ("http://px.test/healthz", f"{HTTPS}/", f"{HTTPS}/api/v1/search?q=flood", f"{HTTPS}/no-such-page"):
        headers = client.get(url).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY" and "camera=()" in headers["Permissions-Policy"]
        assert ("Strict-Transport-Security" in headers) == url.startswith("https:"), url
        json_answer = "healthz" in url or "/api/" in url
        assert ("default-src 'none'" in headers["Content-Security-Policy"]) == json_answer, url


def test_behind_a_trusted_proxy_links_use_the_scheme_it_was_asked_with(app, client, make_practice):
    from exchange.library import publishing

    publishing.publish(app.extensions["exchange"], make_practice(), "flood-warning", "t")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = client.get("/api/v1/practices/jakarta/flood-warning", headers=forwarded)
    assert direct.get_json()["url"] == "http://px.test/practices/jakarta/flood-warning"  # not trusted by default
    assert "Strict-Transport-Security" not in direct.headers
    proxied_app = create_app({"INSTANCE": app.instance_path, "TESTING": True, "SERVER_NAME": "px.test",
                              "DATABASE_URL": app.config["DATABASE_URL"], "TRUSTED_PROXIES": 1})
    try:
        proxied = proxied_app.test_client().get("/api/v1/practices/jakarta/flood-warning", headers=forwarded)
        assert proxied.get_json()["url"] == "https://px.test/practices/jakarta/flood-warning"
        assert "Strict-Transport-Security" in proxied.headers
    finally:
        close(proxied_app)


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    """Every log line written while the test runs, as the JSON objects ``exchange serve`` writes."""
    stream = io.StringIO()
    handler = request_log.handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_requests_log_lines_share_its_id(client, instance, log_lines):
    _damaged_index(instance)  # the health check then logs a warning inside the request
    response = client.get("/healthz?key=s3cret-share-key", headers={"X-Request-Id": "bad id\" forged=\"yes"})
    request_id = response.headers["X-Request-Id"]
    assert request_id and "forged" not in request_id
    lines = [line for line in log_lines() if line["request_id"] == request_id]
    assert {line["logger"] for line in lines} == {"exchange.requests", "exchange.health"}
    (request_line,) = [line for line in lines if line["logger"] == "exchange.requests"]
    assert request_line["method"] == "GET" and request_line["path"] == "/healthz" and request_line["status"] == 503
    assert request_line["duration_ms"] >= 0 and request_line["user_id"] is None and request_line["time"]
    assert "s3cret" not in json.dumps(log_lines())
    again = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.42"})
    assert again.headers["X-Request-Id"] == "lb-7f3a.42"
    assert [line["request_id"] for line in log_lines() if line["logger"] == "exchange.requests"][-1] == "lb-7f3a.42"


def test_a_secret_in_the_path_is_not_logged(client, log_lines):
    client.get(f"{HTTPS}/invitations/inv1tati0n-t0ken")
    (line,) = [line for line in log_lines() if line["logger"] == "exchange.requests"]
    assert line["path"] == "/invitations/…" and "inv1tati0n" not in json.dumps(log_lines())
