"""The reading pages and the practice API, as a visitor meets them."""

from __future__ import annotations

import re

import pytest

from exchange.accounts import people
from exchange.library import publishing
from tests.test_accounts import HTTPS
from tests.test_accounts import PASSWORD
from tests.test_accounts import sign_in
from tests.test_rendering import HOSTILE
from tests.test_rendering import assert_inert


def test_home_shows_what_the_library_holds(library_client):
    page = library_client.get("/").get_data(as_text=True)
    assert "35 practices from 11 partner cities in 3 languages" in page
    for label in ("Riverine flood", "Tsunami", "Heatwave", "Case study", "Bahasa Indonesia", "日本語", "Jakarta",
                  "Tokyo", "Melbourne", "Recently published"):
        assert label in page
    assert 'href="/practices?hazard=tsunami"' in page and 'href="/cities/tokyo"' in page


def test_browse_filters_combine_and_count(library_client):
    page = library_client.get("/practices?language=ja").get_data(as_text=True)
    assert "<strong>11</strong> practices" in page
    page = library_client.get("/practices?language=ja&hazard=tsunami").get_data(as_text=True)
    assert "<strong>3</strong> practices" in page and "津波" in page
    page = library_client.get("/practices?hazard=tsunami&hazard=heatwave").get_data(as_text=True)
    assert "<strong>7</strong> practices" in page  # 11 documents, 4 of them translations of others
    empty = library_client.get("/practices?hazard=tsunami&city=melbourne").get_data(as_text=True)
    assert "Nothing found" in empty and "The filters left nothing" in empty


#: what a search page offers to narrow or follow what it found: nothing to offer for an empty result
FILTER_PANEL, FEED_LINKS = '<details class="filters">', ('class="feed"', 'type="application/atom+xml"')
ALERTS = ("Sign in to save this search and be alerted", "Skip to the results")


def test_a_search_that_finds_something_offers_filters_a_feed_and_alerts(library_client):
    page = library_client.get("/practices?q=banjir&hazard=riverine-flood").get_data(as_text=True)
    assert FILTER_PANEL in page and all(link in page for link in FEED_LINKS + ALERTS)


def test_an_empty_result_blamed_on_its_filters_says_so_and_offers_each_way_out(library_client):
    page = library_client.get("/practices?q=tsunami&hazard=tsunami&city=melbourne").get_data(as_text=True)
    tsunami = library_client.get("/practices?q=tsunami").get_data(as_text=True)
    found = re.search(r"<strong>(\d+)</strong> practices", tsunami)
    assert found is not None
    assert "Nothing found for <q>tsunami</q>" in page
    assert (f"The filters left nothing. Without them this search finds <strong>{found.group(1)}</strong> practices: "
            '<a href="/practices?q=tsunami">search without filters</a>.') in page
    # each filter removable on its own, the other kept
    assert 'href="/practices?q=tsunami&amp;city=melbourne" aria-label="Remove filter: Hazard: Tsunami"' in page
    assert 'href="/practices?q=tsunami&amp;hazard=tsunami" aria-label="Remove filter: City: Melbourne"' in page
    assert FILTER_PANEL not in page and not [link for link in FEED_LINKS + ALERTS if link in page]


@pytest.mark.parametrize("path", ["/practices?q=qqxqqzz+wwkk", "/practices?q=qqxqqzz+wwkk&hazard=tsunami"])
def test_an_empty_result_not_caused_by_filters_offers_other_words_and_languages(library_client, path):
    page = library_client.get(path).get_data(as_text=True)
    assert "Nothing found for <q>qqxqqzz wwkk</q>" in page
    assert "The filters left nothing" not in page  # without them it finds nothing either
    assert "Search in another of our languages" in page and "Use fewer or more general words" in page
    assert FILTER_PANEL not in page and not [link for link in FEED_LINKS + ALERTS if link in page]


def test_browse_paginates(library_client):
    first = library_client.get("/practices").get_data(as_text=True)
    assert "<strong>35</strong> practices" in first  # 44 documents, 9 of them translations
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = library_client.get("/practices?page=2").get_data(as_text=True)
    assert second.count('class="card practice-card"') == 15
    assert library_client.get("/practices?page=abc").status_code == 200


