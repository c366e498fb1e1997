"""The whole contribution journey in a real browser (issue 4's must-show)."""

from __future__ import annotations

from playwright.sync_api import Browser
from playwright.sync_api import expect

from exchange.accounts import people
from tests.browser.conftest import SCREENSHOTS

PASSWORD = "rainy season levee walk"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def signed_in_page(browser: Browser, live_server: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return context, page


def test_write_in_indonesian_review_revise_approve_and_find(browser: Browser, live_server, live_instance):
    people.create_user(live_instance, "siti@bpbd-jakarta.example", "Siti Rahma", ["contributor"], ["jakarta"],
                         "test", PASSWORD)
    people.create_user(live_instance, "rina@network.example", "Rina", ["reviewer"], [], "test", PASSWORD)
    author_context, author = signed_in_page(browser, live_server, "siti@bpbd-jakarta.example")
    author.get_by_role("link", name="Dashboard").click()
    author.get_by_role("link", name="Write a practice").click()
    author.get_by_label("Address (slug)").fill("pompa-mobile-rw")
    author.get_by_label("Title").fill("Pengerahan pompa mobile di tingkat RW")
    author.get_by_label("Summary").fill("Cara RW meminta dan mengoperasikan pompa mobile saat genangan.")
    author.get_by_label("Language").select_option("id")
    author.get_by_label("Kind").select_option("procedure")
    author.get_by_label("Urban flood", exact=True).check()  # options in the interface language
    author.get_by_label("Response", exact=True).check()
    author.wait_for_load_state("load")  # the live-preview script is attached once the page has loaded
    body = author.get_by_label("Text (Markdown)")
    body.fill("## Langkah\n\n1. Ketua RW melapor ke posko kelurahan.\n2. Pompa mobile zzgenangan dikirim.\n\n"
              "- [ ] Bahan bakar tersedia\n")
    expect(author.locator("#preview h2").first).to_have_text("Langkah")  # the live preview, rendered by the server
    expect(author.locator("#preview input[type=checkbox]")).to_have_count(1)
    shot(author, "contribute-live-preview")
    author.get_by_role("button", name="Submit for review").click()
    expect(author.locator("h1 .badge")).to_have_text("submitted")

    reviewer_context, reviewer = signed_in_page(browser, live_server, "rina@network.example")
    reviewer.get_by_role("link", name="Dashboard").click()
    waiting = reviewer.locator("table.queue tr", has_text="Pengerahan pompa mobile di tingkat RW")
    expect(waiting).to_contain_text("Siti Rahma")  # the queue says what and whose, not city/slug
    waiting.get_by_role("link", name="Pengerahan pompa mobile di tingkat RW").click()
    reviewer.get_by_label("Comment for the contributor").fill("Tambahkan siapa yang membayar bahan bakar.")
    reviewer.get_by_role("button", name="Request changes").click()
    expect(reviewer.locator("h1 .badge")).to_have_text("changes requested")
    shot(reviewer, "review-changes-requested")

    author.reload()
    expect(author.get_by_text("Tambahkan siapa yang membayar bahan bakar.")).to_be_visible()
    author.get_by_role("link", name="Edit").click()
    author.get_by_label("Text (Markdown)").fill(
        "## Langkah\n\n1. Ketua RW melapor ke posko kelurahan.\n2. Pompa mobile zzgenangan dikirim.\n\n"
        "## Biaya\n\nBahan bakar ditanggung kelurahan.\n")
    author.get_by_role("button", name="Submit for review").click()
    expect(author.locator("h1 .badge")).to_have_text("submitted")

    reviewer.reload()
    reviewer.get_by_role("button", name="Approve and publish").click()
    expect(reviewer.locator("h1 .badge")).to_have_text("approved")

    # One search, never repeated: the practice is searchable as soon as it is approved (the latency is
    # measured in bench/search.py, not timed here, where a busy CI machine would make it flaky).
    visitor = browser.new_context().new_page()
    visitor.goto(live_server + "/practices?q=zzgenangan")
    expect(visitor.locator("article.practice-card h3")).to_have_text("Pengerahan pompa mobile di tingkat RW")
    shot(visitor, "anonymous-finds-approved")
    for context in (author_context, reviewer_context, visitor.context):
        context.close()
