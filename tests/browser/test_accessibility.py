"""Accessible (issue 13): axe-core finds no serious or critical WCAG 2.1 AA violation on any page type, in
English, Indonesian and Japanese, on a phone (390 px) and a desktop (1,280 px); and four journeys can be
made with the keyboard alone, every element reached showing where the focus is.

axe-core is the npm package (package.json), injected into each page by the ``axe`` fixture of conftest.py.
The keyboard journeys press Tab, Shift+Tab, Enter and Space and type; they never click.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from exchange.alerts import saved
from exchange.models import User
from exchange.packs import packs
from exchange.review import submissions
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_contribution_journey import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LANGUAGES = ["en", "id", "ja"]
PRACTICE = "jakarta/peringatan-dini-banjir-ciliwung"
STAFF = "ana.a11y@network.example"  # an administrator who also reviews and contributes for Jakarta
AUTHOR = "siti.a11y@bpbd-jakarta.example"

#: every page type: (name, address (formatted with the arranged ids), who looks at it)
PAGES = [
    ("home", "/", None),
    ("search", "/practices?q=banjir", None),
    ("search-no-results", "/practices?q=zzzyyyxxx", None),
    ("practice", f"/practices/{PRACTICE}", None),
    ("practice-version", f"/practices/{PRACTICE}/versions/1", None),
    ("compare", f"/practices/{PRACTICE}/compare?from=1&to=2", None),
    ("compare-practices", "/compare?p=kobe/hinanjo-unei-tejun&p=jakarta/daftar-periksa-posko-pengungsian-banjir"
                          "&p=kobe/shelter-operation-procedure", None),
    ("city", "/cities/jakarta", None),
    ("login", "/login", None),
    ("invitation", "/invitations/{invitation}", None),
    ("not-found", "/practices/atlantis/nothing-here", None),
    ("practice-staff", f"/practices/{PRACTICE}", STAFF),
    ("contribute", "/contribute", STAFF),
    ("edit", f"/practices/{PRACTICE}/edit", STAFF),
    ("upload", "/contribute/upload", STAFF),
    ("submission", "/submissions/{submission}", STAFF),
    ("dashboard", "/dashboard", STAFF),
    ("notifications", "/notifications", AUTHOR),
    ("packs", "/packs", STAFF),
    ("pack", "/packs/{pack}", STAFF),
    ("restore", f"/practices/{PRACTICE}/versions/1/restore", STAFF),
    ("people", "/admin/people", STAFF),
    ("person", "/admin/people/{person}", STAFF),
    ("audit", "/admin/audit", STAFF),
    ("password", "/account/password", STAFF),
    ("saved-searches", "/account/saved-searches", STAFF),
]


def _user(instance, email: str):  # type: ignore[no-untyped-def]
    with instance.db.session() as session:
        user_id = session.scalar(sa.select(User.id).where(User.email == email))
    return people.load(instance, f"{user_id}:1")


def _edited(text: str, line: str) -> str:
    return text.rstrip("\n") + f"\n\n{line}\n"


@pytest.fixture(scope="module")
def arranged(live_instance) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """People, a second version of PRACTICE, a submission waiting for review, notifications, a pack and an
    invitation."""
    people.create_user(live_instance, STAFF, "Ana Lestari", ["contributor", "reviewer", "admin"], ["jakarta"],
                       "test", PASSWORD)
    people.create_user(live_instance, AUTHOR, "Siti Rahma", ["contributor"], ["jakarta"], "test", PASSWORD)
    ana, siti = _user(live_instance, STAFF), _user(live_instance, AUTHOR)
    city, slug = PRACTICE.split("/")
    text = (Path(live_instance.path) / "library" / city / f"{slug}.md").read_text(encoding="utf-8")
    draft = submissions.save(live_instance, siti, city, slug, _edited(text, "Sirene dibunyikan dua kali."), 1)
    submissions.submit(live_instance, siti, draft.id)
    version = submissions.review(live_instance, ana, draft.id, "approve", "Jelas.")
    waiting = submissions.save(live_instance, siti, city, slug, _edited(text, "Posko dibuka pukul 06.00."), version)
    submissions.submit(live_instance, siti, waiting.id)
    pack = packs.create(live_instance, ana, "Latihan banjir Ciliwung", "id")
    packs.add_practice(live_instance, ana, pack, PRACTICE)
    saved.create(live_instance, ana, "Banjir sungai · Jakarta", "banjir", {"hazard": ["riverine-flood"]}, "daily")
    invitation = people.create_user(live_instance, "kenji.a11y@kobe.example", "Kenji", ["reader"], [], "test")
    return {"submission": waiting.id, "pack": pack, "invitation": invitation, "person": siti.id}


@pytest.fixture(scope="module")
def signed_in(browser: Browser, live_server, arranged) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Each person's signed-in browser state (cookies), signed in once through the form."""
    states = {}
    for email in (STAFF, AUTHOR):
        context = browser.new_context()
        page = context.new_page()
        page.goto(live_server + "/login?lang=en")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        states[email] = context.storage_state()
        context.close()
    return states