def test_city_page_lists_its_practices_with_names_in_three_languages(library_client):
    page = library_client.get("/cities/kobe").get_data(as_text=True)
    assert "<h1>Kobe</h1>" in page and "神戸" in page and "3 practices" in page
    assert "Also in:" in page  # the shelter procedure's English translation
    assert "大規模地震時の避難所開設・運営の手順" in page


def test_practice_page_has_card_contents_body_translations_history_and_citation(library_client):
    response = library_client.get("/practices/jakarta/peringatan-dini-banjir-ciliwung")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<article class="practice" lang="id">' in page
    assert "About this practice" in page and "BPBD DKI Jakarta" in page and "Riverine flood" in page
    assert 'title="UNDRR-ISC HIPs 2025: MH0604"' in page
    assert '<nav class="toc"' in page and re.search(r'<a href="#h-[^"]+">', page)
    assert 'Also in:' in page and 'href="/practices/jakarta/ciliwung-flood-early-warning"' in page
    assert "Version history" in page and "Version 1" in page
    assert 'rel="license" href="https://creativecommons.org/licenses/by/4.0/"' in page
    assert "http://px.test/practices/jakarta/peringatan-dini-banjir-ciliwung" in page
    assert 'media="print"' in page and 'type="checkbox"' in page


def test_translation_links_back_to_its_original(library_client):
    page = library_client.get("/practices/jakarta/ciliwung-flood-early-warning").get_data(as_text=True)
    assert "Translated from" in page and 'href="/practices/jakarta/peringatan-dini-banjir-ciliwung"' in page


def test_every_bundled_practice_is_readable(library_app, library_client):
    instance = library_app.extensions["exchange"]
    ids = list(instance.store.practice_ids())
    assert len(ids) == 44
    for practice_id in ids:
        assert library_client.get(f"/practices/{practice_id}").status_code == 200, practice_id


@pytest.mark.parametrize(
    "path",
    ["/practices/jakarta/nope", "/practices/../../instance/app", "/practices/..%2f..%2fetc%2fpasswd/x",
     "/practices/jakarta/peringatan-dini-banjir-ciliwung/versions/7",
     "/practices/jakarta/peringatan-dini-banjir-ciliwung/versions/0",
     "/practices/jakarta/peringatan-dini-banjir-ciliwung/versions/99999999999999999999", "/cities/atlantis",
     "/practices/JAKARTA/x", "/practices/jakarta/x.md", "/no-such-page", "/practices/jakarta/%00"],
)
def test_unknown_ids_and_bad_paths_get_a_404_page(library_client, path):
    response = library_client.get(path)
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "status"), [
    ("/practices/jakarta/%00", 404), ("/cities/%00", 404), ("/api/v1/practices/jakarta/%00", 404),
    ("/invitations/%00", 404), ("/practices?q=flo%00od", 400), ("/practices?city=%00", 400),
    ("/api/v1/search?q=%00", 400), ("/admin/audit?actor=%00", 400),
])
def test_a_nul_character_anywhere_in_a_request_is_refused_before_any_view(client, path, status):
    """PostgreSQL cannot hold or compare text with NUL: a lookup would fail (500) rather than find nothing."""
    response = client.get(path)
    assert response.status_code == status
    assert "Something went wrong" not in response.get_data(as_text=True)
    if path.startswith("/api/") and status == 400:
        assert "NUL character" in response.get_json()["error"]


def test_a_nul_character_in_a_form_field_is_refused(client, instance):
    from exchange.accounts import people
    from tests.test_accounts import PASSWORD
    from tests.test_accounts import sign_in

    people.create_user(instance, "siti@bpbd.example", "Siti", ["reader"], [], "test", PASSWORD)
    assert sign_in(client, "siti@bpbd.example\x00").status_code == 400
    assert sign_in(client, "siti@bpbd.example").status_code == 302


def test_practice_api_returns_the_document(library_client):
    data = library_client.get("/api/v1/practices/tokyo/koto5ku-kouiki-hinan-keikaku").get_json()
    assert data["id"] == "tokyo/koto5ku-kouiki-hinan-keikaku" and data["language"] == "ja"
    assert data["hazards"] == ["riverine-flood", "storm-surge"] and data["version"] == 1
    assert data["markdown"].lstrip().startswith("##") and "<h2 id=\"h-" in data["html"]
    assert data["url"] == "http://px.test/practices/tokyo/koto5ku-kouiki-hinan-keikaku"
    assert [t["id"] for t in data["translations"]] == ["tokyo/koto-five-wards-wide-area-evacuation"]
    assert data["license"] == "CC-BY-4.0" and data["published"].count("-") == 2


