"""Accounts and sessions: the A- and AU-rows of reference/threats.md that exist before contributions."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import sqlalchemy as sa

from exchange import accounts
from exchange import library
from exchange.models import AuditEntry

PASSWORD = "rainy season levee walk"
HTTPS = "https://px.test"


@pytest.fixture
def staff(instance):  # type: ignore[no-untyped-def]
    accounts.create_user(instance, "siti@bpbd.example", "Siti Rahma", ["contributor"], ["jakarta"], "test", PASSWORD)
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
    for n in range(accounts.MAX_FAILURES_PER_ACCOUNT):
        assert sign_in(client, staff, "wrong password", REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    throttled = sign_in(client, staff, PASSWORD, REMOTE_ADDR="10.0.0.99")  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert not signed_in(client)


def test_failed_sign_ins_are_throttled_per_client_and_forwarded_for_is_ignored(client, instance, staff):
    for n in range(accounts.MAX_FAILURES_PER_CLIENT):
        response = post(client, "/login", {"email": f"user{n}@example.org", "password": "x" * 12,
                                                        "csrf_token": csrf_token(client)},
                                headers={"X-Forwarded-For": f"1.2.3.{n}"})
        assert response.status_code == 401
    response = post(client, "/login", {"email": staff, "password": PASSWORD,
                                                    "csrf_token": csrf_token(client)},
                           headers={"X-Forwarded-For": "9.9.9.9"})
    assert response.status_code == 429


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
        accounts.disable(instance, staff, "admin@example.org")
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
    assert client.get(HTTPS + "/logout").status_code == 405
    assert signed_in(client)


@pytest.mark.parametrize("password", ["short", "password1234567", "siti.rahma.bpbd", "aaaaaaaaaaaaaaaa"])
def test_weak_passwords_are_refused(instance, password):
    with pytest.raises(Exception, match="characters|common|name|repeats"):
        accounts.create_user(instance, "new@example.org", "Siti Rahma", ["reader"], [], "test", password)


def test_invitation_link_sets_the_password_once(app, instance):
    token = accounts.create_user(instance, "budi@bpbd.example", "Budi", ["reader"], [], "test")
    client = app.test_client()
    page = client.get(f"{HTTPS}/invitations/{token}")
    assert page.status_code == 200
    token_field = _token_in(page.get_data(as_text=True))
    response = post(client, f"/invitations/{token}", {"password": PASSWORD, "csrf_token": token_field})
    assert response.status_code == 302 and signed_in(client)
    assert app.test_client().get(f"{HTTPS}/invitations/{token}").status_code == 404
    assert app.test_client().get(f"{HTTPS}/invitations/not-a-token").status_code == 404


def test_partner_staff_read_partners_only_practices_everywhere(client, instance, staff, make_practice):
    library.publish(instance, make_practice(visibility="partners", title="Internal radio channels"), "radio", "t")
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


def test_cli_creates_users_with_a_password_or_an_invitation(tmp_path):
    env = {**os.environ, "EXCHANGE_INSTANCE": str(tmp_path / "inst")}
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
    accounts.create_user(instance, "admin@network.example", "Admin", ["admin"], [], "test", PASSWORD)
    client, admin = app.test_client(), app.test_client()
    sign_in(client, staff, "wrong password")
    sign_in(client, staff)
    assert client.get(HTTPS + "/admin/audit").status_code == 404  # contributors do not see it
    sign_in(admin, "admin@network.example")
    page = admin.get(HTTPS + "/admin/audit?action=login.failure").get_data(as_text=True)
    assert "login.failure" in page and "login.success" not in page
    response = admin.get(HTTPS + "/admin/audit?format=csv&actor=client:")
    assert response.headers["Content-Disposition"] == "attachment; filename=audit-log.csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "at,actor,action,target,detail" and any(",login.failure,siti@bpbd.example," in x for x in lines)


def test_csv_cells_cannot_become_spreadsheet_formulas(instance):
    from exchange import audit
    with instance.db.writing() as session:
        audit.record(session, "=HYPERLINK(\"http://evil\")", "login.failure", "@SUM(1)")
    with instance.db.session() as session:
        text = audit.as_csv(audit.entries(session, action="login.failure"))
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text


def test_admins_invite_people_and_disable_them(app, instance, staff):
    accounts.create_user(instance, "admin@network.example", "Admin", ["admin"], [], "test", PASSWORD)
    admin, other = app.test_client(), app.test_client()
    sign_in(admin, "admin@network.example")
    sign_in(other, staff)
    assert other.get(HTTPS + "/admin/people").status_code == 404
    token = _token_in(admin.get(HTTPS + "/admin/people").get_data(as_text=True))
    page = post(admin, "/admin/people", {"email": "new@bpbd.example", "name": "Nur", "roles": ["contributor"],
                                         "cities": "jakarta", "csrf_token": token}).get_data(as_text=True)
    link = re.search(r"<code>(https?://[^<]+/invitations/[^<]+)</code>", page).group(1)
    assert link.startswith("http://127.0.0.1:5000/invitations/")  # the configured address, not the Host header
    assert app.test_client().get(HTTPS + link.split(":5000", 1)[1]).status_code == 200
    bad = post(admin, "/admin/people", {"email": "x@bpbd.example", "name": "X", "roles": ["contributor"],
                                        "cities": "atlantis", "csrf_token": token})
    assert bad.status_code == 400 and "is not a partner city" in bad.get_data(as_text=True)
    siti_id = [u.id for u, _ in accounts.people(instance) if u.email == staff][0]
    assert post(admin, f"/admin/people/{siti_id}/disable", {"csrf_token": token}).status_code == 302
    assert not signed_in(other)
