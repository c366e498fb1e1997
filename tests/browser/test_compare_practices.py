"""Comparing practices across cities in Chromium: choosing them on search results, then reading them
side by side in columns on a wide screen and one after another on a phone, in en, id and ja."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.browser.test_phone import DESKTOP
from tests.browser.test_phone import PHONE
from tests.browser.test_phone import SCREENS
from tests.browser.test_phone import no_sideways_scrolling
from tests.browser.test_phone import open_at  # noqa: F401  # a fixture
from tests.browser.test_phone import shoot

THREE = ("/compare?p=kobe/shelter-operation-procedure&p=kobe/hinanjo-unei-tejun"
         "&p=jakarta/daftar-periksa-posko-pengungsian-banjir")
LANGUAGES = pytest.mark.parametrize("language", ["en", "id", "ja"])


def boxes(page: Page, selector: str) -> list[dict[str, float]]:
    found = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    assert found and all(box is not None for box in found), f"{selector} is not shown"
    return found  # type: ignore[return-value]


@SCREENS
@LANGUAGES
def test_three_practices_side_by_side_on_a_desktop_stacked_on_a_phone(
        open_at, live_server, screen, language):  # noqa: F811
    page = open_at(screen, f"{live_server}{THREE}&lang={language}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    no_sideways_scrolling(page, screen)
    heads = boxes(page, ".compare-head")
    cells = boxes(page, ".section-row >> nth=0 >> .compare-cell")
    assert len(heads) == 3 and len(cells) == 3
    if screen == DESKTOP:  # three columns: side by side at one height, left to right
        assert len({round(box["y"]) for box in heads}) == 1
        assert heads[0]["x"] < heads[1]["x"] < heads[2]["x"]
        assert len({round(box["y"]) for box in cells}) == 1 and cells[0]["x"] < cells[1]["x"] < cells[2]["x"]
        assert all(box["width"] < screen["width"] / 3 for box in cells)
    else:  # one column: one after another, each as wide as the others
        assert heads[0]["y"] < heads[1]["y"] < heads[2]["y"] and len({round(box["x"]) for box in heads}) == 1
        assert cells[0]["y"] < cells[1]["y"] < cells[2]["y"] and len({round(box["x"]) for box in cells}) == 1
        # each section names the practice it belongs to
        names = page.locator(".section-row >> nth=0 >> .cell-practice")
        expect(names.nth(1)).to_be_visible()
        expect(names.nth(1)).to_contain_text("日本語")
    shoot(page, f"compare-three-{language}-{screen['width']}")


@SCREENS
@LANGUAGES
def test_choosing_practices_on_search_results_opens_the_comparison(
        open_at, live_server, screen, language):  # noqa: F811
    page = open_at(screen, f"{live_server}/practices?kind=procedure&lang={language}")
    no_sideways_scrolling(page, screen)
    picks = page.locator(".compare-pick input")
    assert picks.count() >= 2
    picks.nth(0).check()
    picks.nth(1).check()
    shoot(page, f"compare-choose-{language}-{screen['width']}")
    page.locator("#compare-form button").click()
    page.wait_for_url("**/compare?p=*")
    assert page.url.count("p=") == 2
    expect(page.locator(".compare-head")).to_have_count(2)
    no_sideways_scrolling(page, screen)
    shoot(page, f"compare-two-{language}-{screen['width']}")


@pytest.mark.parametrize("screen", [PHONE], ids=["390"])
def test_filter_chips_remove_one_filter_each_on_a_phone(open_at, live_server, screen):  # noqa: F811
    page = open_at(screen, f"{live_server}/practices?hazard=earthquake&language=ja&lang=ja")
    no_sideways_scrolling(page, screen)
    chip = page.get_by_role("link", name="絞り込みを解除: 言語: 日本語")
    box = chip.bounding_box()
    assert box is not None and box["height"] >= 44
    shoot(page, "search-chips-ja-390")
    chip.click()
    page.wait_for_url("**/practices?hazard=earthquake&lang=ja")
    expect(page.locator(".active-filters a")).to_have_count(1)
