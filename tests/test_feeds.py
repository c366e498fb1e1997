"""The Atom feeds as a feed reader sees them (feedparser): valid, public only, newest first, cached with ETags."""

from __future__ import annotations

import feedparser
import pytest

from exchange import feeds
from exchange.library import publishing

FEEDS = ["/feeds/library.atom", "/feeds/city/jakarta.atom", "/feeds/hazard/riverine-flood.atom",
         "/feeds/kind/procedure.atom", "/feeds/search.atom?q=flood&hazard=riverine-flood"]


@pytest.fixture
def library_of_three(instance, make_practice):  # type: ignore[no-untyped-def]
    """A public practice published twice, a public Japanese one, and a partners-only one (and its public v1)."""
    publishing.publish(instance, make_practice(title="Flood sirens along the river"), "sirens", "t")
    publishing.publish(instance, make_practice(title="River gauge relay", city="tokyo", country="JP",
                                               language="ja", kind="guideline"), "gauges", "t")
    publishing.publish(instance, make_practice(title="Public draft of the staff roster"), "roster", "t")
    publishing.publish(instance, make_practice(title="Staff roster for flood nights", visibility="partners",
                                               summary="Home numbers of the duty officers."), "roster", "t")
    publishing.publish(instance, make_practice(title="Flood sirens and loudspeakers"), "sirens", "t")


def read(client, path: str):  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_the_hazard_feed_as_feedparser_reads_it(client, library_of_three):  # type: ignore[no-untyped-def]
    parsed = read(client, "/feeds/hazard/riverine-flood.atom")
    assert parsed.version == "atom10" and parsed.feed.title == "New and updated practices on Riverine flood"
    assert [e.title for e in parsed.entries] == ["Flood sirens and loudspeakers", "River gauge relay"]
    sirens, gauges = parsed.entries
    assert sirens.id == sirens.link == "http://px.test/practices/jakarta/sirens"
    assert (sirens.language, sirens.title_detail.language, gauges.language) == ("en", "en", "ja")
    assert sirens.summary == "How a city relays upstream gauge alerts to riverside neighbourhoods."
    assert sirens.author == "Jakarta" and gauges.author == "Tokyo"
    assert sirens.px_version == "2" and gauges.px_version == "1"
    assert sirens.published.startswith("2023-12-05") and sirens.updated_parsed >= gauges.updated_parsed
    terms = {(t.term, t.scheme, t.label) for t in sirens.tags}
    assert ("MH0604", "https://www.undrr.org/hips", "Riverine flood") in terms
    assert ("procedure", "http://px.test/practices?kind=", "Procedure") in terms
    assert ("jakarta", "http://px.test/practices?city=", "Jakarta") in terms
    assert any(link.rel == "related" and link.href.endswith("/practices/jakarta/sirens/versions/2")
               for link in sirens.links)


@pytest.mark.parametrize("path", FEEDS)
def test_a_partners_only_practice_is_in_no_feed_nor_its_earlier_public_version(client, library_of_three, path):  # type: ignore[no-untyped-def]
    body = client.get(path).get_data(as_text=True)
    parsed = read(client, path)
    assert parsed.entries and "roster" not in body and "Staff" not in body and "duty officers" not in body


def test_feeds_of_a_signed_in_partner_are_still_public_only(client, instance, library_of_three):  # type: ignore[no-untyped-def]
    from exchange.accounts import people
    from tests.test_accounts import PASSWORD
    from tests.test_accounts import sign_in

    people.create_user(instance, "rina@network.example", "Rina", ["reviewer"], [], "t", PASSWORD)
    sign_in(client, "rina@network.example")
    assert "roster" not in client.get("/feeds/library.atom").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/feeds/city/atlantis.atom", "/feeds/hazard/dragons.atom", "/feeds/kind/poem.atom"])
def test_an_unknown_city_hazard_or_kind_has_no_feed(client, path):  # type: ignore[no-untyped-def]
    assert client.get(path).status_code == 404


def test_the_search_feed_keeps_the_search_and_its_page_links_it(client, library_of_three):  # type: ignore[no-untyped-def]
    parsed = read(client, "/feeds/search.atom?q=gauge&language=ja")
    assert [e.title for e in parsed.entries] == ["River gauge relay"]
    page = client.get("/practices?q=gauge&language=ja").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="' in page
            and 'href="/feeds/search.atom?q=gauge&amp;language=ja"' in page)
    assert 'href="/feeds/city/jakarta.atom"' in client.get("/cities/jakarta").get_data(as_text=True)
    hazard = client.get("/practices?hazard=riverine-flood").get_data(as_text=True)
    assert hazard.count('href="/feeds/hazard/riverine-flood.atom"') == 2  # the page's alternate and its Feed link


def test_a_full_search_feed_takes_in_a_revised_old_practice(client, instance, make_practice, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(feeds, "MAX_ENTRIES", 1)
    old = make_practice(title="Flood evacuation route", published="2019-04-01")
    publishing.publish(instance, old, "route", "t")
    publishing.publish(instance, make_practice(title="Flood shelter list", published="2025-06-01"), "shelters", "t")
    assert [e.title for e in read(client, "/feeds/search.atom?q=flood").entries] == ["Flood shelter list"]
    publishing.publish(instance, make_practice(title="Flood evacuation route", published="2019-04-01",
                                               body="The route now runs past the school.\n"), "route", "t")
    parsed = read(client, "/feeds/search.atom?q=flood")
    assert [e.title for e in parsed.entries] == ["Flood evacuation route"] and parsed.entries[0].px_version == "2"
    assert parsed.feed.updated == parsed.entries[0].updated


def test_a_feed_is_revalidated_with_its_etag_until_the_library_changes(client, instance, make_practice,
                                                                      library_of_three):  # type: ignore[no-untyped-def]
    first = client.get("/feeds/library.atom")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/feeds/library.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    publishing.publish(instance, make_practice(title="Evacuation boats"), "boats", "t")
    changed = client.get("/feeds/library.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and "Evacuation boats" in changed.get_data(as_text=True)
    assert len(read(client, "/feeds/library.atom").entries) == 3
