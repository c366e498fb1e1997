"""Building a pack without losing one's place (issue 13): add from search in place, drag and keyboard reorder.

At 390 px and 1,280 px, in English, Indonesian and Japanese: adding from the results keeps the page where it was and
shows "In this pack" (no navigation); an entry dragged by its handle, and one moved with its Down button
(focus staying on it), keep their new places after a reload; nothing scrolls sideways. Without
JavaScript, Add comes back to the result added.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from exchange.packs import packs
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_contribution_journey import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
IN_THIS_PACK = {"en": "In this pack", "id": "Sudah di paket ini", "ja": "この研修パックに収録済み"}


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-first-screen.png"))


def no_sideways_scrolling(page: Page, width: int) -> None:
    scrolled = page.evaluate("document.scrollingElement.scrollWidth")
    assert scrolled <= width, f"the page is {scrolled} px wide in a {width} px window"


def signed_in(browser: Browser, live_server: str, email: str, screen: dict[str, int],
              javascript: bool = True) -> Page:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(live_server + "/login?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # in the menu, folded on a phone
    page.set_viewport_size(screen)
    return page


def checklist_box_is_inline(page: Page) -> None:
    """The first checklist item's box sits on the first line of its text, before it."""
    item = page.locator(".practice-body li.task-list-item").first
    item.scroll_into_view_if_needed()
    gap = item.evaluate("""li => {
        const walker = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
        let text = walker.nextNode();
        while (text && !text.textContent.trim()) text = walker.nextNode();
        const range = document.createRange();
        range.selectNodeContents(text);
        const line = range.getClientRects()[0], box = li.querySelector("input").getBoundingClientRect();
        return {middle: Math.abs((line.top + line.bottom) / 2 - (box.top + box.bottom) / 2),
                before: line.left - box.right};
    }""")
    assert gap["middle"] < 8 and 0 <= gap["before"] < 20, gap


