"""Accounts and sessions: the A- and AU-rows of reference/threats.md that exist before contributions."""

from __future__ import annotations

import datetime
import logging
import re
import subprocess
import threading

import pytest
import sqlalchemy as sa

from exchange.accounts import devices
from exchange.accounts import passwords
from exchange.accounts import people
from exchange.accounts import tokens
from exchange.library import publishing
from exchange.models import AuditEntry
from exchange.models import KnownDevice
from exchange.models import LoginFailure
from exchange.models import User
from tests.conftest import exchange_environment

PASSWORD = "rainy season levee walk"
HTTPS = "https://px.test"
DEVICE = "__Host-px-device"


@pytest.fixture
def staff(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "siti@bpbd.example", "Siti Rahma", ["contributor"], ["jakarta"], "test", PASSWORD)
    return "siti@bpbd.example"


def csrf_token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    return _token_in(client.get(HTTPS + path).get_data(as_text=True))


def _token_in(page: str) -> str:
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None, **environ):  # type: ignore[no-untyped-def]
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return post(client, path, {"email": email, "password": password, "csrf_token": csrf_token(client)},
                **({"environ_base": environ} if environ else {}))


def post(client, path: str, data: dict, **kwargs):  # type: ignore[no-untyped-def]
    """A same-site form post, as a browser sends it (with a Referer: CSRF checks it over HTTPS)."""
    headers = {"Referer": HTTPS + "/", **kwargs.pop("headers", {})}
    return client.post(HTTPS + path, data=data, headers=headers, **kwargs)


def signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return "Sign out" in client.get(HTTPS + "/").get_data(as_text=True)


