"""Administrators' views: content health, the content-gap report, the coverage matrix, who sees what."""

from __future__ import annotations

import http.server
import re
import threading

import pytest
import sqlalchemy as sa

from exchange import background
from exchange import policy
from exchange.accounts import people
from exchange.initialise import initialise
from exchange.insight import access
from exchange.insight import coverage
from exchange.insight import links
from exchange.library import publishing
from exchange.models import PracticeRecord
from exchange.models import SearchGap
from tests.conftest import close
from tests.conftest import practice_text
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import post
from tests.test_accounts import sign_in

ADMIN = "admin@network.example"
SITI = "siti@bpbd.example"
GONE = "gone@bpbd.example"
PAGES = ["/admin/health", "/admin/gaps", "/admin/coverage", "/admin/access"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, database):  # type: ignore[no-untyped-def]
    """A small library with a practice of each kind the views look for, an administrator, a contributor
    and a disabled account."""
    from exchange.app import create_app
    with database.fresh() as url:
        app = create_app({"INSTANCE": tmp_path_factory.mktemp("insight"), "TESTING": True, "SERVER_NAME": "px.test",
                          "DATABASE_URL": url, "EXCHANGE_BASE_URL": "https://px.test"})
        instance = app.extensions["exchange"]
        initialise(instance, "test", seed=False)
        publish = lambda slug, **fields: publishing.publish(instance, practice_text(**fields), slug, "test")  # noqa: E731
        publish("posko-banjir", language="id", title="Posko banjir tingkat RW", review_by="2020-01-31",
                body="## Langkah\n\n1. Pantau papan duga banjir.\n")
        publish("flood-post", language="en", title="Neighbourhood flood post", translation_of="jakarta/posko-banjir",
                body="See [the steps](/practices/jakarta/posko-banjir#h-langkah) and [gone](/practices/jakarta/gone),"
                     " [nowhere](#h-nowhere), [bad](https:///nowhere), [ok](https://example.org/).\n")
        publish("posko-banjir", language="id", title="Posko banjir tingkat RW", review_by="2020-01-31",
                body="## Langkah\n\n1. Pantau papan duga banjir.\n2. Kabari warga.\n")  # the original moves on
        publish("radio-codes", title="Radio code words", visibility="partners", hazards="[earthquake]")
        publish("siren-test", title="Siren test plan", visibility="partners", hazards="[earthquake]",
                phases="[preparedness]")
        publish("siren-test", title="Siren test plan", visibility="public", hazards="[earthquake]",
                phases="[preparedness]")  # version 1 stays partners-only
        publishing.publish(instance, practice_text(city="kobe", country="JP", language="ja", title="避難所運営",
                                                   hazards="[earthquake, tsunami]", phases="[response]"),
                           "hinanjo", "test")
        people.create_user(instance, ADMIN, "Dewi Admin", ["admin"], [], "test", PASSWORD)
        people.create_user(instance, SITI, "Siti Rahma", ["contributor"], ["jakarta"], "test", PASSWORD)
        people.create_user(instance, GONE, "Gone Away", ["contributor"], ["jakarta"], "test", PASSWORD)
        people.disable(instance, GONE, people.by_id(instance, _id(instance, ADMIN)))
        yield app
        close(app)


def _id(instance, email: str) -> int:  # type: ignore[no-untyped-def]
    return next(p.id for p in people.all_people(instance) if p.email == email)


@pytest.fixture(scope="module")
def admin(site):  # type: ignore[no-untyped-def]
    client = site.test_client()
    sign_in(client, ADMIN)
    return client


def test_the_views_are_for_administrators_only(site, admin):
    siti, anonymous = site.test_client(), site.test_client()
    sign_in(siti, SITI)
    for path in PAGES:
        assert admin.get(HTTPS + path).status_code == 200, path
        assert siti.get(HTTPS + path).status_code == 403, path
        assert anonymous.get(HTTPS + path).status_code == 302, path  # to the sign-in page
    assert post(siti, "/admin/gaps/clear", {"confirm": "yes"}).status_code in (400, 403)
    assert 'href="/admin/coverage"' in admin.get(HTTPS + "/admin/people").get_data(as_text=True)


def closed(client, path: str, **kwargs):  # type: ignore[no-untyped-def]
    """The response to ``path``, closed as a WSGI server closes it once sent (which runs what it deferred)."""
    return client.get(HTTPS + path, buffered=True, **kwargs)


def _rows(site, query: str) -> list[SearchGap]:  # type: ignore[no-untyped-def]
    with site.extensions["exchange"].db.session() as session:
        return list(session.scalars(sa.select(SearchGap).where(SearchGap.query == query)))


