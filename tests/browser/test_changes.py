"""Readable changes (issue 13): two versions compared word by word, on a 390 px phone and a 1,280 px screen.

In English, Indonesian and Japanese the page fits the window (no sideways scrolling), the changed word is
marked (not its line or its paragraph), inline on the phone and side by side on the wide screen, and the
breadcrumb names the practice by its title. A reviewer restores only after confirming.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from exchange.library import publishing
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_contribution_journey import PASSWORD
from tests.browser.test_contribution_journey import signed_in_page
from tests.conftest import practice_text

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

#: language → (slug, title, old body, new body, the word removed, the word added)
VERSIONS = {
    "en": ("radio-check-drill", "Weekly radio check of the shelters",
           "## Steps\n\n1. Call each shelter at 6 pm on channel 3.\n2. Note who answers in the log.\n",
           "## Steps\n\n1. Call each shelter at 7 pm on channel 3.\n2. Note who answers in the log.\n", "6", "7"),
    "id": ("uji-radio-posko", "Uji radio mingguan di posko",
           "## Langkah\n\n1. Hubungi setiap posko melalui kanal 3.\n2. Catat posko yang menjawab di buku.\n",
           "## Langkah\n\n1. Hubungi setiap posko melalui kanal 5.\n2. Catat posko yang menjawab di buku.\n",
           "3", "5"),
    "ja": ("musenki-tenken", "避難所の無線機の定期点検",
           "## 手順\n\n1. 毎週月曜日に各避難所へ無線で呼びかける。\n2. 応答した避難所を記録する。\n",
           "## 手順\n\n1. 毎週水曜日に各避難所へ無線で呼びかける。\n2. 応答した避難所を記録する。\n", "月曜", "水曜"),
}
#: the text of each element as the screen shows it (without the words only screen readers hear)
ON_SCREEN = """els => els.map(e => Array.from(e.childNodes)
    .filter(n => !(n.classList && n.classList.contains('visually-hidden')))
    .map(n => n.textContent).join('').trim())"""
CITY = {"en": ("jakarta", "ID"), "id": ("jakarta", "ID"), "ja": ("kobe", "JP")}


@pytest.fixture(scope="module")
def compared(live_instance):  # type: ignore[no-untyped-def]
    """Two published versions of a practice in each language; the address of their comparison, by language."""
    addresses = {}
    for language, (slug, title, old, new, _removed, _added) in VERSIONS.items():
        city, country = CITY[language]
        for body, hazards in ((old, "[riverine-flood, extreme-rainfall]"), (new, "[riverine-flood, storm-surge]")):
            publishing.publish(live_instance, practice_text(body, title=title, language=language, city=city,
                                                            country=country, hazards=hazards), slug, "test")
        addresses[language] = f"/practices/{city}/{slug}/compare?from=1&to=2"
    return addresses


def opened(browser: Browser, screen: dict[str, int], url: str) -> Page:
    context = browser.new_context(viewport=screen)
    page = context.new_page()
    page.goto(url)
    return page


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("language", ["en", "id", "ja"])
def test_the_changed_word_is_marked_and_the_page_fits_the_screen(browser, live_server, compared, language, screen):
    slug, title, _old, _new, removed, added = VERSIONS[language]
    page = opened(browser, screen, f"{live_server}{compared[language]}&lang={language}")
    try:
        shoot(page, f"compare-{language}-{screen['width']}")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= screen["width"], f"the page is {width} px wide in a {screen['width']} px window"
        expect(page.locator("nav.breadcrumb")).to_contain_text(title)
        expect(page.locator("nav.breadcrumb")).not_to_contain_text(slug)
        hazards = page.locator("table.field-changes tr[data-field=hazards]")
        expect(hazards.locator("td.after ins")).to_have_count(1)  # the one hazard added, in the page's language
        expect(hazards.locator("td.before del")).to_have_count(1)
        shown = page.locator(".diff-sides" if screen is DESKTOP else ".diff-inline")
        hidden = page.locator(".diff-inline" if screen is DESKTOP else ".diff-sides")
        expect(shown).to_be_visible()
        expect(hidden).to_be_hidden()
        marked = {tag: shown.locator(tag).evaluate_all(ON_SCREEN) for tag in ("ins", "del")}
        assert marked == {"ins": [added], "del": [removed]}, marked
        if screen is DESKTOP:  # the two versions side by side: the old one left, the new one right
            old_box = shown.locator("del").first.bounding_box()
            new_box = shown.locator("ins").first.bounding_box()
            assert old_box and new_box and old_box["x"] + old_box["width"] <= new_box["x"]
    finally:
        page.context.close()


def test_a_reviewer_restores_only_after_confirming(browser, live_server, live_instance, compared):
    people.create_user(live_instance, "restorer@network.example", "Rina Restorer", ["reviewer"], [], "test", PASSWORD)
    context, page = signed_in_page(browser, live_server, "restorer@network.example")
    try:
        page.set_viewport_size(PHONE)
        page.goto(live_server + "/practices/kobe/musenki-tenken")
        page.get_by_role("link", name="restore").click()
        expect(page.get_by_role("heading", name="Restore version 1?")).to_be_visible()
        expect(page.locator(".diff-inline ins")).to_contain_text("月曜")  # what restoring brings back
        shoot(page, "restore-confirm-390")
        page.get_by_role("button", name="Yes, restore version 1").click()
        expect(page.get_by_text("Version 1 was published again as version 3.")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "id", "ja"])
def test_queue_review_and_notifications_fit_a_phone_and_a_wide_screen(browser, live_server, live_instance, language):
    from exchange.review import submissions

    author_email, reviewer_email = f"kenji-{language}@kobe.example", f"rina-{language}@network.example"
    people.create_user(live_instance, author_email, "Kenji Sato", ["contributor"], ["kobe"], "test", PASSWORD)
    people.create_user(live_instance, reviewer_email, "Rina", ["reviewer"], [], "test", PASSWORD)
    [author] = [p for p, _cities in people.everyone(live_instance) if p.email == author_email]
    kenji = people.by_id(live_instance, author.id)
    slug = f"musenki-koushin-{language}"
    old = "## 手順\n\n1. 毎週月曜日に各避難所へ無線で呼びかける。\n"
    publishing.publish(live_instance, practice_text(old, title="無線機の更新計画", language="ja", city="kobe",
                                                    country="JP"), slug, "test")
    text = practice_text(old.replace("月曜", "金曜"), title="無線機の更新計画", language="ja", city="kobe",
                         country="JP").decode()
    draft = submissions.save(live_instance, kenji, "kobe", slug, text, 1)
    submissions.submit(live_instance, kenji, draft.id)
    context, page = signed_in_page(browser, live_server, reviewer_email)
    try:
        for screen in (PHONE, DESKTOP):
            page.set_viewport_size(screen)
            page.goto(f"{live_server}/dashboard?lang={language}")
            row = page.locator("table.queue tr", has_text="無線機の更新計画")
            expect(row).to_contain_text("Kenji Sato")
            shoot(page, f"queue-{language}-{screen['width']}")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= screen["width"]
            page.goto(f"{live_server}/submissions/{draft.id}?lang={language}")
            shown = page.locator(".diff-sides" if screen is DESKTOP else ".diff-inline").first
            assert shown.locator("ins").evaluate_all(ON_SCREEN) == ["金曜"]
            changes = page.locator("section", has=page.locator(".changes")).first.bounding_box()
            decision = page.locator("form.review-form").bounding_box()
            assert changes and decision and changes["y"] < decision["y"], "the decision comes after the changes"
            shoot(page, f"review-{language}-{screen['width']}")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= screen["width"]
        page.locator("form.review-form textarea").fill("OK")
        page.locator("form.review-form button").first.click()
    finally:
        context.close()
    context, page = signed_in_page(browser, live_server, author_email)
    try:
        for screen in (PHONE, DESKTOP):
            page.set_viewport_size(screen)
            page.goto(f"{live_server}/notifications?lang={language}")
            expect(page.locator("ul.notifications li").first).to_contain_text("無線機の更新計画")
            shoot(page, f"notifications-{language}-{screen['width']}")
            assert page.evaluate("document.scrollingElement.scrollWidth") <= screen["width"]
    finally:
        context.close()
