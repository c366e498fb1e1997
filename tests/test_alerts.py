"""Saved searches and their alerts (in the app, and by e-mail through a real SMTP server on 127.0.0.1), their
private feeds, and the alerts pack owners get when a pinned practice changes (exchange/alerts)."""

from __future__ import annotations

import datetime

import feedparser
import pytest

from exchange.accounts import people
from exchange.alerts import saved
from exchange.alerts import sending
from exchange.background import run_pending
from exchange.library import publishing
from exchange.models import utcnow
from exchange.packs import packs
from exchange.review import notifications
from tests.conftest import practice_text
from tests.test_accounts import PASSWORD
from tests.test_accounts import post
from tests.test_accounts import sign_in
from tests.test_notifications import mailing_instance  # noqa: F401  # a fixture
from tests.test_notifications import smtp_inbox  # noqa: F401  # a fixture


def person(instance, email: str = "rina@network.example", language: str | None = None):  # type: ignore[no-untyped-def]
    people.create_user(instance, email, "Rina", ["reader"], [], "t", PASSWORD)
    account = next(a for a in (people.by_id(instance, i) for i in range(1, 10)) if a and a.email == email)
    if language:
        people.set_language(instance, account.id, language)
    return account


def kinds(instance, user_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(n.kind, n.link) for n in notifications.recent(instance, user_id)]


def test_an_alert_email_arrives_after_a_matching_practice_is_published(mailing_instance, smtp_inbox):  # noqa: F811  # type: ignore[no-untyped-def]
    instance = mailing_instance
    rina = person(instance, language="id")
    saved.create(instance, rina, "Sirene banjir", "sirens", {"hazard": ["riverine-flood"]}, "immediate")
    publishing.publish(instance, practice_text(title="Flood sirens along the river"), "sirens", "t")
    publishing.publish(instance, practice_text(title="Evacuation boats"), "boats", "t")  # does not match
    publishing.publish(instance, practice_text(title="Sirens for landslides", hazards="[landslide]"), "slides", "t")
    assert smtp_inbox.messages == []  # the job runner sends it, not the publish
    run_pending(instance)
    [letter] = smtp_inbox.messages
    assert letter["To"] == "rina@network.example"
    assert letter["Subject"].strip() == "Praktik baru atau yang diperbarui cocok dengan pencarian tersimpan Anda"
    assert letter.get_content().splitlines() == [
        "“Flood sirens along the river” (versi 1) cocok dengan pencarian tersimpan Anda “Sirene banjir”.", "",
        "https://exchange.example.org/practices/jakarta/sirens"]
    assert kinds(instance, rina.id) == [("saved_search", "/practices/jakarta/sirens")]
    publishing.publish(instance, practice_text(title="Flood sirens and loudspeakers"), "sirens", "t")
    run_pending(instance)
    run_pending(instance)
    assert len(smtp_inbox.messages) == 2 and "(versi 2)" in smtp_inbox.messages[1].get_content()
    assert sending.published(instance, "jakarta/sirens", 2) == 0  # each version once


def test_no_alert_of_what_its_owner_may_not_read_when_it_is_sent(instance, make_practice):  # type: ignore[no-untyped-def]
    rina = person(instance)
    saved.create(instance, rina, "Sirens", "sirens", {}, "immediate")
    publishing.publish(instance, make_practice(title="Flood sirens"), "sirens", "t")
    people.disable(instance, rina.email, "admin")
    run_pending(instance)
    assert kinds(instance, rina.id) == []


def test_daily_alerts_gather_the_days_new_matches_once(instance, make_practice):  # type: ignore[no-untyped-def]
    rina = person(instance)
    saved.create(instance, rina, "Sirens", "sirens", {}, "daily")
    publishing.publish(instance, make_practice(title="Flood sirens"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Tsunami sirens", city="tokyo", country="JP",
                                               visibility="partners"), "tsunami", "t")
    run_pending(instance)
    assert kinds(instance, rina.id) == []  # not due yet
    tomorrow = utcnow() + datetime.timedelta(days=1, minutes=1)
    assert sending.digests(instance, tomorrow) == 2  # a partner reads the partners-only practice too
    assert sending.digests(instance, tomorrow) == 0
    assert sorted(kinds(instance, rina.id)) == [("saved_search", "/practices/jakarta/sirens"),
                                                ("saved_search", "/practices/tokyo/tsunami")]


