"""A reader's journey in a real browser: home → browse → open a practice, in each language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

LANGUAGES = {"en": "English", "id": "Bahasa Indonesia", "ja": "日本語"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_browse_open_a_practice(page: Page, live_server, screenshot, language):
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", name="Disaster-risk practices, shared between cities")).to_be_visible()
    screenshot("home")
    page.locator("#by-language + ul").get_by_role("link", name=re.compile(LANGUAGES[language])).click()
    expect(page).to_have_url(re.compile(rf"/practices\?language={language}$"))
    cards = page.locator("article.practice-card")
    expect(cards.first).to_be_visible()
    page.wait_for_load_state("domcontentloaded")  # every card, not only those parsed when the first showed
    for lang in cards.evaluate_all("cards => cards.map(c => c.lang)"):
        assert lang == language
    screenshot(f"browse-{language}")
    title = cards.first.locator("h3 a").inner_text()
    cards.first.locator("h3 a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("article.practice")).to_have_attribute("lang", language)
    expect(page.get_by_role("heading", name="About this practice")).to_be_visible()
    expect(page.get_by_role("heading", name="Cite and reuse")).to_be_visible()
    toc_link = page.locator("nav.toc a").first
    toc_link.click()
    expect(page).to_have_url(re.compile(r"#h-"))
    screenshot(f"practice-{language}")


def test_translation_links_switch_language(page: Page, live_server, screenshot):
    page.goto(live_server + "/practices/tokyo/koto5ku-kouiki-hinan-keikaku")
    page.locator("#main").get_by_role("link", name="English", exact=True).click()  # not the header switcher
    expect(page.locator("article.practice")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Translated from")).to_be_visible()


def test_filters_work_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/practices")
    page.get_by_label(re.compile(r"^\s*Tsunami")).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"hazard=tsunami"))
    expect(page.locator(".result-count")).to_contain_text("4 practices")
    context.close()


def test_narrow_screen_and_print_layouts(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/practices/kobe/hinanjo-unei-tejun")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the practice page scrolls sideways on a phone"
    from tests.browser.conftest import SCREENSHOTS

    page.screenshot(path=str(SCREENSHOTS / "practice-mobile.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.locator("nav.toc")).to_be_hidden()
    expect(page.get_by_role("heading", name="Cite and reuse")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "practice-print.png"), full_page=True)
    context.close()


def test_missing_practice_shows_a_friendly_404(page: Page, live_server):
    response = page.goto(live_server + "/practices/jakarta/does-not-exist")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()


@pytest.mark.parametrize(("query", "language"), [("flood early warning", "en"), ("kebanjiran", "id"), ("避難所", "ja")])
def test_search_from_the_home_page(page: Page, live_server, screenshot, query, language):
    page.goto(live_server + "/")
    page.get_by_role("searchbox", name="Search the library").fill(query)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Search results")).to_be_visible()
    first = page.locator("article.practice-card").first
    expect(first).to_have_attribute("lang", language)
    expect(first.locator(".snippet mark").first).to_be_visible()
    screenshot(f"search-{language}")
    title = first.locator("h3 a").inner_text()
    first.locator("h3 a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("heading", name="Related practices")).to_be_visible()


def test_misspelt_search_is_corrected(page: Page, live_server, screenshot):
    page.goto(live_server + "/practices?q=evacuaton")
    expect(page.locator(".notice")).to_contain_text("showing results for “evacuation”")
    expect(page.locator("article.practice-card").first).to_be_visible()
    page.goto(live_server + "/practices?q=zzqxv")
    expect(page.get_by_role("heading", name=re.compile("Nothing found"))).to_be_visible()
    screenshot("search-nothing-found")


@pytest.mark.parametrize(("zone", "hours", "language", "named"), [
    ("Asia/Tokyo", 9, "ja", "JST"), ("Asia/Jakarta", 7, "id", "WIB"), ("UTC", 0, "en", "UTC")])
def test_version_times_are_shown_in_the_reader_s_own_time_zone(browser, live_server, zone, hours, language, named):
    # the page comes from a cache shared by every reader, in UTC: the reader's browser moves it to their zone
    import datetime

    from tests.browser.conftest import SCREENSHOTS

    context = browser.new_context(timezone_id=zone, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + f"/practices/kobe/hinanjo-unei-tejun?lang={language}")
    time = page.locator(".versions time").first
    utc = datetime.datetime.fromisoformat(time.get_attribute("datetime").replace("Z", "+00:00"))
    there = utc + datetime.timedelta(hours=hours)
    hour = there.hour % 12 or 12 if language == "en" else there.hour  # 2:45 AM · 09.45 · 11:45
    expect(time).to_contain_text(re.compile(rf"(?<!\d)0?{hour}[:.]{there:%M}(?!\d)"))
    expect(time).to_contain_text(re.compile(rf"{named}|GMT\+{hours}" if hours else named))
    expect(time).to_have_attribute("title", re.compile(r" UTC$"))  # the time in UTC, on hover
    assert str(there.year) in time.inner_text()
    time.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"versions-{language}-{zone.replace('/', '-')}.png"))
    context.close()