def _counted(site, query: str) -> tuple[str, int, int, int]:  # type: ignore[no-untyped-def]
    """The language, searches, searches that found nothing and clicks of ``query``, summed over its days (a day
    is counted on its own row: searches made on either side of midnight are two rows, one each)."""
    rows = _rows(site, query)
    [language] = {row.language for row in rows}
    return (language, sum(row.searches for row in rows), sum(row.zero_results for row in rows),
            sum(row.clicks for row in rows))


def test_the_gap_report_counts_an_indonesian_search_that_found_nothing_and_a_click(site, admin):
    reader = site.test_client()
    for _ in range(2):  # the second answer comes from the page cache, and counts too
        assert closed(reader, "/practices?q=Qqxqqzz+Wwkk&lang=id").status_code == 200
    assert _counted(site, "qqxqqzz wwkk") == ("id", 2, 2, 0)

    page = closed(reader, "/practices?q=banjir&lang=id").get_data(as_text=True)
    link = re.search(r'href="(/practices/jakarta/posko-banjir\?ref=[^"]+)"', page).group(1).replace("&amp;", "&")
    opened = closed(reader, link)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/practices/jakarta/posko-banjir")
    assert closed(reader, "/api/v1/search?q=banjir&language=id").get_json()["total"] >= 1
    assert _counted(site, "banjir") == ("id", 2, 0, 1)

    report = admin.get(HTTPS + "/admin/gaps?days=90").get_data(as_text=True)
    indonesian = report.split('id="gaps-id"', 1)[1].split("</section>", 1)[0]
    found_nothing, not_opened = indonesian.split("<h3>")[1:3]
    assert "qqxqqzz wwkk" in found_nothing and "banjir" not in found_nothing
    assert "banjir" not in not_opened  # a result was opened


def test_a_search_another_worker_answers_from_the_shared_page_cache_counts_too(site, monkeypatch):
    from exchange.app import create_app
    from exchange.search import discovery

    instance = site.extensions["exchange"]
    worker = create_app({"INSTANCE": instance.path, "TESTING": True, "SERVER_NAME": "px.test",
                         "DATABASE_URL": instance.db.url, "EXCHANGE_BASE_URL": "https://px.test"})
    paths = ("/practices?q=Zzqvv+Kkxw&lang=id", "/api/v1/search?q=Zzqvv+Kkxw&language=id")
    try:
        for path in paths:
            assert closed(site.test_client(), path).status_code == 200
        monkeypatch.setattr(discovery, "find", lambda *_args, **_kwargs: pytest.fail("searched again"))
        for path in paths:  # served by the other worker without searching: what it found is kept with it
            assert closed(worker.test_client(), path).status_code == 200
        assert _counted(site, "zzqvv kkxw") == ("id", 4, 4, 0)
    finally:
        close(worker)


def test_opening_a_search_from_the_gap_report_is_not_counted(site, admin):
    reader = site.test_client()
    assert closed(reader, "/practices?q=Zzyqqv&lang=ja").status_code == 200
    assert closed(reader, "/practices?q=Neighbourhood+post&lang=en").status_code == 200
    report = admin.get(HTTPS + "/admin/gaps?days=90").get_data(as_text=True)
    for language, query in (("ja", "zzyqqv"), ("en", "neighbourhood+post")):
        rows = report.split(f'id="gaps-{language}"', 1)[1].split("</section>", 1)[0]
        link = re.search(r'href="([^"]*q=' + re.escape(query) + r'[^"]*)"', rows).group(1).replace("&amp;", "&")
        assert f"language={language}" in link and "from=gaps" in link  # the row's language, as a filter
        page = closed(admin, link).get_data(as_text=True)
        assert "?ref=" not in page  # its result links are not counted either
    assert "/practices/jakarta/flood-post" in page
    assert [(r.searches, r.zero_results) for r in _rows(site, "zzyqqv")] == [(1, 1)]
    assert [(r.searches, r.zero_results) for r in _rows(site, "neighbourhood post")] == [(1, 0)]


