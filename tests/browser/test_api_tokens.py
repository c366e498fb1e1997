"""A personal API token made, used and revoked in a real browser, and the page on a phone in each language."""

from __future__ import annotations

import urllib.error
import urllib.request

from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people


def _status(url: str, secret: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_a_token_is_shown_once_works_and_stops_when_revoked(page: Page, live_server, live_instance, screenshot):
    people.create_user(live_instance, "dewi@bpbd.example", "Dewi Kusuma", ["contributor"], ["jakarta"], "test",
                       "rainy season levee walk")
    page.goto(live_server + "/login?next=/account/tokens")
    page.get_by_label("E-mail").fill("dewi@bpbd.example")
    page.get_by_label("Password").fill("rainy season levee walk")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Token name").fill("BPBD nightly sync")
    page.get_by_label("submit practices for review").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("pxt_")
    screenshot("api-tokens-created")
    assert _status(live_server + "/api/v1/cities", secret) == 200
    page.goto(live_server + "/account/tokens")
    expect(page.locator("#new-token")).to_have_count(0)
    for language in ("en", "id", "ja"):
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server + f"/account/tokens?lang={language}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            screenshot(f"api-tokens-{language}-{width}")
    page.goto(live_server + "/account/tokens?lang=en")
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token was revoked")).to_be_visible()
    assert _status(live_server + "/api/v1/cities", secret) == 401
