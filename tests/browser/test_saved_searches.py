"""Saving a search from the search page and keeping it on the Saved searches page, in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people


def test_a_search_is_saved_with_its_feed_then_changed_and_deleted(page: Page, live_server, live_instance, screenshot):
    people.create_user(live_instance, "nadia@bpbd.example", "Nadia Putri", ["reader"], [], "test",
                       "river gauge at manggarai")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("nadia@bpbd.example")
    page.get_by_label("Password").fill("river gauge at manggarai")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/practices?q=banjir&hazard=riverine-flood")
    expect(page.get_by_role("link", name="Feed of this search")).to_be_visible()
    page.get_by_label("Alert me").select_option("immediate")
    page.get_by_role("button", name="Save this search").click()
    expect(page.get_by_role("heading", name="Saved searches", level=1)).to_be_visible()
    address = page.get_by_label("The private feed address of this search (for your feed reader):").input_value()
    assert "/feeds/saved/" in address
    screenshot("saved-search-made")
    saved = page.locator(".saved-searches > li").filter(has_text="banjir")
    expect(saved.get_by_label("Alert me")).to_have_value("immediate")
    saved.get_by_label("Alert me").select_option("weekly")
    saved.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="How often you are alerted was changed.")).to_be_visible()
    expect(page.locator(".saved-searches > li").filter(has_text="banjir").get_by_label("Alert me")).to_have_value(
        "weekly")
    page.locator(".saved-searches > li").filter(has_text="banjir").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No saved searches yet.")).to_be_visible()
    assert page.request.get(address).status == 404  # its feed went with it


def test_the_alert_frequency_is_tall_enough_to_tap_on_a_phone(page: Page, live_server, live_instance, screenshot):
    people.create_user(live_instance, "wulan@bpbd.example", "Wulan Sari", ["reader"], [], "test",
                       "river gauge at manggarai")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/login?lang=id")
    page.locator("#email").fill("wulan@bpbd.example")
    page.locator("#password").fill("river gauge at manggarai")
    page.locator("main form button[type=submit]").click()
    page.goto(live_server + "/practices?q=banjir&lang=id")
    frequency = page.locator(".save-search select[name=frequency]")
    assert frequency.bounding_box()["height"] >= 44
    screenshot("saved-search-frequency-390-id")
    page.locator(".save-search button[type=submit]").click()
    saved = page.locator(".saved-actions select[name=frequency]")
    expect(saved).to_be_visible()
    page.wait_for_load_state("load")  # its height only once the stylesheets are in (it shows before)
    assert saved.bounding_box()["height"] >= 44
    buttons = page.locator(".saved-actions button")  # Simpan, Alamat feed baru, Hapus
    assert buttons.count() >= 3 and all(buttons.nth(n).bounding_box()["height"] >= 44 for n in range(buttons.count()))
    screenshot("saved-searches-390-id")