def test_no_personal_data_is_kept(site, admin):
    inspector = sa.inspect(site.extensions["exchange"].db.engine)
    columns = {column["name"] for column in inspector.get_columns("search_gaps")}
    assert columns == {"day", "language", "query", "searches", "zero_results", "clicks"}
    reader = site.test_client()
    for query in ("siti@bpbd.example", "+62 812-3456-7890", "telepon 0812 3456 7890"):
        assert closed(reader, "/practices", query_string={"q": query}).status_code == 200
        assert closed(reader, "/api/v1/search", query_string={"q": query}).status_code == 200
    forged = closed(reader, "/practices/jakarta/posko-banjir?ref=id:never+searched")
    assert forged.status_code == 303
    with site.extensions["exchange"].db.session() as session:
        kept = set(session.scalars(sa.select(SearchGap.query)))
    assert not {q for q in kept if "@" in q or "3456" in q} and "never searched" not in kept

    assert post(admin, "/admin/gaps/clear", {"csrf_token": _token(admin)}).status_code == 302  # not confirmed
    assert _rows(site, "banjir")
    assert post(admin, "/admin/gaps/clear", {"csrf_token": _token(admin), "confirm": "yes"}).status_code == 302
    assert not _rows(site, "banjir") and not _rows(site, "qqxqqzz wwkk")


