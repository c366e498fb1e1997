"""Phone first: at 390 × 844 (and still at 1,280 × 800) what a reader came for is on the first screen.

Positions are measured in Chromium at the top of the page (before any scroll): the first result of a
search and the text of a practice must start above the bottom of the first screen, nothing may scroll
sideways, and on a phone the header's links and the Filter control are at least 44 px tall to tap.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_contribution_journey import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SCREENS = pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
PRACTICE = "/practices/kobe/hinanjo-unei-tejun"


@pytest.fixture
def open_at(browser: Browser):  # type: ignore[no-untyped-def]
    """open_at(screen, url, **context options) gives a page of that size at url, closed afterwards."""
    contexts = []

    def open_page(screen: dict[str, int], url: str, **options) -> Page:  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=screen, **options)
        contexts.append(context)
        page = context.new_page()
        page.goto(url)
        return page

    yield open_page
    for context in contexts:
        context.close()


def top_of(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["y"]


def no_sideways_scrolling(page: Page, screen: dict[str, int]) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= screen["width"], f"the page is {width} px wide in a {screen['width']} px window"


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-first-screen.png"))


def heights(page: Page, selector: str) -> list[float]:
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().height)")


@SCREENS
def test_the_first_result_of_a_search_is_on_the_first_screen(open_at, live_server, screen):
    page = open_at(screen, live_server + "/practices?q=banjir")
    expect(page.locator("article.practice-card").first).to_be_visible()
    shoot(page, f"search-banjir-{screen['width']}")
    top = top_of(page, "article.practice-card")
    assert top < screen["height"], f"the first result starts {top:.0f} px down"
    box = page.locator("main input#q").bounding_box()
    assert box is not None and box["width"] >= min(screen["width"] - 60, 500), "the search box is cramped"
    no_sideways_scrolling(page, screen)


def test_filters_are_folded_on_a_phone_and_work_without_javascript(open_at, live_server):
    page = open_at(PHONE, live_server + "/practices?q=banjir", java_script_enabled=False)
    summary = page.locator("details.filters > summary")
    expect(summary).to_be_visible()
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()
    box = summary.bounding_box()
    assert box is not None and box["height"] >= 44, "the Filter control is too small to tap"
    summary.click()
    shoot(page, "search-banjir-390-filters-open")
    hazard = page.locator("details.filters input[name=hazard]").first
    value = hazard.get_attribute("value")
    hazard.check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"hazard={value}"))
    expect(page.locator(".active-filters a")).to_have_count(1)
    expect(page.locator("details.filters > summary")).to_contain_text("1")
    expect(page.locator("article.practice-card").first).to_be_visible()
    page.wait_for_load_state("load")  # positions only once the stylesheets are in (the URL changes before)
    assert top_of(page, "article.practice-card") < PHONE["height"]


@SCREENS
def test_the_text_of_a_practice_is_on_the_first_screen(open_at, live_server, screen):
    page = open_at(screen, live_server + PRACTICE)
    shoot(page, f"practice-{screen['width']}")
    top = top_of(page, ".practice-body")
    assert top < screen["height"], f"the practice's text starts {top:.0f} px down"
    no_sideways_scrolling(page, screen)
    header_search = page.locator("header.site-header form[role=search]")
    expect(header_search.locator("input[name=q]")).to_be_visible()
    expect(page.locator("details.meta-card > summary")).to_be_visible()
    actions = page.locator(".practice-actions")
    expect(actions.get_by_role("button", name="Print")).to_be_visible()
    expect(actions.get_by_role("link", name="Share link")).to_have_attribute(
        "href", re.compile(re.escape(PRACTICE) + "$"))


def test_the_metadata_card_unfolds_on_a_phone(open_at, live_server):
    page = open_at(PHONE, live_server + PRACTICE)
    expect(page.get_by_text("Sendai Framework")).to_be_hidden()
    page.locator("details.meta-card > summary").click()
    expect(page.get_by_text("Sendai Framework")).to_be_visible()


def test_the_header_search_finds_practices(open_at, live_server):
    page = open_at(PHONE, live_server + PRACTICE)
    page.locator("header.site-header input[name=q]").fill("banjir")
    page.locator("header.site-header input[name=q]").press("Enter")
    expect(page).to_have_url(re.compile(r"/practices\?q=banjir"))
    expect(page.locator("article.practice-card").first).to_be_visible()


@pytest.mark.parametrize("url", ["/", "/practices?q=banjir", PRACTICE])
def test_touch_targets_on_a_phone_are_44_px(open_at, live_server, url):
    page = open_at(PHONE, live_server + url)
    for height in heights(page, "header.site-header a, header.site-header button, header.site-header input"):
        assert height >= 44, f"a target in the header of {url} is {height:.0f} px tall"
    if page.locator("details.toc-card").count():
        page.locator("details.toc-card > summary").click()  # the contents are folded on a phone
        expect(page.locator(".toc a").first).to_be_visible()
    for height in heights(page, ".pagination a, details.filters > summary, .practice-actions a, "
                                ".practice-actions button, .breadcrumb a, .toc a"):
        assert height >= 44, f"a target on {url} is {height:.0f} px tall"
    if url == PRACTICE:
        assert len(heights(page, ".breadcrumb a")) == 3 and len(heights(page, ".toc a")) > 3


@pytest.mark.parametrize("language", ["en", "id", "ja"])
def test_breadcrumb_and_contents_links_are_44_px_on_a_phone_only(open_at, live_server, language):
    for screen in (PHONE, DESKTOP):
        page = open_at(screen, live_server + f"{PRACTICE}?lang={language}")
        summary = page.locator("details.toc-card > summary")
        if screen is PHONE:
            summary.click()
        tall = [h >= 44 for h in heights(page, ".breadcrumb a, .toc a")]
        assert tall and all(tall) == (screen is PHONE), (screen, language)


def test_apply_filters_is_within_reach_in_the_open_filter_panel(open_at, live_server):
    page = open_at(PHONE, live_server + "/practices?q=banjir", java_script_enabled=False)
    page.locator("details.filters > summary").click()
    apply = page.get_by_role("button", name="Apply filters")
    boxes = page.locator("details.filters input[type=checkbox]")
    assert boxes.count() > 15, "too few filters to test reaching the button"
    for box in (boxes.first, boxes.nth(boxes.count() // 2), boxes.last):
        box.scroll_into_view_if_needed()
        box.check()
        button, ticked = apply.bounding_box(), box.bounding_box()
        viewport = page.evaluate("({top: 0, bottom: window.innerHeight})")
        assert button is not None and ticked is not None
        assert viewport["top"] <= button["y"] and button["y"] + button["height"] <= viewport["bottom"], \
            f"the Apply button is at {button['y']:.0f} px, off the screen"
        assert button["height"] >= 44
        assert ticked["y"] + ticked["height"] <= button["y"] + 1, "the Apply button hides the box just ticked"
    shoot(page, "search-banjir-390-filters-ticked")
    apply.click()
    expect(page.locator("ul.active-filters li")).to_have_count(3)


WIDE_TABLE = "/practices/tokyo/heatstroke-alert-procedure"  # a table of 500 px in a 324 px column


@pytest.mark.parametrize("language", ["en", "id", "ja"])
def test_a_table_that_scrolls_sideways_says_so_and_takes_keyboard_focus(open_at, live_server, language):
    page = open_at(PHONE, live_server + f"{WIDE_TABLE}?lang={language}")
    region = page.locator(".practice-body .table-scroll[role=region][tabindex='0']").first
    expect(region).to_be_attached()
    assert region.get_attribute("aria-label"), "the scrolling table has no name"
    overflowing = region.evaluate("r => r.scrollWidth > r.clientWidth + 1")
    hint = page.locator(".practice-body .scroll-hint").first
    if overflowing:
        expect(hint).to_be_visible()
        region.scroll_into_view_if_needed()
        shoot(page, f"practice-table-390-{language}")
        region.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("r => r.scrollLeft > 0", arg=region.element_handle())
    else:
        expect(hint).to_be_hidden()
    no_sideways_scrolling(page, PHONE)


def test_a_wide_table_shows_its_edge_without_javascript(open_at, live_server):
    page = open_at(PHONE, live_server + WIDE_TABLE, java_script_enabled=False)
    table = page.locator(".practice-body table").first
    assert table.evaluate("t => t.scrollWidth > t.clientWidth"), "pick a practice whose table is wider than a phone"
    background = table.evaluate("t => getComputedStyle(t).backgroundImage")
    assert "radial-gradient" in background, "no shadow shows that the table scrolls"
    no_sideways_scrolling(page, PHONE)


def test_add_to_pack_sits_at_the_top_of_a_practice(open_at, live_server, live_instance):
    people.create_user(live_instance, "sari@jakarta.example", "Sari", ["reader"], [], "test", PASSWORD)
    page = open_at(PHONE, live_server + "/login")
    page.get_by_label("E-mail").fill("sari@jakarta.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/packs")
    page.get_by_label("Title").fill("Posko banjir")
    page.get_by_role("button", name="New pack").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Posko banjir")

    page.goto(live_server + PRACTICE)
    menu = page.locator("header.site-header details.site-menu > summary")
    expect(menu).to_be_visible()
    assert all(height >= 44 for height in heights(page, "header.site-header summary, header.site-header a, "
                                                        "header.site-header button, header.site-header input"))
    add = page.locator(".practice-actions").get_by_role("button", name="Add to “Posko banjir”")
    expect(add).to_be_visible()
    shoot(page, "practice-390-signed-in")
    box = add.bounding_box()
    assert box is not None and box["y"] + box["height"] < top_of(page, ".practice-body") and box["height"] >= 44
    no_sideways_scrolling(page, PHONE)
    top = top_of(page, ".practice-body")
    assert top < PHONE["height"], f"the practice's text starts {top:.0f} px down for a signed-in trainer"
    add.click()
    expect(page.get_by_text("Added to the pack.")).to_be_visible()
    expect(page).to_have_url(live_server + PRACTICE)
    menu.click()
    page.get_by_role("link", name="Packs").click()
    expect(page.get_by_role("link", name="Posko banjir")).to_be_visible()


@SCREENS
@pytest.mark.parametrize("language", ["id", "ja"])
def test_first_screen_in_indonesian_and_japanese(open_at, live_server, screen, language):
    page = open_at(screen, live_server + f"/practices?q=banjir&lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    shoot(page, f"search-banjir-{screen['width']}-{language}")
    assert top_of(page, "article.practice-card") < screen["height"]
    no_sideways_scrolling(page, screen)
    page.goto(live_server + PRACTICE)
    shoot(page, f"practice-{screen['width']}-{language}")
    assert top_of(page, ".practice-body") < screen["height"]
    no_sideways_scrolling(page, screen)
    for height in heights(page, "header.site-header a, header.site-header button, .practice-actions a"):
        assert screen["width"] > 860 or height >= 44


def test_no_practice_scrolls_sideways_on_a_phone(open_at, live_server, live_instance):
    # a long one-line summary of the folded metadata (many hazards) once made the page 557 px wide
    page = open_at(PHONE, live_server + "/?lang=id")
    for practice_id in live_instance.store.practice_ids():
        page.goto(live_server + f"/practices/{practice_id}")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], f"{practice_id} is {width} px wide at {PHONE['width']} px"


def test_no_practices_edit_form_scrolls_sideways_on_a_phone(open_at, live_server, live_instance):
    # the edit form of one Semarang practice was 452 px wide (its grid sized to a long value)
    cities = sorted({practice_id.split("/")[0] for practice_id in live_instance.store.practice_ids()})
    people.create_user(live_instance, "editor@network.example", "Editor", ["contributor"], cities, "test", PASSWORD)
    page = open_at(PHONE, live_server + "/login?lang=id")
    page.locator("input[name=email]").fill("editor@network.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("form[action$='/logout'] button")).to_have_count(1)
    for practice_id in live_instance.store.practice_ids():
        page.goto(live_server + f"/practices/{practice_id}/edit")
        expect(page.locator("textarea[name=body]")).to_have_count(1)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], f"the edit form of {practice_id} is {width} px wide at {PHONE['width']} px"


def test_a_keyboard_skips_the_filters_to_the_results(open_at, live_server):
    # 48 tab stops of filters once stood between the search box and the first result
    page = open_at(DESKTOP, live_server + "/practices?q=banjir")
    page.locator("#q").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('skip')"):
            break
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#results"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('article.practice-card')"), "Tab after the skip link"


def test_compare_chosen_stays_in_reach_once_a_practice_is_ticked(open_at, live_server):
    page = open_at(PHONE, live_server + "/practices?q=banjir&lang=id")
    button = page.locator("#compare-form button[type=submit]")
    box = button.bounding_box()
    assert box is not None and box["y"] > PHONE["height"], "below the results until something is ticked"
    page.locator(".compare-pick input").first.check()
    box = button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], "in the first screen once ticked"
    no_sideways_scrolling(page, PHONE)


def test_print_shows_only_where_its_script_runs(open_at, live_server):
    # the button's hidden attribute was once laid out anyway by a rule for the practice's buttons
    without = open_at(PHONE, live_server + PRACTICE, java_script_enabled=False)
    expect(without.locator("[data-print]")).to_be_hidden()
    expect(without.get_by_role("link", name="Save as PDF")).to_be_visible()
    with_script = open_at(PHONE, live_server + PRACTICE)
    expect(with_script.locator("[data-print]")).to_be_visible()


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["x"] >= outer["x"] and inner["y"] >= outer["y"]
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


@SCREENS
def test_each_result_s_compare_box_is_inside_its_card_and_easy_to_hit(open_at, live_server, screen):
    # at 390 px the box once sat below its card's border, where it seemed to belong to the next result
    page = open_at(screen, live_server + "/practices?q=banjir")
    results = page.locator(".result")
    assert results.count() > 2
    for index in range(results.count()):
        card = results.nth(index).locator("article.practice-card").bounding_box()
        pick = results.nth(index).locator("label.compare-pick").bounding_box()
        assert card is not None and pick is not None
        assert inside(pick, card), f"result {index + 1}: the compare box {pick} is outside its card {card}"
        assert pick["height"] >= (44 if screen is PHONE else 24), f"result {index + 1}: {pick['height']:.0f} px tall"
    first = results.first.locator("label.compare-pick input")
    title = results.first.locator("h3").inner_text()
    expect(page.get_by_role("checkbox", name=re.compile(rf"^Compare ?: {re.escape(title)}$"))).to_have_count(1)
    first.focus()
    assert first.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "no focus ring"
    results.first.screenshot(path=str(SCREENSHOTS / f"search-result-card-{screen['width']}.png"))
    no_sideways_scrolling(page, screen)