def test_a_pinned_practices_new_version_alerts_the_pack_owner_once(instance, make_practice):  # type: ignore[no-untyped-def]
    rina = person(instance)
    publishing.publish(instance, make_practice(title="Flood sirens"), "sirens", "t")
    pack = packs.create(instance, rina, "Flood course", "id")
    packs.add_practice(instance, rina, pack, "jakarta/sirens")
    run_pending(instance)
    assert kinds(instance, rina.id) == []
    publishing.publish(instance, make_practice(title="Flood sirens and loudspeakers"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Flood sirens and loudspeakers"), "sirens", "t")  # unchanged
    run_pending(instance)
    run_pending(instance)
    assert kinds(instance, rina.id) == [("pack_update", f"/packs/{pack}")]
    [alert] = notifications.recent(instance, rina.id)
    assert alert.message == ("“Flood sirens and loudspeakers”, pinned in your pack “Flood course” at version 1, "
                             "has a newer version: 2.")
    publishing.publish(instance, make_practice(title="Sirene banjir", language="id",
                                               translation_of="jakarta/sirens"), "sirene", "t")
    run_pending(instance)
    assert kinds(instance, rina.id)[0] == ("pack_update", f"/packs/{pack}")
    assert "Sirene banjir" in notifications.recent(instance, rina.id)[0].message


def test_a_saved_search_is_kept_from_the_search_page_and_its_private_feed_follows_its_owner(
        app, client, instance, make_practice):  # type: ignore[no-untyped-def]
    rina = person(instance)
    publishing.publish(instance, make_practice(title="Flood sirens"), "sirens", "t")
    publishing.publish(instance, make_practice(title="Staff sirens", visibility="partners"), "staff", "t")
    sign_in(client, rina.email)
    page = client.get("/practices?q=sirens&hazard=riverine-flood").get_data(as_text=True)
    assert 'action="/account/saved-searches"' in page and "Save this search" in page
    from tests.test_accounts import csrf_token

    made = post(client, "/account/saved-searches", {"csrf_token": csrf_token(client), "q": "sirens",
                                                   "hazard": "riverine-flood", "name": "Sirens", "frequency": "weekly"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "private, no-store"
    address = made.get_data(as_text=True).split('id="feed-address" type="text" readonly value="')[1].split('"')[0]
    path = address.removeprefix("http://px.test")
    [kept] = saved.mine(instance, rina)
    assert (kept.query, kept.filters, kept.frequency) == ("sirens", {"hazard": ["riverine-flood"]}, "weekly")
    anonymous = app.test_client()
    parsed = feedparser.parse(anonymous.get(path).get_data())
    assert not parsed.bozo and sorted(e.title for e in parsed.entries) == ["Flood sirens", "Staff sirens"]
    assert "Staff sirens" not in anonymous.get("/feeds/search.atom?q=sirens").get_data(as_text=True)
    bad = post(client, "/account/saved-searches", {"csrf_token": csrf_token(client), "q": "x", "hazard": "dragons",
                                                  "frequency": "daily"})
    assert bad.status_code == 400 and "dragons" in bad.get_data(as_text=True) and len(saved.mine(instance, rina)) == 1
    renewed = post(client, f"/account/saved-searches/{kept.id}/address", {"csrf_token": csrf_token(client)})
    assert renewed.status_code == 200 and anonymous.get(path).status_code == 404  # the old address is revoked
    new_path = renewed.get_data(as_text=True).split('readonly value="')[1].split('"')[0].removeprefix("http://px.test")
    fetched = anonymous.get(new_path)
    assert fetched.status_code == 200 and fetched.headers["Cache-Control"] == "private, no-cache"
    assert anonymous.get(new_path, headers={"If-None-Match": fetched.headers["ETag"]}).status_code == 304
    people.disable(instance, rina.email, "admin")
    assert anonymous.get(new_path).status_code == 404  # a disabled account's feed is gone


@pytest.mark.parametrize(("filters", "frequency", "problem"), [
    ({"hazard": ["dragons"]}, "daily", "'dragons' is not a known value of the filter hazard"),
    ({"colour": ["red"]}, "daily", "'colour' is not a filter of the search"),
    ({}, "hourly", "frequency must be immediate, daily or weekly"),
])
def test_a_bad_saved_search_is_refused_with_its_problem_named(instance, filters, frequency, problem):  # type: ignore[no-untyped-def]
    rina = person(instance)
    with pytest.raises(saved.InvalidSavedSearch, match=problem):
        saved.create(instance, rina, "x", "flood", filters, frequency)
    assert saved.mine(instance, rina) == []