def open_page(browser: Browser, live_server: str, url: str, language: str, screen: dict[str, int],
              state: dict | None = None) -> Page:
    """A page of that size at url in that interface language (as the switcher's cookie chooses it)."""
    context = browser.new_context(viewport=screen, bypass_csp=True, storage_state=state)  # bypass: axe is injected
    context.add_cookies([{"name": "px-lang", "value": language, "url": live_server}])
    page = context.new_page()
    page.goto(live_server + url)
    return page


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("name", "url", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_type_fits_and_axe_finds_nothing_serious(browser, live_server, arranged, signed_in, axe, name,
                                                            url, who, language, screen):
    page = open_page(browser, live_server, url.format(**arranged), language, screen,
                     signed_in[who] if who else None)
    try:
        expect(page.locator("html")).to_have_attribute("lang", language)
        if who:  # signed in (the button is folded into the menu on a phone)
            expect(page.locator("form[action$='/logout'] button")).to_have_text(_sign_out(language))
        # Every page type fits its window: nothing scrolls sideways as it opens.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= screen["width"], f"{name} in {language} is {width} px wide at {screen['width']} px"
        # What is folded (filters, the metadata card, the menu on a phone, notes) is checked unfolded too.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        problems = axe(page)
        if screen is PHONE and language != "en" or name in ("compare", "submission"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"a11y-{name}-{language}-{screen['width']}.png"), full_page=True)
        assert not problems, (f"axe-core on {name} ({url}) in {language} at {screen['width']} px:\n"
                              + "\n".join(problems))
    finally:
        page.context.close()


def _sign_out(language: str) -> str:
    return {"en": "Sign out", "id": "Keluar", "ja": "ログアウト"}[language]


# --- the keyboard alone -------------------------------------------------------------------------------

#: what the focused element looks like: a focus ring (outline or box-shadow) while it matches :focus-visible
#: (or :focus-within, for a date field whose calendar button is focused inside its shadow tree)
_FOCUS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  const box = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(),
          text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 60),
          visible: (e.matches(':focus-visible') || e.matches(':focus-within')) && (outline || shadow),
          shown: box.width > 0 && box.height > 0};
}"""


def focused(page: Page) -> dict:
    """The focused element, asserted to be on screen and to show a visible focus indicator."""
    state = page.evaluate(_FOCUS)
    assert state is not None, "the focus left the page's elements"
    assert state["shown"], f"the focus is on a hidden element: {state}"
    assert state["visible"], f"no visible focus indicator on {state}"
    return state


def tab_to(page: Page, target, limit: int = 120, key: str = "Tab") -> dict:  # type: ignore[no-untyped-def]
    """Press Tab (or Shift+Tab) until ``target`` (a locator) has the focus; every stop shows its focus."""
    target.wait_for(state="attached")
    if target.evaluate("e => e === document.activeElement"):
        return focused(page)
    for _ in range(limit):
        page.keyboard.press(key)
        state = focused(page)
        if target.evaluate("e => e === document.activeElement"):
            return state
    raise AssertionError(f"{limit} presses of {key} never reached {target}")


def skip_to_content(page: Page) -> None:
    """The first Tab stop is the skip link; Enter on it puts the next Tab stop inside <main>."""
    page.keyboard.press("Tab")
    state = focused(page)
    assert page.evaluate("document.activeElement.matches('a.skip[href=\"#main\"]')"), \
        f"the first tab stop is {state}, not the skip link"
    keep(page, "skip-link")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused(page)
    assert page.evaluate("!!document.activeElement.closest('main')"), "the skip link did not lead into the content"


def keep(page: Page, name: str) -> None:
    """A screenshot of the first screen (with the focus ring where the focus is) to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"keyboard-{name}.png"))


def keyboard_page(browser: Browser, live_server: str, url: str, state: dict | None = None,
                  screen: dict[str, int] = DESKTOP) -> Page:
    context = browser.new_context(viewport=screen, storage_state=state)
    context.add_cookies([{"name": "px-lang", "value": "en", "url": live_server}])
    page = context.new_page()
    page.goto(live_server + url)
    return page


@pytest.mark.parametrize(("name", "url", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_the_first_tab_stop_is_a_skip_link_to_the_content(browser, live_server, arranged, signed_in, name, url, who):
    page = keyboard_page(browser, live_server, url.format(**arranged), signed_in[who] if who else None)
    try:
        skip_to_content(page)
    finally:
        page.context.close()


@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
def test_search_with_the_keyboard_alone(browser, live_server, screen):
    page = keyboard_page(browser, live_server, "/", screen=screen)
    try:
        skip_to_content(page)
        box = page.locator("main input[name=q]").first
        tab_to(page, box)
        page.keyboard.type("banjir")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/practices\?q=banjir"))
        first = page.locator("article.practice-card h3 a").first
        title = first.inner_text()
        tab_to(page, first)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"keyboard-search-{screen['width']}.png"))
    finally:
        page.context.close()


