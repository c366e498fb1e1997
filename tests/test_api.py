"""API v1 beyond search: personal tokens, scopes, audit, rate limits, cursor paging, versions, submissions,
and the OpenAPI document checked against the routes and by schemathesis."""

from __future__ import annotations

import datetime
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.test import stream_encode_multipart

from exchange.accounts import api_calls
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.app import create_app
from exchange.background import run_pending
from exchange.library import publishing
from exchange.models import ApiCallCount
from exchange.models import ApiToken
from exchange.models import AuditEntry
from exchange.models import PracticeRecord
from exchange.models import Submission
from exchange.models import utcnow
from exchange.review import submissions
from tests.conftest import close
from tests.conftest import exchange_environment
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import _token_in
from tests.test_accounts import post
from tests.test_accounts import sign_in

IN_A_MONTH = datetime.date.today() + datetime.timedelta(days=30)
HOUR = datetime.timedelta(hours=1)


def add_people(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "siti@jakarta.example", "Siti", ["contributor"], ["jakarta"], "t", PASSWORD)
    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    return people.by_id(instance, 1), people.by_id(instance, 2)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token(instance, user_id: int = 1, scopes=("read", "submit")) -> str:  # type: ignore[no-untyped-def]
    return tokens.create(instance, user_id, "script", list(scopes), IN_A_MONTH)[1]


def files(*named: tuple[str, bytes]) -> dict:
    return {"files": [(io.BytesIO(content), name) for name, content in named]}


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def submitted(instance) -> list[Submission]:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return list(session.scalars(sa.select(Submission).order_by(Submission.id)))


def audit_rows(instance) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


# Tokens


def test_a_token_is_made_on_the_account_page_shown_once_used_and_revoked(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(visibility="partners"), "flood-warning", "t")
    browser = app.test_client()
    sign_in(browser, "siti@jakarta.example")
    page = browser.get(HTTPS + "/account/tokens").get_data(as_text=True)
    assert IN_A_MONTH.isoformat() not in page and 'max="' in page  # a default (90 days) and a maximum
    made = post(browser, "/account/tokens", {"csrf_token": _token_in(page), "name": "Nightly sync",
                                              "scopes": ["read"], "expires": IN_A_MONTH.isoformat()})
    assert made.status_code == 200 and "no-store" in made.headers["Cache-Control"]
    secret = re.search(r'id="new-token">(pxt_[^<]+)<', made.get_data(as_text=True)).group(1)
    again = browser.get(HTTPS + "/account/tokens").get_data(as_text=True)
    assert secret not in again and "Nightly sync" in again
    with instance.db.session() as session:
        row = session.scalars(sa.select(ApiToken)).one()
    assert row.token_hash == tokens.digest(secret) and secret not in repr(vars(row))  # stored hashed only

    caller = app.test_client()
    assert caller.get("/api/v1/practices/jakarta/flood-warning").status_code == 404  # anonymous: public only
    found = caller.get("/api/v1/practices/jakarta/flood-warning", headers=bearer(secret))
    assert found.status_code == 200 and found.get_json()["visibility"] == "partners"  # as Siti, a partner
    assert found.headers["Cache-Control"] == "private, no-store" and "Authorization" in found.headers["Vary"]
    assert "never" not in browser.get(HTTPS + "/account/tokens").get_data(as_text=True)  # its last use shown

    page = browser.get(HTTPS + "/account/tokens").get_data(as_text=True)
    post(browser, f"/account/tokens/{row.id}/revoke", {"csrf_token": _token_in(page)})
    refused = caller.get("/api/v1/practices/jakarta/flood-warning", headers=bearer(secret))
    assert refused.status_code == 401 and refused.get_json() == {"error": "this token does not work: revoked"}
    assert "revoked" in browser.get(HTTPS + "/account/tokens").get_data(as_text=True)


