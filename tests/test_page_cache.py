"""Reading pages answered from the cache for the public: ETags, 304s, compression, and nothing private
ever stored for, or given to, anyone else (exchange/web/page_cache.py, exchange/web/compression.py)."""

from __future__ import annotations

import gzip
import os
import time

import brotli
import pytest

from exchange.accounts import people
from exchange.app import create_app
from exchange.library import publishing
from exchange.web import page_cache
from exchange.web import pages
from tests.conftest import close
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import sign_in

PAGES = ["/", "/practices", "/practices?q=flood", "/cities/jakarta", "/practices/jakarta/sirens",
         "/practices/jakarta/sirens/versions/1", "/api/v1/search?q=flood"]


@pytest.fixture
def partner(instance):  # type: ignore[no-untyped-def]
    people.create_user(instance, "siti@bpbd.example", "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    return "siti@bpbd.example"


@pytest.fixture
def sirens(instance, make_practice):  # type: ignore[no-untyped-def]
    publishing.publish(instance, make_practice(title="Flood sirens along the river"), "sirens", "t")


@pytest.mark.parametrize("path", PAGES)
def test_a_public_page_is_revalidated_with_its_etag_until_the_library_changes(client, instance, make_practice,
                                                                             sirens, path):
    first = client.get(path)
    assert first.status_code == 200 and "Flood sirens along the river" in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache" and first.headers["Last-Modified"]
    assert {"Cookie", "Accept-Encoding"} <= set(first.vary)
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert {"Cookie", "Accept-Encoding"} <= set(again.vary)
    assert client.get(path).get_data() == first.get_data()  # from the cache, the same page
    publishing.publish(instance, make_practice(title="Flood sirens and loudspeakers"), "sirens", "t")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    if "versions/1" not in path:
        assert "Flood sirens and loudspeakers" in changed.get_data(as_text=True)


def test_a_practice_made_partners_only_is_never_served_from_the_cache(client, instance, make_practice, sirens):
    etag = client.get("/practices/jakarta/sirens").headers["ETag"]
    assert client.get("/practices/jakarta/sirens/versions/1").status_code == 200
    home = client.get("/").headers["ETag"]
    publishing.publish(instance, make_practice(title="Flood sirens (staff only)", visibility="partners"), "sirens",
                       "t")
    assert client.get("/practices/jakarta/sirens", headers={"If-None-Match": etag}).status_code == 404
    # a practice made partners-only hides its earlier public versions too; the home page no longer lists it
    assert client.get("/practices/jakarta/sirens/versions/1").status_code == 404
    page = client.get("/", headers={"If-None-Match": home})
    assert page.status_code == 200 and "sirens" not in page.get_data(as_text=True)


def test_a_practice_page_is_kept_while_only_other_practices_change(client, instance, make_practice, sirens):
    """A public publish elsewhere changes the listings, not a practice's own stored page (keyed by its
    translation group's versions): a room of readers is not sent to render every practice again."""
    etag = client.get("/practices/jakarta/sirens").headers["ETag"]
    home = client.get("/").headers["ETag"]
    publishing.publish(instance, make_practice(title="Heat shelters", hazards="[heatwave]"), "heat", "t")
    assert client.get("/practices/jakarta/sirens", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/", headers={"If-None-Match": home}).status_code == 200


def test_a_practice_page_changes_with_a_new_translation_and_any_restricted_practice(client, instance,
                                                                                    make_practice, sirens):
    page = client.get("/practices/jakarta/sirens")
    publishing.publish(instance, make_practice(language="id", title="Sirene banjir di sepanjang sungai",
                                               translation_of="jakarta/sirens"), "sirene", "t")
    translated = client.get("/practices/jakarta/sirens", headers={"If-None-Match": page.headers["ETag"]})
    assert translated.status_code == 200 and "/practices/jakarta/sirene" in translated.get_data(as_text=True)
    # a practice elsewhere made partners-only may be named on this page (its related practices): the page
    # is made again, never served naming it
    publishing.publish(instance, make_practice(title="Flood sirens drill", visibility="partners"), "drill", "t")
    again = client.get("/practices/jakarta/sirens", headers={"If-None-Match": translated.headers["ETag"]})
    assert again.status_code == 200 and "Flood sirens drill" not in again.get_data(as_text=True)


def test_what_a_partner_sees_is_private_and_never_given_to_the_public(app, instance, make_practice, partner):
    publishing.publish(instance, make_practice(title="Internal radio channels", visibility="partners"), "radio", "t")
    staff = app.test_client()
    sign_in(staff, partner)
    for path in ("/", "/practices", "/cities/jakarta", "/practices/jakarta/radio"):
        seen = staff.get(HTTPS + path)
        assert seen.status_code == 200 and "Internal radio channels" in seen.get_data(as_text=True), path
        assert seen.headers["Cache-Control"] == "private, no-store" and "ETag" not in seen.headers
        public = app.test_client().get(HTTPS + path)
        assert "Internal radio channels" not in public.get_data(as_text=True), path
        assert public.status_code == (404 if "radio" in path else 200)
    # and the other way round: a page stored for the public is not what a signed-in reader gets
    assert "Sign out" not in app.test_client().get(HTTPS + "/practices?q=radio").get_data(as_text=True)
    assert "Internal radio channels" in staff.get(HTTPS + "/practices?q=radio").get_data(as_text=True)


def test_a_reader_with_a_session_gets_a_private_page(app, partner, sirens):
    reader = app.test_client()
    sign_in(reader, partner)
    reader.post(HTTPS + "/logout", data={}, headers={"Referer": HTTPS + "/"})  # may leave a session behind
    reader.get(HTTPS + "/login")  # a CSRF token in a session of its own, signed out
    page = reader.get(HTTPS + "/practices/jakarta/sirens")
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("private")
    assert "ETag" not in page.headers


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
@pytest.mark.parametrize("path", ["/practices/jakarta/sirens", "/", "/api/v1/search?q=flood", "/static/style.css"])
def test_responses_are_compressed_as_the_client_accepts(client, sirens, encoding, decode, path):
    with client.get(path) as plain:  # a static file's response holds the file open until closed
        identity = plain.get_data()
    packed = client.get(path, headers={"Accept-Encoding": f"{encoding}, identity;q=0.5"})
    assert "Content-Encoding" not in plain.headers and packed.headers["Content-Encoding"] == encoding
    assert decode(packed.get_data()) == identity
    assert len(packed.get_data()) < len(identity)
    assert "Accept-Encoding" in packed.vary
    etag = packed.headers.get("ETag")
    if etag:  # pages and static files: the compressed form has its own tag, and revalidates
        assert etag != plain.headers["ETag"]
        assert client.get(path, headers={"Accept-Encoding": encoding, "If-None-Match": etag}).status_code == 304


def test_what_may_choose_a_pages_language_is_part_of_its_key(client, sirens):
    english = client.get("/", headers={"Accept-Language": "en"})
    japanese = client.get("/", headers={"Accept-Language": "ja"})
    assert english.headers["ETag"] != japanese.headers["ETag"] and "Accept-Language" in english.vary
    client.set_cookie("px-language", "id", domain="px.test")
    switched = client.get("/", headers={"Accept-Language": "en"})
    assert switched.headers["ETag"] not in (english.headers["ETag"], japanese.headers["ETag"])
    client.delete_cookie("px-language", domain="px.test")
    client.set_cookie("__Host-px-device", "a browser's own", domain="px.test")  # read by sign-in alone
    assert client.get("/", headers={"Accept-Language": "en"}).headers["ETag"] == english.headers["ETag"]


def test_a_response_that_sets_a_cookie_is_never_public(app, sirens):
    @app.after_request
    def remember_language(response):  # type: ignore[no-untyped-def]  # as a language switcher would
        response.set_cookie("px-language", "ja")
        return response

    page = app.test_client().get("/practices/jakarta/sirens")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in page.headers


@pytest.fixture
def second_worker(app, database_url):  # type: ignore[no-untyped-def]
    """Another app on the same instance: what another worker process of ``exchange serve`` is."""
    other = create_app({"INSTANCE": app.extensions["exchange"].path, "TESTING": True, "SERVER_NAME": "px.test",
                        "DATABASE_URL": database_url})
    yield other
    close(other)


def _counting_renders(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    rendered: list[str] = []
    render = pages._render_practice

    def counted(practice_id, version):  # type: ignore[no-untyped-def]
        rendered.append(practice_id)
        return render(practice_id, version)

    monkeypatch.setattr(pages, "_render_practice", counted)
    return rendered


@pytest.mark.parametrize("encoding", [None, "br", "gzip"])
def test_a_page_one_worker_rendered_another_serves_without_rendering_it(client, second_worker, sirens,
                                                                      monkeypatch, encoding):
    headers = {"Accept-Encoding": encoding} if encoding else {}
    first = client.get("/practices/jakarta/sirens", headers=headers)
    rendered = _counting_renders(monkeypatch)
    other = second_worker.test_client().get("/practices/jakarta/sirens", headers=headers)
    assert rendered == [] and other.status_code == 200
    assert other.get_data() == first.get_data() and other.headers["ETag"] == first.headers["ETag"]
    assert other.headers.get("Content-Encoding") == encoding


def test_a_shared_page_is_served_only_while_young_and_then_swept(client, instance, second_worker, sirens,
                                                                monkeypatch):
    client.get("/practices/jakarta/sirens")
    folder = instance.path.joinpath(*page_cache.FOLDER)
    shared = [path for path in folder.glob("*/*")]
    assert shared
    old = time.time() - page_cache.MAX_AGE_SECONDS - 1
    for path in shared:
        os.utime(path, (old, old))
    rendered = _counting_renders(monkeypatch)
    assert second_worker.test_client().get("/practices/jakarta/sirens").status_code == 200
    assert rendered == ["jakarta/sirens"]  # too old to serve: rendered again, and shared anew
    assert [path for path in folder.glob("*/*") if path.stat().st_mtime > old] and len(list(folder.glob("*/*"))) == 1
    for path in folder.glob("*/*"):
        os.utime(path, (old, old))
    page_cache.sweep(folder)
    assert list(folder.glob("*/*")) == []


@pytest.mark.parametrize("path", ["/api/v1/search?q=flood", "/practices/jakarta/sirens"])
def test_a_page_asked_with_a_forged_host_is_never_served_to_anyone_else(instance, database_url, sirens, path):
    # A page names its links from the address it was asked at: kept under the path alone, one request with
    # a forged Host would put that host's links on the page every later reader gets.
    open_app = create_app({"INSTANCE": instance.path, "TESTING": True, "DATABASE_URL": database_url})
    try:
        client = open_app.test_client()
        forged = client.get(path, headers={"Host": "evil.example"})
        assert forged.status_code == 200 and "evil.example" in forged.get_data(as_text=True)
        honest = client.get(path, headers={"Host": "px.example"})
        assert honest.status_code == 200 and "evil.example" not in honest.get_data(as_text=True)
        assert honest.headers["ETag"] != forged.headers["ETag"]
    finally:
        close(open_app)