def test_contribute_with_the_keyboard_alone(browser, live_server, arranged):
    page = keyboard_page(browser, live_server, "/login")
    try:
        skip_to_content(page)
        tab_to(page, page.get_by_label("E-mail"))
        page.keyboard.type(STAFF)
        tab_to(page, page.get_by_label("Password"))
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("button", name="Sign out")).to_be_attached()
        tab_to(page, page.get_by_role("link", name="Dashboard"))
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("link", name="Write a practice"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Write a practice")
        for label, text in (("Address (slug)", "pompa-papan-ketik"), ("Title", "Pompa mobile tanpa tetikus"),
                            ("Summary", "Cara RW meminta pompa mobile saat genangan.")):
            tab_to(page, page.get_by_label(label, exact=True))
            page.keyboard.type(text)
        language = page.get_by_label("Language", exact=True)
        tab_to(page, language)
        page.keyboard.type("Bahasa")  # a closed select chooses the option whose name is typed
        expect(language).to_have_value("id")
        for choice in ("Urban flood", "Response"):
            tab_to(page, page.get_by_label(choice, exact=True))
            page.keyboard.press("Space")
            expect(page.get_by_label(choice, exact=True)).to_be_checked()
        tab_to(page, page.get_by_label("Text (Markdown)"))
        page.keyboard.press("Control+A")  # in place of the starting template
        page.keyboard.type("## Langkah\n\n1. Ketua RW melapor ke posko.\n\n- [ ] Bahan bakar tersedia\n")
        tab_to(page, page.get_by_role("button", name="Preview", exact=True))
        keep(page, "contribute-preview-focused")
        page.keyboard.press("Enter")
        expect(page.locator("#preview h2")).to_have_text("Langkah")
        expect(page.locator("#preview").get_by_label("Bahan bakar tersedia")).to_be_attached()
        tab_to(page, page.get_by_role("button", name="Submit for review"))
        page.keyboard.press("Enter")
        expect(page.locator("h1 .badge")).to_have_text("submitted")
    finally:
        page.context.close()


def test_review_with_the_keyboard_alone(browser, live_server, live_instance, arranged, signed_in):
    siti = _user(live_instance, AUTHOR)
    city, slug = "jakarta", "daftar-periksa-posko-pengungsian-banjir"
    text = (Path(live_instance.path) / "library" / city / f"{slug}.md").read_text(encoding="utf-8")
    draft = submissions.save(live_instance, siti, city, slug, _edited(text, "Genset diuji setiap pekan."), 1)
    submissions.submit(live_instance, siti, draft.id)
    page = keyboard_page(browser, live_server, "/", signed_in[STAFF])
    try:
        skip_to_content(page)
        tab_to(page, page.get_by_role("link", name="Dashboard"), key="Shift+Tab")
        page.keyboard.press("Enter")
        tab_to(page, page.locator(f"main a[href$='/submissions/{draft.id}']"))
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/submissions/{draft.id}$"))
        tab_to(page, page.get_by_label("Comment for the contributor"))
        page.keyboard.type("Terima kasih, jelas.")
        tab_to(page, page.get_by_role("button", name="Approve and publish"))
        keep(page, "review-approve-focused")
        page.keyboard.press("Enter")
        expect(page.locator("h1 .badge")).to_have_text("approved")
    finally:
        page.context.close()


def test_build_a_pack_with_the_keyboard_alone(browser, live_server, live_instance, signed_in, arranged):
    ana = _user(live_instance, STAFF)
    packs.create(live_instance, ana, "Kursus papan ketik", "en")
    practice = "/practices/kobe/hinanjo-unei-tejun"
    page = keyboard_page(browser, live_server, practice, signed_in[STAFF])
    try:
        skip_to_content(page)
        # two packs: the practice's tool asks which one (a select), then Add
        tab_to(page, page.locator(".practice-actions select[name=pack]"))
        page.keyboard.type("Kursus")
        expect(page.locator(".practice-actions select[name=pack] option:checked")).to_have_text("Kursus papan ketik")
        tab_to(page, page.locator(".practice-actions").get_by_role("button", name="Add", exact=True))
        keep(page, "pack-add-focused")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Added to the pack.")).to_be_visible()
        # added in place: the focus is on its Remove, and the header's Packs link is back up the page
        assert page.evaluate("document.activeElement.closest('[data-pack-undo]') !== null")
        tab_to(page, page.get_by_role("link", name="Packs", exact=True), key="Shift+Tab")
        page.keyboard.press("Enter")
        tab_to(page, page.get_by_role("link", name="Kursus papan ketik"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Kursus papan ketik")
        expect(page.locator(".pack-practice")).to_have_count(1)  # shown in the pack's language
    finally:
        page.context.close()