def test_practice_api_404_is_json(library_client):
    response = library_client.get("/api/v1/practices/jakarta/nope")
    assert response.status_code == 404 and response.get_json() == {"error": "Not found"}


def test_security_headers_on_every_page(library_client):
    response = library_client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_partners_only_practice_is_invisible_to_anonymous_visitors(client, instance, make_practice):
    publishing.publish(instance, make_practice(visibility="partners", title="Internal radio channels"), "radio", "t")
    assert client.get("/practices/jakarta/radio").status_code == 404
    assert client.get("/practices/jakarta/radio/versions/1").status_code == 404
    assert client.get("/api/v1/practices/jakarta/radio").status_code == 404
    for path in ("/", "/practices", "/cities/jakarta", "/practices?city=jakarta"):
        assert "Internal radio channels" not in client.get(path).get_data(as_text=True)
    assert "0 practices from 0 partner cities" in client.get("/").get_data(as_text=True)
    for query in ("radio", "Internal", "hazard:riverine-flood"):
        data = client.get(f"/api/v1/search?q={query}").get_json()
        assert data["total"] == 0 and data["results"] == [] and data["suggestion"] is None
        assert all(counts == {} for counts in data["facets"].values())


def test_hostile_practice_is_inert_on_every_page(client, instance, make_practice):
    body = "\n\n".join(HOSTILE)
    publishing.publish(instance, make_practice(
        title='"My <cool> Page <img src=x onerror=alert(1)>"',
        summary='"<script>alert(2)</script> {{ config }}"',
        organisation='"<b onmouseover=alert(3)>BPBD</b>"',
        tags='["<svg onload=alert(4)>"]',
        source='"javascript:alert(5)"',
        body=body), "hostile", "t")
    for path in ("/", "/practices", "/cities/jakarta", "/practices/jakarta/hostile",
                 "/practices/jakarta/hostile/versions/1"):
        page = client.get(path).get_data(as_text=True)
        assert "My &lt;cool&gt; Page" in page, path
        assert_inert(page, whole_page=True)
        assert "{{ config }}" not in page or "SECRET_KEY" not in page
    data = client.get("/api/v1/practices/jakarta/hostile").get_json()
    assert_inert(data["html"])


def test_the_site_has_an_icon(client):
    # browsers asked for /favicon.ico on every page and met a 404
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.location.endswith("/static/favicon.svg")
    icon = client.get(response.location)
    assert icon.status_code == 200 and icon.data.startswith(b"<svg")
    icon.close()


def test_the_japanese_result_count_names_the_query_without_stray_brackets(library_client):
    # <q> is 「」 in Japanese: "(<q>…</q>)" read 「3 件の事例 ( 「避難所」 )」
    page = library_client.get("/practices", query_string={"q": "避難所", "lang": "ja"}).get_data(as_text=True)
    [count] = re.findall(r'<p class="result-count">(.*?)</p>', page, re.S)
    assert "：<q>避難所</q>" in count and "(" not in count


def test_version_times_say_they_are_in_utc_and_carry_the_moment_for_the_reader_s_zone(library_client):
    # a Tokyo reader saw times 9 hours off, not told they were UTC; the page is cached for every reader, so the
    # server writes UTC, says so, and local_times.js rewrites each in the reader's own zone
    page = library_client.get("/practices/kobe/hinanjo-unei-tejun?lang=ja").get_data(as_text=True)
    history = page[page.index('<ol class="versions"'):page.index("</ol>", page.index('<ol class="versions"'))]
    times = re.findall(r'<time datetime="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)" data-local-time>([^<]+)</time>', history)
    assert times and all(text.endswith(" UTC") for _moment, text in times), history
    assert '<script src="/static/local_times.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "an inline script, which the CSP refuses"
    assert "script-src 'self'" in library_client.get("/").headers["Content-Security-Policy"]


