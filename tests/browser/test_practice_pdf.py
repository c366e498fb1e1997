"""Save as PDF on a phone: a real link beside Print and Share link, on the first screen, big enough to tap,
in the reader's language, that downloads the practice under its title."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.browser.test_phone import DESKTOP
from tests.browser.test_phone import PHONE
from tests.browser.test_phone import PRACTICE
from tests.browser.test_phone import open_at  # noqa: F401 - a fixture used below
from tests.browser.test_phone import shoot

LABELS = {"en": "Save as PDF", "id": "Simpan sebagai PDF", "ja": "PDFで保存"}


def save_link(page: Page, language: str):  # type: ignore[no-untyped-def]
    return page.locator(".practice-actions").get_by_role("link", name=LABELS[language], exact=True)


@pytest.mark.parametrize("language", list(LABELS))
def test_save_as_pdf_is_on_the_first_screen_of_a_practice_on_a_phone(open_at, live_server, language):  # noqa: F811
    page = open_at(PHONE, f"{live_server}{PRACTICE}?lang={language}")
    link = save_link(page, language)
    expect(link).to_be_visible()
    shoot(page, f"practice-pdf-link-{language}-390")
    box = link.bounding_box()
    assert box is not None and box["height"] >= 44, f"Save as PDF is {box and box['height']:.0f} px tall"
    assert box["y"] + box["height"] <= PHONE["height"], f"Save as PDF ends {box['y'] + box['height']:.0f} px down"
    assert link.get_attribute("href") == f"{PRACTICE}.pdf"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "大規模地震時の避難所開設・運営の手順（神戸市）-v1.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")


def test_save_as_pdf_works_without_javascript_and_on_a_wide_screen(open_at, live_server):  # noqa: F811
    page = open_at(DESKTOP, f"{live_server}{PRACTICE}?lang=id", java_script_enabled=False)
    link = save_link(page, "id")
    expect(link).to_be_visible()
    shoot(page, "practice-pdf-link-id-1280-no-js")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith("-v1.pdf")
