"""A trainer builds a course pack in a real browser and exports it (issue 5's must-show)."""

from __future__ import annotations

import io
import subprocess
import zipfile

from playwright.sync_api import Browser
from playwright.sync_api import expect

from exchange.accounts import people
from tests.browser.test_contribution_journey import PASSWORD
from tests.browser.test_contribution_journey import shot
from tests.browser.test_contribution_journey import signed_in_page


def download(page, button: str, tmp_path, name: str) -> bytes:  # type: ignore[no-untyped-def]
    """Click an export button, wait on the job page until the file is ready, and download it."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{button} export")
    shot(page, f"pack-export-{name}-progress")
    link = page.get_by_role("link", name=f"Download {button}")
    expect(link).to_be_visible(timeout=90_000)  # the job page refreshes itself until the worker is done
    shot(page, f"pack-export-{name}-ready")
    with page.expect_download() as event:
        link.click()
    path = tmp_path / event.value.suggested_filename
    event.value.save_as(path)
    return path.read_bytes()


def test_search_add_three_reorder_add_notes_and_export_pdf_and_epub(browser: Browser, live_server, live_instance,
                                                                    tmp_path):
    people.create_user(live_instance, "dewi@semarang.example", "Dewi", ["reader"], [], "test", PASSWORD)
    context, page = signed_in_page(browser, live_server, "dewi@semarang.example")
    page.get_by_role("link", name="Packs").click()
    page.get_by_label("Title").fill("Banjir rob: pelatihan Semarang")
    page.get_by_label("Language").select_option("id")
    page.get_by_role("button", name="New pack").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Banjir rob: pelatihan Semarang")

    page.goto(live_server + "/practices?q=banjir")
    cards = page.locator(".practice-card")
    titles = []
    for index in range(3):
        card = page.locator(".practice-card").nth(index)
        titles.append(card.get_by_role("heading", level=3).inner_text())
        tool = page.locator(".pack-tool").nth(index)
        tool.locator("form.add-to-pack").get_by_role("button", name="Add").click()
        expect(tool.get_by_text("Added to the pack.")).to_be_visible()  # in place, no reload
    assert cards.count() >= 3
    shot(page, "pack-search-add")

    page.goto(live_server + "/packs")
    page.get_by_role("link", name="Banjir rob: pelatihan Semarang").click()
    entries = page.locator(".pack-practice h3")
    expect(entries).to_have_count(3)
    # Move the third practice to the top, then add notes to it.
    page.locator(".pack-practice").nth(2).get_by_role("button", name="↑ Up").click()
    expect(entries.nth(1)).to_have_text(titles[2])  # moved in place once the server has it
    page.locator(".pack-practice").nth(1).get_by_role("button", name="↑ Up").click()
    expect(entries.first).to_have_text(titles[2])
    first = page.locator(".pack-practice").first
    first.get_by_text("Notes, exercises and answers").click()
    first.get_by_label("Trainer notes (trainer edition only)").fill("Mulai dengan peta genangan rob 2022.")
    first.get_by_label("Exercises / discussion questions (both editions)").fill("Siapa yang membunyikan sirene?")
    first.get_by_label("Answers (trainer edition only)").fill("Ketua RT setelah ditelepon BPBD.")
    first.get_by_role("button", name="Save notes").click()
    expect(page.get_by_text("Notes saved.")).to_be_visible()
    expect(page.locator(".pack-practice").first.locator(".exercises")).to_contain_text("Siapa yang membunyikan")
    page.get_by_text("Pack details, sections and sharing").click()
    page.get_by_label("Section heading").fill("Peringatan dini")
    page.get_by_role("button", name="Add section").click()
    for _ in range(3):  # the new section comes last: move it to the top
        page.locator(".pack-section").get_by_role("button", name="↑ Up").click()
    expect(page.locator(".pack-entries > li").first).to_contain_text("Peringatan dini")
    page.wait_for_load_state("load")  # its width only once the stylesheets are in ('Add section' reloaded it)
    shot(page, "pack-built")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "pack-built-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the pack page scrolls sideways on a phone"
    page.set_viewport_size({"width": 1280, "height": 720})

    page.get_by_label("Trainer (with notes and answers)").check()
    pdf = download(page, "PDF", tmp_path, "pdf")
    assert pdf.startswith(b"%PDF")
    pdf_path = tmp_path / "pack.pdf"
    pdf_path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "Banjir rob: pelatihan Semarang" in flat and "Daftar isi" in flat and "Edisi pelatih" in flat
    assert "Peringatan dini" in flat
    assert flat.index(" ".join(titles[2].split())) < flat.index(" ".join(titles[0].split()))
    assert "Ketua RT setelah ditelepon BPBD." in flat and "Mulai dengan peta genangan rob 2022." in flat
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "3", str(pdf_path),
                    str(tmp_path / "page")], check=True)

    page.get_by_role("link", name="Banjir rob: pelatihan Semarang").click()
    page.get_by_label("Participants (no trainer notes or answers)").check()
    epub = download(page, "EPUB", tmp_path, "epub")
    with zipfile.ZipFile(io.BytesIO(epub)) as book:
        assert book.read("mimetype") == b"application/epub+zip"
        chapters = "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xhtml"))
    assert "Siapa yang membunyikan sirene?" in chapters and "Ketua RT setelah" not in chapters
    page.get_by_role("link", name="Banjir rob: pelatihan Semarang").click()
    expect(page.locator(".exports li")).to_have_count(2)
    shot(page, "pack-exports-listed")
    context.close()