def test_a_read_only_token_can_be_made_through_the_form_and_one_without_scopes_is_refused(app, instance):
    add_people(instance)
    browser = app.test_client()
    sign_in(browser, "siti@jakarta.example")
    page = browser.get(HTTPS + "/account/tokens?lang=id").get_data(as_text=True)
    checkboxes = re.findall(r'<input[^>]*name="scopes"[^>]*>', page)
    assert len(checkboxes) == 2 and not any("required" in box for box in checkboxes)  # a browser asks for neither
    refused = post(browser, "/account/tokens?lang=id", {"csrf_token": _token_in(page), "name": "Nothing",
                                                        "expires": IN_A_MONTH.isoformat()})
    assert refused.status_code == 400 and "pilih sekurang-kurangnya satu" in refused.get_data(as_text=True).lower()
    assert tokens.mine(instance, 1) == []
    made = post(browser, "/account/tokens", {"csrf_token": _token_in(page), "name": "Reader",
                                              "scopes": ["read"], "expires": IN_A_MONTH.isoformat()})
    assert made.status_code == 200 and [t.scopes for t in tokens.mine(instance, 1)] == [("read",)]


@pytest.mark.parametrize("days_ahead", [0, tokens.MAX_DAYS + 1], ids=["today", "past-the-longest"])
def test_a_token_past_the_longest_expiry_is_refused(app, instance, monkeypatch, days_ahead):
    add_people(instance)
    # The expiry is counted from the day tokens.create reads, not the day pytest collected this test (a run
    # crossing midnight made 'today + 366' the longest expiry, and valid): its clock is held at one instant.
    now = utcnow()
    monkeypatch.setattr(tokens, "utcnow", lambda: now)
    with pytest.raises(tokens.InvalidToken, match="expiry"):
        tokens.create(instance, 1, "script", ["read"], now.date() + datetime.timedelta(days=days_ahead))
    with pytest.raises(tokens.InvalidToken, match="scopes"):
        tokens.create(instance, 1, "script", ["write"], IN_A_MONTH)
    assert tokens.mine(instance, 1) == []


def test_expired_revoked_unknown_and_disabled_tokens_get_401_and_nothing_is_written(app, instance, make_practice):
    add_people(instance)
    client = app.test_client()
    expired, revoked, disabled = token(instance), token(instance), token(instance)
    with instance.db.writing() as session:
        session.execute(sa.update(ApiToken).where(ApiToken.token_hash == tokens.digest(expired))
                        .values(expires_at=datetime.datetime(2020, 1, 1)))
    tokens.revoke(instance, 1, 2)
    practice = files(("posko.md", make_practice(title="Posko")))
    for secret, reason in ((expired, "expired"), (revoked, "revoked"), ("pxt_" + "x" * 43, "unknown"),
                           ("not a token", "unknown")):
        response = client.post("/api/v1/submissions", data=files(("posko.md", make_practice())),
                               headers=bearer(secret))
        assert response.status_code == 401 and response.get_json()["error"].endswith(reason)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post("/api/v1/submissions", data=practice, headers={"Authorization": "Basic eDp5"}).status_code == 401
    people.disable(instance, "siti@jakarta.example", "rina@network.example")
    response = client.post("/api/v1/submissions", data=files(("posko.md", make_practice())), headers=bearer(disabled))
    assert response.status_code == 401 and response.get_json()["error"].endswith("account disabled")
    assert submitted(instance) == []
    # the refusals of known tokens are audited, by id
    assert [(r.action, r.detail["token"]) for r in audit_rows(instance) if r.action.startswith("api.")] == [
        ("api.refused", 1), ("api.refused", 2), ("api.refused", 3)]