def order_on(page: Page) -> list[int]:
    return [int(i) for i in page.locator(".pack-entries > li").evaluate_all("items => items.map(i => i.dataset.item)")]


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("language", ["en", "id", "ja"])
def test_add_from_search_in_place_then_drag_and_keyboard_reorder(browser: Browser, live_server, live_instance,
                                                                 screen, language):
    width = screen["width"]
    email = f"trainer-{language}-{width}@semarang.example"
    people.create_user(live_instance, email, "Dewi", ["reader"], [], "test", PASSWORD)
    trainer = people.load(live_instance, f"{people.ids_for_emails(live_instance, [email])[0][0]}:1")
    pack = packs.create(live_instance, trainer, f"Pelatihan {language} {width}", language)
    page = signed_in(browser, live_server, email, screen)

    # Add the third result: the page stays where it is and the result says "In this pack".
    page.goto(live_server + f"/practices?q=banjir&lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    result = page.locator(".result").nth(2)
    practice_id = result.get_attribute("id").removeprefix("practice-")
    result.locator("[data-pack-add] button").scroll_into_view_if_needed()
    page.evaluate("window.stillHere = true")
    before = page.evaluate("window.scrollY")
    assert before > 0 or width > 1000  # on a phone the third result is further down than the first screen
    url = page.url
    result.locator("[data-pack-add] button").click()
    expect(result.locator(".in-pack-mark")).to_have_text(f"✓ {IN_THIS_PACK[language]}")
    expect(result.locator(".pack-status")).not_to_be_empty()
    expect(result.locator("[data-pack-add]")).to_be_hidden()
    expect(result.locator("[data-pack-undo] button")).to_be_focused()
    assert page.evaluate("window.stillHere") is True and page.url == url  # no navigation, no reload
    assert abs(page.evaluate("window.scrollY") - before) <= 2
    no_sideways_scrolling(page, width)
    shoot(page, f"pack-add-in-place-{width}-{language}")
    assert [e.item.practice_id for e in packs.read(live_instance, trainer, pack)[1]] != []
    page.reload()
    expect(page.locator(f'[id="practice-{practice_id}"] .in-pack-mark')).to_be_visible()
    expect(page.locator(".in-pack-mark:visible")).to_have_count(1)
    page.goto(live_server + f"/practices/{practice_id}")
    expect(page.locator(".practice-pack .in-pack-mark")).to_be_visible()
    shoot(page, f"pack-practice-page-{width}-{language}")
    page.goto(live_server + "/practices/manila/typhoon-preemptive-evacuation")
    checklist_box_is_inline(page)
    no_sideways_scrolling(page, width)
    page.go_back()
    page.go_back()

    # Drag the last entry to the top by its handle: one request saves the whole order.
    for index in (0, 1):
        hit = page.locator(".result").nth(index)
        if hit.locator("[data-pack-add]").is_visible():
            hit.locator("[data-pack-add] button").click()
            expect(hit.locator(".in-pack-mark")).to_be_visible()
    packs.add_section(live_instance, trainer, pack, "Sebelum banjir" if language == "en" else "発災前")
    page.goto(live_server + f"/packs/{pack}")
    entries = page.locator(".pack-entries > li")
    expect(entries).to_have_count(4)
    start = order_on(page)
    handle = entries.nth(3).locator("[data-drag]")
    expect(handle).to_be_visible()
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    entries.nth(0).scroll_into_view_if_needed()
    for step in range(1, 6):  # up the page, in steps as a hand moves
        top = entries.nth(0).bounding_box()["y"]
        page.mouse.move(box["x"] + box["width"] / 2, top + 5 + (5 - step) * 40)
    page.mouse.up()
    dragged = [start[3], *start[:3]]
    expect(page.locator("#pack-status")).not_to_be_empty()
    assert order_on(page) == dragged
    assert [e.item.id for e in packs.read(live_instance, trainer, pack)[1]] == dragged
    page.reload()
    assert order_on(page) == dragged
    no_sideways_scrolling(page, width)
    shoot(page, f"pack-dragged-{width}-{language}")

    # With the keyboard: Down on the first entry moves it, in place, and the focus stays on it.
    down = entries.nth(0).locator("form[data-move=down] button")
    down.focus()
    page.keyboard.press("Enter")
    moved = [dragged[1], dragged[0], *dragged[2:]]
    expect(page.locator(".pack-entries > li").nth(1)).to_have_attribute("data-item", str(dragged[0]))
    assert page.evaluate("document.activeElement.closest('[data-item]').dataset.item") == str(dragged[0])
    page.keyboard.press("Enter")  # once more: the focus never left it
    moved = [dragged[1], dragged[2], dragged[0], dragged[3]]
    expect(page.locator(".pack-entries > li").nth(2)).to_have_attribute("data-item", str(dragged[0]))
    expect(page.locator("#pack-status")).to_contain_text("3")
    page.reload()
    assert order_on(page) == moved
    assert [e.item.id for e in packs.read(live_instance, trainer, pack)[1]] == moved
    page.locator(".pack-settings > summary").click()
    no_sideways_scrolling(page, width)
    shoot(page, f"pack-tools-{width}-{language}")
    page.context.close()


def test_without_javascript_add_and_up_come_back_to_their_place(browser: Browser, live_server, live_instance):
    email = "nojs@semarang.example"
    people.create_user(live_instance, email, "Dewi", ["reader"], [], "test", PASSWORD)
    trainer = people.load(live_instance, f"{people.ids_for_emails(live_instance, [email])[0][0]}:1")
    pack = packs.create(live_instance, trainer, "Tanpa JavaScript", "id")
    page = signed_in(browser, live_server, email, PHONE, javascript=False)
    page.goto(live_server + "/practices?q=banjir")
    result = page.locator(".result").nth(3)
    practice_id = result.get_attribute("id").removeprefix("practice-")
    expect(result.locator("[data-drag]")).to_have_count(0)
    result.locator("[data-pack-add] button").click()
    assert page.url.endswith(f"/practices?q=banjir#practice-{practice_id}")
    added = page.locator(f'[id="practice-{practice_id}"]')
    expect(added.locator(".in-pack-mark")).to_be_visible()
    page.wait_for_load_state("load")  # the browser scrolls to the fragment once the stylesheets are in
    page.wait_for_function("window.scrollY > 0", polling=100)
    assert added.bounding_box()["y"] < PHONE["height"]
    shoot(page, "pack-add-without-javascript-390")
    packs.add_section(live_instance, trainer, pack, "Sebelum banjir")
    page.goto(live_server + f"/packs/{pack}")
    section = page.locator(".pack-section")
    expect(page.locator(".pack-entries [data-drag]:visible")).to_have_count(0)  # a handle needs the script
    section.locator("form[data-move=up] button").click()
    item = section.get_attribute("id")
    assert page.url.endswith(f"/packs/{pack}#{item}")
    expect(page.locator(".pack-entries > li").first).to_have_attribute("id", item)
    page.context.close()