def _token(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get(HTTPS + "/admin/gaps").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_coverage_matrix_counts_the_public_practices_of_the_catalogue(site, admin):
    instance = site.extensions["exchange"]
    with instance.db.session() as session:
        records = list(session.scalars(sa.select(PracticeRecord)))
    expected: dict[tuple[str, str], set[str]] = {}
    for record in records:
        if record.visibility == "public":
            for hazard in record.hazards:
                expected.setdefault((record.city, hazard), set()).add(record.translation_of or record.id)
    matrix = coverage.matrix(instance)
    assert {key: n for key, n in matrix.counts.items()} == {key: len(ids) for key, ids in expected.items()}
    assert matrix.count("jakarta", "earthquake") == 1  # siren-test; radio-codes is partners-only
    assert matrix.count("jakarta", "riverine-flood") == 1  # the original and its translation count once
    assert coverage.matrix(instance, "response").count("jakarta", "earthquake") == 0
    page = admin.get(HTTPS + "/admin/coverage?phase=response").get_data(as_text=True)
    assert 'href="/practices?city=kobe&amp;hazard=tsunami&amp;phase=response"' in page
    # a gap is a blank cell (as the page says), with no link to a search that finds nothing
    assert 'href="/practices?city=jakarta&amp;hazard=earthquake&amp;phase=response"' not in page
    assert re.search(r'<td class="gap"><span class="visually-hidden">[^<]*</span></td>', page)
    assert not re.search(r">0</a></td>", page)
    assert admin.get(HTTPS + "/admin/coverage?phase=typhoon").status_code == 400


def test_content_health_lists_what_needs_attention(site, admin):
    page = admin.get(HTTPS + "/admin/health").get_data(as_text=True)
    overdue = page.split('id="overdue"', 1)[1].split('id="behind"', 1)[0]
    assert "jakarta/posko-banjir" in overdue and "jakarta/siren-test" not in overdue
    behind = page.split('id="behind"', 1)[1].split('id="links"', 1)[0]
    assert "jakarta/flood-post" in behind and "version 1 of 2" in behind
    links = page.split('id="links"', 1)[1].split('id="untranslated"', 1)[0]
    for href in ("/practices/jakarta/gone", "#h-nowhere", "https:///nowhere"):
        assert href in links, href
    assert "posko-banjir#h-langkah" not in links and "https://example.org/<" not in links
    untranslated = page.split('id="untranslated"', 1)[1]
    assert "kobe/hinanjo" in untranslated and "jakarta/posko-banjir" in untranslated  # has en, not ja
    kobe = admin.get(HTTPS + "/admin/health?city=kobe").get_data(as_text=True)
    assert "jakarta/" not in kobe.split('id="overdue"', 1)[1] and "kobe/hinanjo" in kobe
    assert admin.get(HTTPS + "/admin/health?city=atlantis").status_code == 400


def test_content_health_shows_the_first_rows_of_each_list_and_folds_the_rest(site, monkeypatch):
    from exchange.web import insight_pages
    monkeypatch.setattr(insight_pages, "SHOWN", 1)
    aiko = site.test_client()  # ?lang= stays in a cookie: not the shared administrator's
    sign_in(aiko, ADMIN)
    page = aiko.get(HTTPS + "/admin/health?lang=ja").get_data(as_text=True)
    untranslated = page.split('id="untranslated"', 1)[1]
    heading = untranslated.split("</h2>", 1)[0]
    count = int(re.search(r'<span class="count">(\d+)</span>', heading).group(1))
    assert count >= 3
    shown, folded = untranslated.split('<details class="more-rows">', 1)
    assert shown.count("<tr><td>") == 1 and folded.count("<tr><td>") == count - 1
    assert f"すべて表示(全 {count} 件、残り {count - 1} 件)" in folded
    behind = page.split('id="behind"', 1)[1].split('id="links"', 1)[0]
    assert '<span class="count">1</span>' in behind and "<details" not in behind  # one row: nothing to fold


@pytest.mark.parametrize("email", [SITI, GONE])
def test_who_sees_what_agrees_with_the_app(site, admin, email):
    instance = site.extensions["exchange"]
    person = people.person(instance, _id(instance, email))
    reader = site.test_client()
    if person.active:
        sign_in(reader, email)
    for practice_id in ("jakarta/radio-codes", "jakarta/siren-test"):
        check = access.sight(instance, person, practice_id).check
        for answer in check.versions:
            shown = reader.get(f"{HTTPS}/practices/{practice_id}/versions/{answer.version}").status_code
            assert answer.readable == (shown == 200), (email, practice_id, answer)
    sight = access.sight(instance, person, "jakarta/siren-test")
    assert sight.reads == tuple(sorted(policy.readable_visibilities(access.viewer_for(instance, person)),
                                       key=["public", "partners"].index))
    partners = sight.by_visibility["partners"]
    assert (partners.readable, partners.total) == ((1, 1) if person.active else (0, 1))
    page = admin.get(HTTPS + f"/admin/access?person={person.id}&practice=jakarta/siren-test").get_data(as_text=True)
    if person.active:
        assert "May read version 1: yes" in page
    else:
        assert "May read version 1: no" in page and "May read version 2: yes" in page and "disabled" in page
    assert admin.get(HTTPS + "/admin/access?person=99999").status_code == 400


def test_who_sees_what_shows_the_public_when_nobody_is_chosen(site, admin):
    instance = site.extensions["exchange"]
    sight = access.sight(instance, None, "jakarta/siren-test")
    assert sight.reads == ("public",) and sight.signs_in
    assert [(a.version, a.readable, a.reason) for a in sight.check.versions] == [
        (2, True, access.READABLE), (1, False, access.VERSION_RESTRICTED)]
    assert sight.by_visibility["partners"] == access.Tally(0, 1)
    page = admin.get(HTTPS + "/admin/access?person=&practice=jakarta/siren-test").get_data(as_text=True)
    assert "The public (not signed in)</option>" in page and "<h2>The public" in page
    assert "May read version 1: no" in page and "May read version 2: yes" in page and "disabled" not in page
    anonymous = site.test_client()
    assert anonymous.get(HTTPS + "/practices/jakarta/siren-test/versions/1").status_code == 404
    assert anonymous.get(HTTPS + "/practices/jakarta/siren-test/versions/2").status_code == 200


def test_a_search_never_fails_for_the_gap_report(app, instance, caplog):
    with instance.db.writing() as session:
        session.execute(sa.text("DROP TABLE search_gaps"))  # the report's table gone: the count cannot be written
    client = app.test_client()
    assert closed(client, "/practices?q=banjir").status_code == 200
    assert closed(client, "/api/v1/search?q=banjir").status_code == 200
    assert "search not counted for the content-gap report" in caplog.text


class _Site(http.server.BaseHTTPRequestHandler):
    """Another site on loopback: /ok answers 200, anything else 404; it counts what it is asked."""

    asked: list[str] = []

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        _Site.asked.append(self.path)
        self.send_response(200 if self.path == "/ok" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_site():  # type: ignore[no-untyped-def]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Site.asked.clear()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_links_to_other_sites_are_checked_by_a_job_and_never_on_loopback_unless_told(app, instance, other_site):
    publishing.publish(instance, practice_text(body=f"[ok]({other_site}/ok), [gone]({other_site}/gone).\n"),
                       "links", "test")
    admin_client = app.test_client()
    people.create_user(instance, ADMIN, "Dewi Admin", ["admin"], [], "test", PASSWORD)
    sign_in(admin_client, ADMIN)
    assert "/gone" not in admin_client.get(HTTPS + "/admin/health").get_data(as_text=True)  # nothing fetched
    assert post(admin_client, "/admin/health/check-links", {"csrf_token": _token(admin_client)}).status_code == 302
    assert not _Site.asked  # queued, not run in the request
    assert background.run_pending(instance) >= 1
    assert not _Site.asked  # the job refuses an address that is not public
    page = admin_client.get(HTTPS + "/admin/health").get_data(as_text=True)
    assert f"{other_site}/gone" in page and "not a public address" in page

    assert links.check(instance, "px.test", allow_private=True) == 2
    assert sorted(_Site.asked) == ["/gone", "/ok"]
    links_part = admin_client.get(HTTPS + "/admin/health").get_data(as_text=True).split('id="links"')[1]
    links_part = links_part.split('id="untranslated"')[0]
    assert f"{other_site}/gone" in links_part and "the site answered 404" in links_part
    assert f"{other_site}/ok<" not in links_part