def test_a_moment_is_written_in_utc_whatever_zone_it_comes_in(app):
    import datetime

    from exchange.web import i18n

    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    with app.test_request_context("/?lang=en"):
        naive = i18n.moment(datetime.datetime(2024, 3, 1, 23, 5, 7, 999))
        aware = i18n.moment(datetime.datetime(2024, 3, 2, 8, 5, 7, tzinfo=tokyo))
        ago = i18n.moment(datetime.datetime(2024, 3, 1, 23, 5, 7), "3 days <ago>")
    in_utc = "Mar 1, 2024 11:05\u202fPM UTC"
    assert naive == aware == f'<time datetime="2024-03-01T23:05:07Z" data-local-time>{in_utc}</time>'
    assert ago == (f'<time datetime="2024-03-01T23:05:07Z" title="{in_utc}" data-local-time="title">'
                   "3 days &lt;ago&gt;</time>")


# Recently published or updated -------------------------------------------------------------------

ROUTE = {"title": "Evacuation route for the river wards", "published": "2019-04-01"}
SHELTERS = {"title": "Shelter list for the dry season", "published": "2025-06-01"}
NEW_ROUTE = "## Route\n\nThe route now runs past the school, not over the old bridge.\n"


def recent_cards(page: str) -> list[str]:
    """The practice cards of the home page's recent list, each as its text."""
    section = page.split('id="recent"')[1]
    return [" ".join(re.sub(r"<[^>]+>", " ", card).split())
            for card in re.findall(r'<article class="card practice-card".*?</article>', section, re.S)]


def test_a_revised_practice_comes_back_to_the_home_page_first_and_says_when(client, instance, make_practice):
    publishing.publish(instance, make_practice(**ROUTE), "route", "t")
    publishing.publish(instance, make_practice(**SHELTERS), "shelters", "t")
    publishing.publish(instance, make_practice(**ROUTE, body=NEW_ROUTE), "route", "t")
    home = client.get("/").get_data(as_text=True)
    assert "Recently published or updated" in home
    cards = recent_cards(home)
    assert ROUTE["title"] in cards[0] and SHELTERS["title"] in cards[1]
    assert re.search(r'updated <time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">', home.split('id="recent"')[1])
    assert "updated" in cards[0] and "updated" not in cards[1]
    found = client.get("/api/v1/search?sort=updated").get_json()["results"]
    assert [r["id"] for r in found] == ["jakarta/route", "jakarta/shelters"]
    assert found[0]["version"] == 2 and found[1]["revised"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", found[0]["revised"])  # in UTC, and says so
    newest = client.get("/api/v1/search?sort=newest").get_json()["results"]
    assert [r["id"] for r in newest] == ["jakarta/shelters", "jakarta/route"]  # by first publication
    browse = client.get("/practices?sort=updated").get_data(as_text=True)
    assert '<option value="updated" selected>Recently updated</option>' in browse


def test_a_partners_only_revision_does_not_move_a_practice_for_the_public(client, instance, make_practice):
    publishing.publish(instance, make_practice(**ROUTE), "route", "t")
    publishing.publish(instance, make_practice(**SHELTERS), "shelters", "t")
    publishing.publish(instance, make_practice(**ROUTE, body=NEW_ROUTE, visibility="partners"), "route", "t")
    home = client.get("/").get_data(as_text=True)
    assert ROUTE["title"] not in home and "updated <time" not in home
    assert [r["id"] for r in client.get("/api/v1/search?sort=updated").get_json()["results"]] == ["jakarta/shelters"]
    feed = client.get("/feeds/library.atom").get_data(as_text=True)
    assert ROUTE["title"] not in feed
    people.create_user(instance, "siti@bpbd.example", "Siti Rahma", ["contributor"], ["jakarta"], "t", PASSWORD)
    sign_in(client, "siti@bpbd.example")
    staff_home = client.get(HTTPS + "/").get_data(as_text=True)
    cards = recent_cards(staff_home)
    assert ROUTE["title"] in cards[0] and "updated" in cards[0] and SHELTERS["title"] in cards[1]


def test_a_library_imported_at_once_lists_its_newest_practices_first(library_client):
    # the bundled practices are imported in one go: the order they were read in is no order for a reader
    section = library_client.get("/").get_data(as_text=True).split('id="recent"')[1]
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)"', section)
    assert len(dates) >= 4 and dates == sorted(dates, reverse=True)
