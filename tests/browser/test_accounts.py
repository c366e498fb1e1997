"""Signing in with a real browser: the secure session cookie works on 127.0.0.1."""

from __future__ import annotations

from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from exchange.library import publishing
from tests.conftest import practice_text


def test_partner_staff_sign_in_and_read_a_partners_only_practice(page: Page, live_server, live_instance, screenshot):
    people.create_user(live_instance, "ayu@bpbd.example", "Ayu Lestari", ["reader"], [], "test",
                         "rainy season levee walk")
    publishing.publish(live_instance, practice_text(visibility="partners", title="Radio channels for Siaga 1"),
                    "radio-channels", "test")
    page.goto(live_server + "/practices/jakarta/radio-channels")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail").fill("ayu@bpbd.example")
    page.get_by_label("Password").fill("rainy season levee walk")
    screenshot("sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Radio channels for Siaga 1")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot("partners-only-practice")
    page.get_by_role("button", name="Sign out").click()
    page.goto(live_server + "/practices/jakarta/radio-channels")
    expect(page.get_by_role("heading", name="We could not find that page")).to_be_visible()