def test_sign_in_and_out(client, staff):
    assert not signed_in(client)
    response = sign_in(client, staff)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert signed_in(client)
    assert post(client, "/logout", {"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert not signed_in(client)


def test_cookie_flags(client, staff):
    response = sign_in(client, staff)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-px-session", "__Host-px-device"}
    for name, same_site in (("__Host-px-session", "Lax"), ("__Host-px-device", "Strict")):
        for flag in ("Secure", "HttpOnly", f"SameSite={same_site}", "Path=/"):
            assert flag in cookies[name]
        assert "Domain=" not in cookies[name]
    assert "Max-Age=15552000" in cookies["__Host-px-device"]  # 180 days; renewed at every sign-in


def test_unknown_account_and_wrong_password_look_the_same(client, staff):
    wrong = sign_in(client, staff, "not the right password")
    unknown = sign_in(client, "nobody@example.org", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert "The e-mail or password is not right." in wrong.get_data(as_text=True)
    def normal(page: str) -> str:
        return re.sub(r'value="[^"]*"', 'value=""', page.replace("nobody@example.org", staff))

    assert normal(wrong.get_data(as_text=True)) == normal(unknown.get_data(as_text=True))


def test_failed_sign_ins_are_throttled_per_account_with_retry_after(client, staff):
    for n in range(people.MAX_FAILURES_PER_ACCOUNT):
        assert sign_in(client, staff, "wrong password", REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    throttled = sign_in(client, staff, PASSWORD, REMOTE_ADDR="10.0.0.99")  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert not signed_in(client)


def test_failed_sign_ins_are_throttled_per_client_and_forwarded_for_is_ignored(client, instance, staff):
    for n in range(people.MAX_FAILURES_PER_CLIENT):
        response = post(client, "/login", {"email": f"user{n}@example.org", "password": "x" * 12,
                                                        "csrf_token": csrf_token(client)},
                                headers={"X-Forwarded-For": f"1.2.3.{n}"})
        assert response.status_code == 401
    response = post(client, "/login", {"email": staff, "password": PASSWORD,
                                                    "csrf_token": csrf_token(client)},
                           headers={"X-Forwarded-For": "9.9.9.9"})
    assert response.status_code == 429



def sign_out(client) -> None:  # type: ignore[no-untyped-def]
    post(client, "/logout", {"csrf_token": csrf_token(client)})


def time_passes(instance, delta: datetime.timedelta) -> None:  # type: ignore[no-untyped-def]
    """As if ``delta`` went by: every recorded sign-in failure moves that far into the past."""
    with instance.db.writing() as session:
        for failure in session.scalars(sa.select(LoginFailure)):
            failure.at -= delta


def attack(app, email: str, rounds: int = 1, first_address: int = 0) -> list[int]:  # type: ignore[no-untyped-def]
    """Wrong passwords for ``email`` from a fresh browser and a new address each time; the statuses."""
    return [sign_in(app.test_client(), email, "wrong password", REMOTE_ADDR=f"203.0.113.{first_address + n}")
            .status_code for n in range(rounds)]


def test_an_attacker_cannot_lock_the_owner_out_of_a_browser_they_signed_in_from(app, instance, staff):
    owner = app.test_client()
    assert sign_in(owner, staff).status_code == 302
    sign_out(owner)
    for window in range(4):  # an hour of attack: five or more failures every window, from 20 addresses
        statuses = attack(app, staff, rounds=5, first_address=window * 5)
        if window == 0:
            assert statuses == [401] * 5
        else:  # the progressive delay: one guess after the window's wait, then waiting again
            assert statuses == [401] + [429] * 4
        stranger = sign_in(app.test_client(), staff, REMOTE_ADDR="198.51.100.1")  # the right password
        assert stranger.status_code == 429 and int(stranger.headers["Retry-After"]) > 0
        assert sign_in(owner, staff).status_code == 302 and signed_in(owner)
        sign_out(owner)
        time_passes(instance, people.THROTTLE_WINDOW)


@pytest.mark.parametrize("cookie", ["another account's", "forged", "tampered", "expired", "from before disabling"])
def test_only_a_valid_device_cookie_for_the_same_account_is_spared(app, instance, staff, cookie):
    people.create_user(instance, "budi@bpbd.example", "Budi Santoso", ["reader"], [], "test", PASSWORD)
    browser = app.test_client()
    if cookie == "another account's":
        sign_in(browser, "budi@bpbd.example")
    elif cookie == "forged":
        browser.set_cookie(DEVICE, tokens.new(), domain="px.test")
    else:
        sign_in(browser, staff)
    if cookie == "tampered":
        value = browser.get_cookie(DEVICE, domain="px.test").value
        browser.set_cookie(DEVICE, value[:-1] + ("A" if value[-1] != "A" else "B"), domain="px.test")
    elif cookie == "expired":
        with instance.db.writing() as session:
            session.execute(sa.update(KnownDevice).values(expires_at=KnownDevice.expires_at - devices.LIFETIME))
    elif cookie == "from before disabling":  # the account is disabled, and (say) the flag is set back by hand
        people.disable(instance, staff, "admin@example.org")
        with instance.db.writing() as session:
            session.execute(sa.update(User).where(User.email == staff).values(active=True))
    sign_out(browser)
    attack(app, staff, rounds=people.MAX_FAILURES_PER_ACCOUNT)
    throttled = sign_in(browser, staff)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert not signed_in(browser)


def test_a_password_change_forgets_every_device(app, instance, staff):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, staff)
    sign_in(phone, staff)
    new_password = "monsoon gauge relay drill"
    response = post(laptop, "/account/password", {"current": PASSWORD, "password": new_password,
                                                  "csrf_token": csrf_token(laptop, "/account/password")})
    assert response.status_code == 302
    sign_out(laptop)
    attack(app, staff, rounds=people.MAX_FAILURES_PER_ACCOUNT)
    assert sign_in(phone, staff, new_password).status_code == 429  # its cookie named the old password's device
    assert sign_in(laptop, staff, new_password).status_code == 302  # the change gave the laptop a new one


def test_a_known_device_has_its_own_limit(app, instance, staff):
    mine, shared = app.test_client(), app.test_client()
    sign_in(mine, staff)
    sign_in(shared, staff)
    sign_out(shared)
    for _ in range(people.MAX_FAILURES_PER_DEVICE):
        assert sign_in(shared, staff, "wrong password").status_code == 401
    throttled = sign_in(shared, staff)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    sign_out(mine)
    assert sign_in(mine, staff).status_code == 302  # another device of the account is not held back
    assert sign_in(app.test_client(), staff).status_code == 302  # nor are unknown browsers, by the device's typos
    time_passes(instance, people.THROTTLE_WINDOW)
    assert sign_in(shared, staff).status_code == 302


def test_a_shared_browser_keeps_a_device_cookie_for_each_account(app, instance, staff):
    people.create_user(instance, "budi@bpbd.example", "Budi Santoso", ["reader"], [], "test", PASSWORD)
    office = app.test_client()
    for email in (staff, "budi@bpbd.example"):
        sign_in(office, email)
        sign_out(office)
    assert len(office.get_cookie(DEVICE, domain="px.test").value.split(".")) == 2
    for email in (staff, "budi@bpbd.example"):
        attack(app, email, rounds=people.MAX_FAILURES_PER_ACCOUNT)
        assert sign_in(office, email).status_code == 302
        sign_out(office)


def test_the_per_client_limit_applies_to_a_client_with_a_device_cookie_for_its_own_account(app, instance, staff):
    people.create_user(instance, "eko@bpbd.example", "Eko Prasetyo", ["reader"], [], "test", PASSWORD)
    insider = app.test_client()
    sign_in(insider, "eko@bpbd.example", REMOTE_ADDR="192.0.2.7")
    sign_out(insider)
    for n in range(people.MAX_FAILURES_PER_CLIENT):
        assert sign_in(insider, f"user{n}@example.org", "x" * 12, REMOTE_ADDR="192.0.2.7").status_code == 401
    throttled = sign_in(insider, staff, "wrong password", REMOTE_ADDR="192.0.2.7")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # The address is spent for strangers, but not for the account this browser knows (an office behind
    # one address keeps working while someone there guesses passwords).
    assert sign_in(insider, "eko@bpbd.example", REMOTE_ADDR="192.0.2.7").status_code == 302


def test_unknown_browsers_wait_longer_after_each_failure(instance, staff):
    start = datetime.datetime(2026, 12, 1, 8, 0)
    for _ in range(people.MAX_FAILURES_PER_ACCOUNT):
        assert people.authenticate(instance, staff, "wrong password", "203.0.113.1", now=start) is None
    waits = []
    now = start
    for n in range(6):
        with pytest.raises(people.Throttled) as throttled:
            people.authenticate(instance, staff, PASSWORD, f"203.0.113.{n + 2}", now=now)
        waits.append(throttled.value.retry_after)
        now += datetime.timedelta(seconds=throttled.value.retry_after)
        assert people.authenticate(instance, staff, "wrong password", f"203.0.113.{n + 2}", now=now) is None
    assert waits == [60, 120, 240, 480, 900, 900]  # one minute, doubling, at most 15 minutes
    later = now + people.ACCOUNT_MAX_DELAY
    assert people.authenticate(instance, staff, PASSWORD, "203.0.113.9", now=later) is not None


def test_a_flood_from_one_client_hashes_no_more_passwords_than_its_limit(instance, staff, monkeypatch):
    checked: list[str] = []
    monkeypatch.setattr(passwords, "verify", lambda password_hash, password: checked.append(password) or False)
    refused = 0
    for n in range(200):
        try:
            people.authenticate(instance, f"user{n}@example.org", "guess", "198.51.100.9")
        except people.Throttled:
            refused += 1
    assert len(checked) == people.MAX_FAILURES_PER_CLIENT and refused == 200 - len(checked)


def test_parallel_attempts_cannot_all_slip_past_the_client_limit(instance, staff, monkeypatch):
    reached, release, settled = [], threading.Event(), threading.Semaphore(0)

    def slow_verify(password_hash: str | None, password: str) -> bool:
        reached.append(password)
        settled.release()
        release.wait(30)  # every attempt is in flight at once
        return False

    def attempt(n: int) -> None:
        try:
            people.authenticate(instance, f"user{n}@example.org", "guess", "198.51.100.9")
        except people.Throttled:
            settled.release()

    monkeypatch.setattr(passwords, "verify", slow_verify)
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(people.MAX_FAILURES_PER_CLIENT + 10)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert settled.acquire(timeout=30)
    release.set()
    for thread in threads:
        thread.join(30)
    assert len(reached) == people.MAX_FAILURES_PER_CLIENT


def test_a_copied_session_cookie_stops_working_after_logout(app, staff):
    browser = app.test_client()
    sign_in(browser, staff)
    stolen = browser.get_cookie("__Host-px-session", domain="px.test").value
    post(browser, "/logout", {"csrf_token": csrf_token(browser, "/")})
    attacker = app.test_client()
    attacker.set_cookie("__Host-px-session", stolen, domain="px.test")
    assert not signed_in(attacker)


@pytest.mark.parametrize("how", ["password change", "disabled"])
def test_every_session_ends_after_password_change_or_disabling(app, instance, staff, how):
    first, second = app.test_client(), app.test_client()
    sign_in(first, staff)
    sign_in(second, staff)
    if how == "password change":
        token = csrf_token(first, "/account/password")
        response = post(first, "/account/password", {
            "current": PASSWORD, "password": "monsoon gauge relay drill", "csrf_token": token})
        assert response.status_code == 302
        assert signed_in(first)  # the person who changed it stays signed in, with a new session
    else:
        people.disable(instance, staff, "admin@example.org")
        assert not signed_in(first)
        assert sign_in(first, staff).status_code == 401
    assert not signed_in(second)


def test_session_is_renewed_at_sign_in(client, staff):
    client.get(HTTPS + "/login")
    before = client.get_cookie("__Host-px-session", domain="px.test")
    sign_in(client, staff)
    after = client.get_cookie("__Host-px-session", domain="px.test")
    assert after is not None and (before is None or before.value != after.value)


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "////evil.example", "/\\evil.example",
                                    "\\/evil.example", "javascript:alert(1)", "%2F%2Fevil.example",
                                    "https:evil.example", "/%09/evil.example", "/%5Cevil.example"])
def test_next_never_redirects_away(client, staff, target):
    response = sign_in(client, staff, next_url=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_keeps_a_local_path(client, staff):
    assert sign_in(client, staff, next_url="/practices?hazard=tsunami").headers["Location"] == \
        "/practices?hazard=tsunami"


def test_forms_need_a_csrf_token_and_logout_is_post_only(client, staff):
    assert post(client, "/login", {"email": staff, "password": PASSWORD}).status_code == 400
    sign_in(client, staff)
    assert client.post(HTTPS + "/logout").status_code == 400
    cross_site = post(client, "/logout", {"csrf_token": csrf_token(client, "/")},
                      headers={"Referer": "https://evil.example/"})  # a valid token, posted from another site
    assert cross_site.status_code == 400
    assert client.get(HTTPS + "/logout").status_code == 405
    assert signed_in(client)


@pytest.mark.parametrize("password", ["short", "password1234567", "siti.rahma.bpbd", "aaaaaaaaaaaaaaaa"])
def test_weak_passwords_are_refused(instance, password):
    with pytest.raises(Exception, match="characters|common|name|repeats"):
        people.create_user(instance, "new@example.org", "Siti Rahma", ["reader"], [], "test", password)


def test_invitation_link_sets_the_password_once(app, instance):
    token = people.create_user(instance, "budi@bpbd.example", "Budi", ["reader"], [], "test")
    client = app.test_client()
    page = client.get(f"{HTTPS}/invitations/{token}")
    assert page.status_code == 200
    token_field = _token_in(page.get_data(as_text=True))
    response = post(client, f"/invitations/{token}", {"password": PASSWORD, "csrf_token": token_field})
    assert response.status_code == 302 and signed_in(client)
    assert client.get_cookie(DEVICE, domain="px.test") is not None  # the link proved who is at this browser
    assert app.test_client().get(f"{HTTPS}/invitations/{token}").status_code == 404
    assert app.test_client().get(f"{HTTPS}/invitations/not-a-token").status_code == 404


def test_partner_staff_read_partners_only_practices_everywhere(client, instance, staff, make_practice):
    publishing.publish(instance, make_practice(visibility="partners", title="Internal radio channels"), "radio", "t")
    assert client.get(HTTPS + "/practices/jakarta/radio").status_code == 404
    assert client.get(HTTPS + "/api/v1/search?q=radio").get_json()["total"] == 0
    sign_in(client, staff)
    page = client.get(HTTPS + "/practices/jakarta/radio")
    assert page.status_code == 200 and "Internal radio channels" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store" and "Cookie" in page.headers["Vary"]
    assert client.get(HTTPS + "/api/v1/search?q=radio").get_json()["total"] == 1


def test_sign_ins_are_audited(client, instance, staff):
    sign_in(client, staff, "wrong password")
    sign_in(client, staff)
    with instance.db.session() as session:
        actions = list(session.scalars(sa.select(AuditEntry.action).where(AuditEntry.action.like("login.%"))))
    assert actions == ["login.failure", "login.success"]


def test_sign_ins_are_logged_one_line_each_with_who_where_and_outcome_but_no_secret(instance, staff, caplog):
    """Threats L-1 (a forged log line in the e-mail stays on its line) and L-2 (no password or token logged)."""
    caplog.set_level(logging.INFO, logger="exchange")
    forged = "x@example.org\n2026-01-01 INFO admin logged in\x1b[2J"
    assert people.authenticate(instance, forged, "guessed secret one", "198.51.100.7") is None
    assert people.authenticate(instance, staff, "guessed secret two", "198.51.100.8") is None
    signed = people.authenticate(instance, staff, PASSWORD, "198.51.100.9")
    assert signed is not None
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("exchange")]
    assert all("\n" not in line and "\x1b" not in line for line in lines), lines
    failures = [line for line in lines if "login.failure" in line]
    assert "198.51.100.7" in failures[0] and "\\n2026-01-01 info admin logged in\\x1b[2j" in failures[0]
    assert "198.51.100.8" in failures[1] and repr(staff) in failures[1]
    assert any("login.success" in line and "198.51.100.9" in line for line in lines)
    logged = "\n".join(lines)
    for secret in ("guessed secret", PASSWORD, signed.device_cookie):
        assert secret not in logged


def test_cli_creates_users_with_a_password_or_an_invitation(tmp_path, database_url):
    env = exchange_environment(tmp_path / "inst", database_url)
    subprocess.run(["exchange", "init", "--empty"], env=env, check=True, capture_output=True)
    created = subprocess.run(["exchange", "users", "create", "ayu@bpbd.example", "--name", "Ayu", "--role",
                              "contributor", "--role", "reviewer", "--city", "jakarta"],
                             env=env, input=PASSWORD + "\n", capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert "with the password given on standard input" in created.stdout
    invited = subprocess.run(["exchange", "users", "create", "dewi@bpbd.example", "--name", "Dewi", "--role",
                              "reader"], env=env, input="", capture_output=True, text=True)
    assert invited.returncode == 0 and "/invitations/" in invited.stdout
    weak = subprocess.run(["exchange", "users", "create", "eko@bpbd.example", "--name", "Eko", "--role", "reader"],
                          env=env, input="password\n", capture_output=True, text=True)
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    bad_city = subprocess.run(["exchange", "users", "create", "fajar@bpbd.example", "--name", "Fajar", "--role",
                               "contributor", "--city", "atlantis"], env=env, input="", capture_output=True, text=True)
    assert bad_city.returncode == 1 and "'atlantis' is not a partner city" in bad_city.stderr


def test_admins_filter_the_audit_log_and_download_it_as_csv(app, instance, staff):
    people.create_user(instance, "admin@network.example", "Admin", ["admin"], [], "test", PASSWORD)
    client, admin = app.test_client(), app.test_client()
    sign_in(client, staff, "wrong password")
    sign_in(client, staff)
    assert client.get(HTTPS + "/admin/audit").status_code == 404  # contributors do not see it
    sign_in(admin, "admin@network.example")
    page = admin.get(HTTPS + "/admin/audit?action=login.failure").get_data(as_text=True)
    entries = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "sign-in failed" in entries and "signed in" not in entries
    response = admin.get(HTTPS + "/admin/audit?format=csv&actor=client:")
    assert response.headers["Content-Disposition"] == "attachment; filename=audit-log.csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "at,actor,action,target,detail" and any(",login.failure,siti@bpbd.example," in x for x in lines)


def test_csv_cells_cannot_become_spreadsheet_formulas(instance):
    from exchange import audit
    with instance.db.writing() as session:
        audit.record(session, "=HYPERLINK(\"http://evil\")", "login.failure", "@SUM(1)")
    text = audit.as_csv(audit.entries(instance, action="login.failure"))
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text


def test_admins_invite_people_and_disable_them(app, instance, staff):
    people.create_user(instance, "admin@network.example", "Admin", ["admin"], [], "test", PASSWORD)
    admin, other = app.test_client(), app.test_client()
    sign_in(admin, "admin@network.example")
    sign_in(other, staff)
    assert other.get(HTTPS + "/admin/people").status_code == 404
    assert other.get(HTTPS + "/admin/").status_code == 404
    assert admin.get(HTTPS + "/admin/").headers["Location"].endswith("/admin/people")  # /admin's first page
    token = _token_in(admin.get(HTTPS + "/admin/people").get_data(as_text=True))
    page = post(admin, "/admin/people", {"email": "new@bpbd.example", "name": "Nur", "roles": ["contributor"],
                                         "cities": "jakarta", "csrf_token": token}).get_data(as_text=True)
    link = re.search(r"<code>(https?://[^<]+/invitations/[^<]+)</code>", page).group(1)
    assert link.startswith("http://127.0.0.1:5000/invitations/")  # the configured address, not the Host header
    assert app.test_client().get(HTTPS + link.split(":5000", 1)[1]).status_code == 200
    bad = post(admin, "/admin/people", {"email": "x@bpbd.example", "name": "X", "roles": ["contributor"],
                                        "cities": "atlantis", "csrf_token": token})
    assert bad.status_code == 400 and "is not a partner city" in bad.get_data(as_text=True)
    siti_id = [u.id for u, _ in people.everyone(instance) if u.email == staff][0]
    asked = post(admin, f"/admin/people/{siti_id}/disable", {"csrf_token": token})
    assert asked.status_code == 200 and "Disable the account of Siti Rahma?" in asked.get_data(as_text=True)
    assert signed_in(other)  # nothing happens before the admin confirms
    assert post(admin, f"/admin/people/{siti_id}/disable", {"csrf_token": token, "confirmed": "yes"}).status_code == 302
    assert not signed_in(other)


def _person_id(instance, email: str) -> int:  # type: ignore[no-untyped-def]
    return next(person.id for person in people.all_people(instance) if person.email == email)


@pytest.fixture
def admin(app, instance):  # type: ignore[no-untyped-def]
    """A signed-in administrator's client, and a CSRF token for its posts."""
    people.create_user(instance, "admin@network.example", "Dewi Admin", ["admin"], [], "test", PASSWORD)
    client = app.test_client()
    sign_in(client, "admin@network.example")
    return client, _token_in(client.get(HTTPS + "/admin/people").get_data(as_text=True))


def test_the_people_page_offers_roles_and_cities_as_checkboxes_by_name(admin, staff):
    client, _token = admin
    page = client.get(HTTPS + "/admin/people").get_data(as_text=True)
    assert '<input id="roles-0" name="roles" type="checkbox" value="reader">' in page
    assert re.search(r'<input id="cities-\d+" name="cities" type="checkbox" value="jakarta">', page)
    assert '<label for="cities-' in page and ">Jakarta</label>" in page  # the city's name, not its slug
    assert "<select" not in page.split("Invite someone", 1)[1]  # no ctrl-click multi-select
    indonesian = client.get(HTTPS + "/admin/people?lang=id").get_data(as_text=True)
    assert ">kontributor</label>" in indonesian


def test_admins_change_a_persons_roles_and_cities_and_it_is_audited(admin, instance, staff):
    client, token = admin
    siti = _person_id(instance, staff)
    response = post(client, f"/admin/people/{siti}", {"roles": ["contributor", "reviewer"],
                                                      "cities": ["jakarta", "kobe"], "csrf_token": token})
    assert response.status_code == 302
    person = people.person(instance, siti)
    assert person is not None and person.roles == ("contributor", "reviewer") and person.cities == ("jakarta", "kobe")
    page = client.get(HTTPS + f"/admin/people/{siti}").get_data(as_text=True)
    assert re.search(r'<input checked id="roles-\d" name="roles" type="checkbox" value="reviewer">', page)
    assert not re.search(r'<input checked id="roles-\d" name="roles" type="checkbox" value="reader">', page)
    assert "Saved the roles and cities of Siti Rahma." in page
    log = client.get(HTTPS + "/admin/audit?target=siti").get_data(as_text=True)
    entries = log.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "roles changed" in entries and "cities changed" in entries and "account created" in entries
    assert "Roles</span>: contributor → contributor, reviewer" in entries
    assert "Cities</span>: Jakarta → Jakarta, Kobe" in entries
    assert "{&#39;" not in entries and "{'" not in entries  # never a Python dict
    assert "Dewi Admin" in entries and "Siti Rahma" in entries  # people by their names
    japanese = client.get(HTTPS + "/admin/audit?target=siti&lang=ja").get_data(as_text=True)
    assert "役割の変更" in japanese and "役割</span>: 投稿者 → 投稿者、審査担当者" in japanese  # a Japanese list
    indonesian = client.get(HTTPS + "/admin/audit?target=siti&lang=id").get_data(as_text=True)
    assert "Peran</span>: kontributor → kontributor, penelaah" in indonesian
    table = client.get(HTTPS + "/admin/people?lang=ja").get_data(as_text=True).split("<tbody>", 1)[1]
    assert ">投稿者、審査担当者</td>" in table and "ジャカルタ、神戸" in table and "投稿者, " not in table
    table = client.get(HTTPS + "/admin/people?lang=en").get_data(as_text=True).split("<tbody>", 1)[1]
    assert ">contributor, reviewer</td>" in table and "Jakarta, Kobe" in table


def test_a_change_refused_says_why(admin, instance, staff):
    client, token = admin
    siti = _person_id(instance, staff)
    unknown = post(client, f"/admin/people/{siti}", {"roles": ["contributor"], "cities": ["atlantis"],
                                                     "csrf_token": token})
    assert unknown.status_code == 400 and "&#39;atlantis&#39; is not a partner city" in unknown.get_data(as_text=True)
    none = post(client, f"/admin/people/{siti}", {"cities": ["jakarta"], "csrf_token": token})
    assert none.status_code == 400 and "Choose at least one role." in none.get_data(as_text=True)
    assert people.person(instance, siti).roles == ("contributor",)  # type: ignore[union-attr]


def test_a_disabled_account_is_re_enabled_after_confirmation(admin, app, instance, staff):
    client, token = admin
    siti = _person_id(instance, staff)
    post(client, f"/admin/people/{siti}/disable", {"csrf_token": token, "confirmed": "yes"})
    other = app.test_client()
    assert not signed_in(other) and sign_in(other, staff).status_code != 302
    page = client.get(HTTPS + f"/admin/people/{siti}").get_data(as_text=True)
    assert "This account is disabled" in page and "Re-enable the account…" in page
    asked = post(client, f"/admin/people/{siti}/enable", {"csrf_token": token})
    assert "Re-enable the account of Siti Rahma?" in asked.get_data(as_text=True)
    assert not people.person(instance, siti).active  # type: ignore[union-attr]
    done = post(client, f"/admin/people/{siti}/enable", {"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 302
    assert sign_in(other, staff).status_code == 302 and signed_in(other)
    actions = [row.action for row in audit_entries(instance, staff)]
    assert actions[:2] == ["user.enable", "user.disable"]
    log = client.get(HTTPS + "/admin/audit?action=user.enable").get_data(as_text=True)
    assert "account re-enabled" in log.split("<tbody>", 1)[1]


def audit_entries(instance, target: str):  # type: ignore[no-untyped-def]
    from exchange import audit
    return [row for row in audit.entries(instance, target=target) if row.action.startswith("user.")]


def test_admins_cannot_lock_themselves_out(admin, instance):
    client, token = admin
    me = _person_id(instance, "admin@network.example")
    demoted = post(client, f"/admin/people/{me}", {"roles": ["reviewer"], "csrf_token": token})
    assert demoted.status_code == 400 and "lock yourself out" in demoted.get_data(as_text=True)
    disabled = post(client, f"/admin/people/{me}/disable", {"csrf_token": token, "confirmed": "yes"})
    assert disabled.status_code == 400 and "You cannot disable your own account." in disabled.get_data(as_text=True)
    assert people.person(instance, me).active and "admin" in people.person(instance, me).roles  # type: ignore[union-attr]
    indonesian = post(client, f"/admin/people/{me}?lang=id", {"roles": ["reviewer"], "csrf_token": token})
    assert "mengunci diri Anda sendiri" in indonesian.get_data(as_text=True)


def test_the_last_active_administrator_stays(instance):
    people.create_user(instance, "a@network.example", "A", ["admin"], [], "test", PASSWORD)
    people.create_user(instance, "b@network.example", "B", ["admin"], [], "test", PASSWORD)
    people.disable(instance, "b@network.example", "cli:operator")
    with pytest.raises(people.AccountError, match="last active administrator"):
        people.disable(instance, "a@network.example", "cli:operator")
    with pytest.raises(people.AccountError, match="last active administrator"):
        people.update_person(instance, _person_id(instance, "a@network.example"), ["reviewer"], [], "cli:operator")
    assert people.enable(instance, "b@network.example", "cli:operator")
    people.update_person(instance, _person_id(instance, "a@network.example"), ["reviewer"], [], "cli:operator")
    assert people.person(instance, _person_id(instance, "a@network.example")).roles == ("reviewer",)  # type: ignore[union-attr]


def test_only_administrators_change_accounts(instance, staff):
    siti = people.by_id(instance, _person_id(instance, staff))
    assert siti is not None
    with pytest.raises(people.AccountError, match="only an administrator"):
        people.update_person(instance, siti.id, ["admin"], [], siti)  # type: ignore[arg-type]


def test_the_audit_log_names_practices_by_their_titles(admin, instance, make_practice):
    client, _token = admin
    publishing.publish(instance, make_practice(title="Siren test plan"), "siren-test", "cli:operator")
    page = client.get(HTTPS + "/admin/audit?action=practice.publish").get_data(as_text=True)
    entries = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "practice published" in entries and "Siren test plan" in entries and "jakarta/siren-test" in entries


def test_the_audit_log_shows_sharing_exports_and_fingerprints_by_name(admin, instance, make_practice):
    from exchange import audit
    client, _token = admin
    publishing.publish(instance, make_practice(title="Siren test plan"), "siren-test", "cli:operator")
    with instance.db.writing() as session:  # as the pack services write them
        audit.record(session, "admin@network.example", "pack.share", "4", sharing="link")
        audit.record(session, "admin@network.example", "pack.share", "4", sharing="colleagues")
        audit.record(session, "admin@network.example", "pack.export", "4", format="zip", edition="trainer", job=9)
    said = {
        "en": ["Sharing</span>: read-only link", "Sharing</span>: named colleagues", "Edition</span>: trainer edition",
               "Format</span>: Markdown ZIP", "Export job</span>: 9", "Text fingerprint</span>: "],
        "id": ["Berbagi</span>: tautan hanya-baca", "Berbagi</span>: rekan kerja tertentu",
               "Edisi</span>: edisi pelatih", "Format</span>: Markdown ZIP", "Tugas ekspor</span>: 9",
               "Sidik jari teks</span>: "],
        "ja": ["共有</span>: 閲覧専用リンク", "共有</span>: 指定した職員", "版の種類</span>: 講師用",
               "形式</span>: Markdown ZIP", "出力ジョブ</span>: 9", "本文のハッシュ値</span>: "],
    }
    for language, phrases in said.items():
        page = client.get(HTTPS + f"/admin/audit?lang={language}").get_data(as_text=True)
        entries = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        for phrase in phrases:
            assert phrase in entries, (language, phrase)
        for raw in ("sha256", ": link", ": colleagues", ": trainer<", ": zip", "\"field\">job<"):
            assert raw not in entries, (language, raw)
        fingerprint = re.search(r"</span>: ([0-9a-f]+)…", entries)
        assert fingerprint and len(fingerprint.group(1)) == 12  # a version told apart, not a 64-digit hash


def test_the_audit_log_pages(admin, instance):
    from exchange import audit
    client, _token = admin
    with instance.db.writing() as session:
        for number in range(150):
            audit.record(session, "cli:operator", "city.add", f"city-{number:03d}", country="ID")
    first = client.get(HTTPS + "/admin/audit?action=city.add").get_data(as_text=True)
    assert "city-149" in first and "city-050" in first and "city-049" not in first and 'rel="next"' in first
    second = client.get(HTTPS + "/admin/audit?action=city.add&page=2").get_data(as_text=True)
    assert "city-049" in second and "city-000" in second and "city-050" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


def _recorded() -> list[tuple[str, str, set[str]]]:
    """Every ``audit.record(session, actor, action, …)`` call in exchange/: (where, its action, its detail keys);
    an action built at run time (``f"user.{reason}"``) is given as each value its callers pass."""
    import ast
    import pathlib

    import exchange
    built = {"submission.": ("approve", "request_changes", "reject", "comment"), "user.": ("logout",)}
    found = []
    for path in pathlib.Path(exchange.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"):
                continue
            where, keys = f"{path.name}:{node.lineno}", {k.arg for k in node.keywords if k.arg}
            action = node.args[2]
            if isinstance(action, ast.JoinedStr):
                prefix = action.values[0].value  # type: ignore[attr-defined]
                assert prefix in built, f"{where}: say which actions f{ast.unparse(action)!r} records"
                found += [(where, prefix + value, keys) for value in built[prefix]]
            else:
                values = [n.value for n in ast.walk(action) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                assert values, f"{where}: the action is neither a string nor an f-string"
                found += [(where, value, keys) for value in values]
    return found


def test_every_recorded_action_and_detail_has_a_name():
    from exchange import audit
    from exchange.web import audit_view
    recorded = _recorded()
    assert len(recorded) > 40 and any(action == "instance.restore" for _w, action, _k in recorded)
    unnamed = [(where, action) for where, action, _keys in recorded if action not in audit.ACTION_NAMES]
    assert not unnamed, "name these actions in exchange/audit.py ACTION_NAMES"
    unnamed_keys = [(where, key) for where, _action, keys in recorded for key in keys
                    if key not in audit_view.FIELD_NAMES]
    assert not unnamed_keys, "name these detail fields in exchange/web/audit_view.py FIELD_NAMES"


def test_backups_languages_and_cities_read_in_japanese_in_the_audit_log(admin, instance):
    from exchange import audit
    client, _token = admin
    with instance.db.writing() as session:  # as backup.restore, people.adopt_language and cities.add write them
        audit.record(session, "cli:aiko", "instance.restore", "/srv/backup", created_at="2026-12-01T02:00:00+00:00",
                     practices=3, versions=5)
        audit.record(session, "aiko@tokyo.example", "user.language", "aiko@tokyo.example", language="ja",
                     negotiated=True)
        audit.record(session, "cli:aiko", "city.add", "sendai", country="JP", name="仙台")
    page = client.get(HTTPS + "/admin/audit?lang=ja").get_data(as_text=True)
    entries = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for phrase in ("バックアップからの復元", "バックアップの作成日時</span>: 2026-12-01",
                   "ブラウザーの設定から</span>: はい", "都市名</span>: 仙台"):
        assert phrase in entries, phrase
    for raw in (">instance.restore<", ">created_at<", ">negotiated<", ">氏名<"):
        assert raw not in entries, raw
    choices = page.split('name="action"', 1)[1].split("</select>", 1)[0]
    assert 'value="instance.backup"' in choices and 'value="instance.restore"' in choices