def test_scopes_and_csrf(app, instance, make_practice):
    add_people(instance)
    client = app.test_client()
    reader, submitter = token(instance, scopes=["read"]), token(instance, scopes=["submit"])
    refused = client.post("/api/v1/submissions", data=files(("a.md", make_practice())), headers=bearer(reader))
    assert refused.status_code == 403 and "'submit'" in refused.get_json()["error"]
    assert client.get("/api/v1/practices", headers=bearer(submitter)).status_code == 403
    assert client.get("/api/v1/openapi.json", headers=bearer(submitter)).status_code == 200
    assert client.post("/api/v1/submissions", data=files(("a.md", make_practice()))).status_code == 401
    # A signed-in browser cannot submit through the API without a token (so the API needs no CSRF token) ...
    browser = app.test_client()
    sign_in(browser, "siti@jakarta.example")
    assert post(browser, "/api/v1/submissions", files(("a.md", make_practice()))).status_code == 401
    # ... and the web's own forms still need theirs.
    assert post(browser, "/contribute/upload", files(("a.md", make_practice()))).status_code == 400
    assert submitted(instance) == []
    reviewer_token = token(instance, user_id=2, scopes=["submit"])  # a reviewer who writes for no city
    assert client.post("/api/v1/submissions", data=files(("a.md", make_practice())),
                       headers=bearer(reviewer_token)).status_code == 403


# Submitting


def test_a_submission_through_the_api_lands_in_the_review_queue_with_a_report_per_file(app, instance, make_practice):
    _siti, rina = add_people(instance)
    secret = token(instance)
    # The body encoded here: the test client spools a large one to a file that it never closes.
    body, _length, boundary = stream_encode_multipart(MultiDict([("files", FileStorage(io.BytesIO(c), n)) for n, c in (
        ("posko.md", make_practice(title="Posko banjir")),
        ("tokyo.md", make_practice(city="tokyo", country="JP")),
        ("notes.txt", b"hello"),
        ("bundle.zip", zipped({"jakarta/a.md": make_practice(title="A"), "jakarta/b.md": make_practice(kind="memo")})),
        ("evil.zip", zipped({"../../app.md": make_practice()})),
        ("huge.md", b"x" * (submissions.MAX_UPLOAD_BYTES + 1)),
    )]), use_tempfile=False)
    response = app.test_client().post("/api/v1/submissions", headers=bearer(secret), data=body.getvalue(),
                                      content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    report = {entry["file"]: entry for entry in response.get_json()["files"]}
    assert report["posko.md"]["status"] == "submitted" and report["posko.md"]["practice"] == "jakarta/posko"
    assert report["posko.md"]["url"] == f"http://px.test/submissions/{report['posko.md']['submission']}"
    assert report["bundle.zip: jakarta/a.md"]["status"] == "submitted"
    assert report["tokyo.md"] == {"file": "tokyo.md", "status": "refused", "practice": None, "submission": None,
                                  "url": None, "problems": ["city: you do not write for 'tokyo'"]}
    assert "only Markdown (.md) files" in report["notes.txt"]["problems"][0]
    assert "'memo' is not a known kind" in " ".join(report["bundle.zip: jakarta/b.md"]["problems"])
    assert report["huge.md"]["problems"] == ["larger than the 10 MB upload limit"]
    assert "would be written outside the library" in str([e["problems"] for f, e in report.items() if "evil" in f])
    queue = submissions.queue(instance, rina)
    assert sorted(waiting.practice_id for waiting in queue) == ["jakarta/a", "jakarta/posko"]
    assert {s.status for s in submitted(instance)} == {"submitted"}
    reviewer = app.test_client()  # the reviewer reads how the text came, in their language
    sign_in(reviewer, "rina@network.example")
    page = reviewer.get(HTTPS + f"/submissions/{report['posko.md']['submission']}?lang=ja").get_data(as_text=True)
    assert "API 経由で投稿(posko.md)" in page and "uploaded" not in page
    nothing = app.test_client().post("/api/v1/submissions", headers=bearer(secret), data={})
    assert nothing.status_code == 400 and "files" in nothing.get_json()["error"]


# Audit and rate limits


def test_every_call_with_a_token_is_audited_by_its_id_never_its_secret(app, instance):
    add_people(instance)
    secret = token(instance)
    client = app.test_client()
    client.get("/api/v1/cities", headers=bearer(secret))
    client.get("/api/v1/practices/jakarta/nothing", headers=bearer(secret))
    client.get("/api/v1/cities")  # anonymous: not audited
    calls = [(r.actor, r.action, r.target, r.detail) for r in audit_rows(instance) if r.action.startswith("api.")]
    assert calls == [
        ("siti@jakarta.example", "api.call", "/api/v1/cities", {"token": 1, "method": "GET", "status": 200}),
        ("siti@jakarta.example", "api.refused", "/api/v1/practices/jakarta/nothing",
         {"token": 1, "method": "GET", "status": 404})]
    assert all(secret not in f"{r.target} {r.detail}" for r in audit_rows(instance))
    assert ("siti@jakarta.example", "token.create", "token:1") in [(r.actor, r.action, r.target)
                                                                     for r in audit_rows(instance)]


def test_calls_are_limited_per_token_and_per_address(app, instance):
    add_people(instance)
    app.config.update(API_CALLS_PER_MINUTE=3, API_ANONYMOUS_CALLS_PER_MINUTE=2)
    client = app.test_client()

    def calls(attempt: int) -> tuple[list[int], int, int, str]:
        first, second = token(instance), token(instance)  # fresh counts for each attempt
        address = {"REMOTE_ADDR": f"192.0.2.{attempt}"}
        statuses = [client.get("/api/v1/cities", headers=bearer(first)).status_code for _ in range(4)]
        statuses += [client.get("/api/v1/cities", headers=bearer(second)).status_code]  # each token its own count
        statuses += [client.get("/api/v1/cities", environ_base=address).status_code for _ in range(3)]
        statuses += [client.get("/api/v1/cities", environ_base={"REMOTE_ADDR": f"198.51.100.{attempt}"}).status_code]
        limited = client.get("/api/v1/cities", headers=bearer(first))
        error = limited.get_json().get("error", "")
        return statuses, limited.status_code, int(limited.headers.get("Retry-After", 0)), error

    # Counts are kept per minute: what a minute's turn cut in two is asked again (its last call may then pass).
    for attempt in range(1, 10):
        minute = datetime.datetime.now().minute
        statuses, status, retry_after, error = calls(attempt)
        if datetime.datetime.now().minute == minute:
            break
    assert statuses == [200, 200, 200, 429, 200, 200, 200, 429, 200]
    assert status == 429 and 1 <= retry_after <= 60 and "3 calls a minute" in error


@pytest.fixture
def workers(app, instance, database_url, monkeypatch):  # type: ignore[no-untyped-def]
    """Two app objects on one instance, as two workers of ``exchange serve`` are, with the API's limits low
    and a clock the test moves (10 s into a minute)."""
    second = create_app({"INSTANCE": instance.path, "TESTING": True, "SERVER_NAME": "px.test",
                         "DATABASE_URL": database_url})
    clock = [utcnow().replace(second=10, microsecond=0)]
    monkeypatch.setattr(api_calls, "utcnow", lambda: clock[0])
    monkeypatch.setattr(tokens, "utcnow", lambda: clock[0])
    for each in (app, second):
        each.config.update(API_CALLS_PER_MINUTE=4, API_ANONYMOUS_CALLS_PER_MINUTE=3)
    yield app.test_client(), second.test_client(), clock
    close(second)


def limits(response) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    """The status and what X-RateLimit-Limit, -Remaining, -Used and -Reset say."""
    return (response.status_code, *(int(response.headers[f"X-RateLimit-{name}"])
                                    for name in ("Limit", "Remaining", "Used", "Reset")))


def test_workers_share_one_count_per_address_and_a_new_minute_admits_again(workers):
    first, second, clock = workers
    office = {"REMOTE_ADDR": "192.0.2.7"}
    reset = int((clock[0].replace(second=0) + datetime.timedelta(minutes=1) - datetime.datetime(1970, 1, 1))
                .total_seconds())
    assert limits(first.get("/api/v1/cities", environ_base=office)) == (200, 3, 2, 1, reset)
    assert limits(second.get("/api/v1/search?q=flood", environ_base=office)) == (200, 3, 1, 2, reset)
    assert limits(first.get("/api/v1/vocabularies", environ_base=office)) == (200, 3, 0, 3, reset)
    for client in (second, first):  # the limit is spent: refused by either worker
        refused = client.get("/api/v1/cities", environ_base=office)
        assert limits(refused)[:3] == (429, 3, 0) and refused.headers["Retry-After"] == "50"
    error = refused.get_json()["error"]
    assert error.startswith("more than 3 calls a minute from this address; try again in 50 s.")
    assert "counted per token, 4 a minute each" in error and "http://px.test/account/tokens" in error
    assert "API_ANONYMOUS_CALLS_PER_MINUTE" in error
    assert limits(second.get("/api/v1/cities", environ_base={"REMOTE_ADDR": "198.51.100.1"}))[:3] == (200, 3, 2)
    clock[0] += datetime.timedelta(seconds=49)  # still this minute
    assert second.get("/api/v1/cities", environ_base=office).headers["Retry-After"] == "1"
    clock[0] += datetime.timedelta(seconds=1)  # the next minute starts the count again
    assert limits(second.get("/api/v1/cities", environ_base=office)) == (200, 3, 2, 1, reset + 60)


def test_a_tokens_count_is_shared_by_workers_and_its_refusal_says_so(workers, instance):
    first, second, _clock = workers
    add_people(instance)
    secret = token(instance)
    statuses = [limits(client.get("/api/v1/cities", headers=bearer(secret)))[:4]
                for client in (first, second, first, second, first)]
    assert statuses == [(200, 4, 3, 1), (200, 4, 2, 2), (200, 4, 1, 3), (200, 4, 0, 4), (429, 4, 0, 5)]
    error = second.get("/api/v1/cities", headers=bearer(secret)).get_json()["error"]
    assert error.startswith("more than 4 calls a minute with this token; try again in 50 s.")
    assert "counted per token" in error and "API_CALLS_PER_MINUTE" in error
    lacking = first.get("/api/v1/cities", headers=bearer(token(instance, scopes=("submit",))))
    assert limits(lacking)[:4] == (403, 4, 3, 1)  # a counted call, even refused, says where it stands
    assert "X-RateLimit-Limit" not in first.get("/api/v1/cities", headers=bearer("pxt_" + "x" * 43)).headers


def test_an_ipv6_caller_is_counted_by_its_64_block(workers):
    first, second, _clock = workers
    block = [{"REMOTE_ADDR": f"2001:db8:7:1::{n:x}"} for n in range(1, 5)]
    assert [first.get("/api/v1/cities", environ_base=address).status_code for address in block] == [
        200, 200, 200, 429]
    assert second.get("/api/v1/cities", environ_base={"REMOTE_ADDR": "2001:db8:7:2::1"}).status_code == 200


def test_a_callers_old_minutes_go_at_once_and_those_of_callers_gone_quiet_with_the_hourly_purge(workers, instance):
    first, _second, clock = workers
    with instance.db.writing() as session:  # a caller gone quiet an hour ago
        session.add(ApiCallCount(key="address:192.0.2.9", window=clock[0].replace(second=0) - HOUR, calls=5))
    first.get("/api/v1/cities", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    clock[0] += datetime.timedelta(minutes=1)
    first.get("/api/v1/cities", environ_base={"REMOTE_ADDR": "192.0.2.1"})  # a new minute: its last one goes
    first.get("/api/v1/cities", environ_base={"REMOTE_ADDR": "192.0.2.2"})

    def kept() -> list[tuple[str, datetime.datetime]]:
        with instance.db.session() as session:
            return [(row.key, row.window) for row in session.scalars(
                sa.select(ApiCallCount).order_by(ApiCallCount.key, ApiCallCount.window))]

    minute = clock[0].replace(second=0)
    assert kept() == [("address:192.0.2.1", minute), ("address:192.0.2.2", minute),
                      ("address:192.0.2.9", minute - datetime.timedelta(minutes=1) - HOUR)]
    run_pending(instance)
    run_pending(instance, now=utcnow() + 2 * HOUR)  # the hourly purge is due
    assert kept() == [("address:192.0.2.1", minute), ("address:192.0.2.2", minute)]


#: a call to the API in a process of its own, as another worker or node of the instance makes it
ANOTHER_PROCESS = """
import json, sys
from exchange.app import create_app
from exchange.background import run_pending
app = create_app()
app.config.update(SERVER_NAME="px.test")
answer = app.test_client().get("/api/v1/cities", environ_base={"REMOTE_ADDR": sys.argv[1]})
print(json.dumps([answer.status_code, answer.headers.get("X-RateLimit-Remaining")]))
"""


def test_a_client_that_spent_its_limit_in_one_process_is_refused_by_another(app, instance, database_url):
    app.config.update(API_ANONYMOUS_CALLS_PER_MINUTE=2)
    environment = {**exchange_environment(instance.path, database_url), "EXCHANGE_API_ANONYMOUS_CALLS_PER_MINUTE": "2"}
    client = app.test_client()
    # Counts are kept per minute: what a minute's turn cut in two is asked again.
    for attempt in range(1, 10):
        minute, address = utcnow().minute, f"192.0.2.{attempt}"
        here = [client.get("/api/v1/cities", environ_base={"REMOTE_ADDR": address}).status_code for _ in range(2)]
        there = json.loads(subprocess.run([sys.executable, "-c", ANOTHER_PROCESS, address], env=environment,
                                          cwd=Path(__file__).parent.parent, capture_output=True, text=True,
                                          check=True).stdout)
        again = client.get("/api/v1/cities", environ_base={"REMOTE_ADDR": address}).status_code
        if utcnow().minute == minute:
            break
    assert (here, there, again) == ([200, 200], [429, "0"], 429)


# Reading


def test_cursor_paging_lists_every_public_practice_once_while_others_publish(app, instance, make_practice):
    for slug in ("a", "c", "e", "g", "i"):
        publishing.publish(instance, make_practice(title=slug.upper()), slug, "t")
    publishing.publish(instance, make_practice(visibility="partners"), "b-restricted", "t")
    client = app.test_client()
    seen: list[str] = []
    page = client.get("/api/v1/practices?per_page=2&hazard=riverine-flood").get_json()
    while True:
        seen += [practice["id"] for practice in page["practices"]]
        if len(seen) == 2:  # meanwhile: a new version of a listed practice, and new practices before and after
            publishing.publish(instance, make_practice(title="A again"), "a", "t")
            publishing.publish(instance, make_practice(), "b", "t")
            publishing.publish(instance, make_practice(), "z", "t")
        if page["next"] is None:
            assert page["cursor"] is None
            break
        assert page["next"].startswith("http://px.test/api/v1/practices?") and "hazard=riverine-flood" in page["next"]
        page = client.get(page["next"]).get_json()
    assert seen == ["jakarta/a", "jakarta/c", "jakarta/e", "jakarta/g", "jakarta/i", "jakarta/z"]
    tokyo = client.get("/api/v1/practices?city=tokyo").get_json()
    assert tokyo == {"practices": [], "per_page": 20, "cursor": None, "next": None}


def test_the_list_covers_every_public_practice_and_refuses_a_bad_cursor(library_app, library_client):
    listed: list[str] = []
    url = "/api/v1/practices?per_page=7"
    while url:
        page = library_client.get(url).get_json()
        listed += [practice["id"] for practice in page["practices"]]
        url = page["next"]
    found = library_client.get("/api/v1/search?per_page=100").get_json()["results"]
    with library_app.extensions["exchange"].db.session() as session:
        public = list(session.scalars(sa.select(PracticeRecord.id).where(PracticeRecord.visibility == "public")
                                      .order_by(PracticeRecord.id)))
    assert listed == public and len(public) == 44  # each translation too: search shows them grouped, as 35
    assert {r["id"] for r in found} < set(listed)
    tsunami = library_client.get("/api/v1/practices?q=tsunami&language=en").get_json()["practices"]
    searched = library_client.get("/api/v1/search?q=tsunami&language=en&per_page=100").get_json()["results"]
    assert [p["id"] for p in tsunami] == sorted(r["id"] for r in searched)
    assert tsunami and all(p["language"] == "en" for p in tsunami)
    for cursor in ("nonsense", "eyJhZnRlciI6IDF9", "eyJhZnRlciI6ICIuLi8uLi9ldGMifQ"):  # {"after": 1}, "../../etc"
        bad = library_client.get(f"/api/v1/practices?cursor={cursor}")
        assert bad.status_code == 400 and bad.get_json()["error"].startswith("cursor is not one this API gave out")
    assert library_client.get("/api/v1/practices?hazard=lava").status_code == 400


def test_a_practice_with_its_versions_keeps_a_restricted_version_unreadable(app, instance, make_practice):
    add_people(instance)
    publishing.publish(instance, make_practice(title="Public one"), "flood-warning", "t", note="first")
    publishing.publish(instance, make_practice(title="Partners only", visibility="partners",
                                               body="Secret steps.\n"), "flood-warning", "t")
    publishing.publish(instance, make_practice(title="Public again"), "flood-warning", "t")
    anonymous = app.test_client().get("/api/v1/practices/jakarta/flood-warning").get_json()
    assert anonymous["title"] == "Public again" and anonymous["version"] == 3
    assert [(v["version"], v["readable"]) for v in anonymous["versions"]] == [(3, True), (2, False), (1, True)]
    assert set(anonymous["versions"][1]) == {"version", "published_at", "readable"}
    assert "Secret" not in str(anonymous) and "Partners only" not in str(anonymous)
    assert anonymous["versions"][2]["metadata"]["title"] == "Public one" and anonymous["versions"][2]["note"] == "first"
    partner = app.test_client().get("/api/v1/practices/jakarta/flood-warning", headers=bearer(token(instance)))
    restricted = partner.get_json()["versions"][1]
    assert restricted["readable"] and restricted["markdown"] == "Secret steps.\n"


def test_cities_and_vocabularies(library_client):
    cities = library_client.get("/api/v1/cities").get_json()["cities"]
    jakarta = next(city for city in cities if city["slug"] == "jakarta")
    assert jakarta["country"] == "ID" and set(jakarta["names"]) == {"en", "id", "ja"}
    assert jakarta["url"] == "http://px.test/cities/jakarta"
    vocabularies = library_client.get("/api/v1/vocabularies").get_json()
    assert {"hazard", "kind", "phase", "sendai_priority", "visibility", "language", "license"} <= set(vocabularies)
    flood = next(t for t in vocabularies["hazard"]["terms"] if t["key"] == "riverine-flood")
    assert flood["code"] == "MH0604" and flood["labels"]["ja"] == "河川洪水"
    assert vocabularies["hazard"]["field"] == "hazards"


# The OpenAPI document


def test_every_api_route_is_in_the_openapi_document(library_app, library_client):
    document = library_client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "http://px.test"}]
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule): rule.methods - {"HEAD", "OPTIONS"}
              for rule in library_app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    documented = {path: {method.upper() for method in operations} for path, operations in document["paths"].items()}
    assert routes == documented
    for path, operations in document["paths"].items():
        for operation in operations.values():
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert in_path == set(re.findall(r"{(\w+)}", path))
            assert {"401", "403", "429"} <= set(operation["responses"])
