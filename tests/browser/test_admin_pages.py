"""Admin pages on a phone and a desktop: the people list, a person's page, the audit log, webhooks and harvests fit
the window (no sideways scrolling, stacked cards on a phone), their targets are big enough to tap, in en, id and ja."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from exchange.accounts import people
from exchange.models import WebhookAttempt
from exchange.models import WebhookDelivery
from exchange.models import utcnow
from exchange.webhooks import hooks
from exchange.webhooks.delivery import RETRIES
from tests.browser.test_contribution_journey import PASSWORD
from tests.browser.test_phone import DESKTOP
from tests.browser.test_phone import PHONE
from tests.browser.test_phone import heights
from tests.browser.test_phone import no_sideways_scrolling
from tests.browser.test_phone import shoot

ADMIN = "kepala@bpbd.example"
# A long e-mail and a long name: what made the tables overflow
COLLEAGUE = "koordinator.pusat.pengendalian.operasi@bpbd-provinsi-dki-jakarta.example"


@pytest.fixture(scope="module")
def accounts(live_instance):  # type: ignore[no-untyped-def]
    """An administrator, and a colleague whose roles and cities changed (so the audit log has details)."""
    known = {person.email: person.id for person in people.all_people(live_instance)}
    if ADMIN not in known:
        people.create_user(live_instance, ADMIN, "Dewi Kusuma", ["admin", "reviewer"], [], "test", PASSWORD)
    if COLLEAGUE not in known:
        people.create_user(live_instance, COLLEAGUE, "Bambang Setyo Nugroho Wicaksono", ["contributor"],
                           ["jakarta"], "test", PASSWORD)
        colleague = next(p.id for p in people.all_people(live_instance) if p.email == COLLEAGUE)
        people.update_person(live_instance, colleague, ["contributor", "reviewer"], ["jakarta", "semarang", "kobe"],
                             "cli:test")
    return {person.email: person.id for person in people.all_people(live_instance)}


@pytest.fixture
def webhook(live_instance, accounts):  # type: ignore[no-untyped-def]
    """A webhook with a long address and a log (a delivery that failed twice, then got through), removed after:
    the log is arranged in the database, so nothing is sent over the network."""
    admin = people.by_id(live_instance, accounts[ADMIN])
    hook_id, _secret = hooks.create(live_instance, admin, "https://93.184.215.14:8443/receivers/practice-exchange/"
                                    "bpbd-dki-jakarta/early-warning-relay?token-free=yes", list(hooks.EVENTS))
    now = utcnow()
    with live_instance.db.writing() as session:
        delivery = WebhookDelivery(uid="0b5c1f0e-7d8a-4d6e-9c3b-2a1f4e5d6c7b", webhook_id=hook_id,
                                   event=hooks.UPDATED, practice_id="jakarta/peringatan-dini-banjir-ciliwung",
                                   body="{}", state=hooks.DELIVERED, attempts=3, created_at=now)
        session.add(delivery)
        session.flush()
        session.add_all([
            WebhookAttempt(delivery_id=delivery.id, attempt=1, at=now, status=None,
                           error="TimeoutError: timed out", next_retry_at=now + RETRIES.backoff(1)),
            WebhookAttempt(delivery_id=delivery.id, attempt=2, at=now + RETRIES.backoff(1), status=503,
                           error="HTTP 503 Service Unavailable: upstream maintenance window, retry later",
                           next_retry_at=now + RETRIES.backoff(2)),
            WebhookAttempt(delivery_id=delivery.id, attempt=3, at=now + RETRIES.backoff(2), status=200, error=None,
                           next_retry_at=None)])
    yield hook_id
    hooks.delete(live_instance, admin, hook_id)


@pytest.fixture
def admin_at(browser: Browser, live_server, accounts):  # type: ignore[no-untyped-def]
    """admin_at(screen) gives a page of that size, signed in as the administrator."""
    contexts = []

    def open_page(screen: dict[str, int]) -> Page:
        context = browser.new_context(viewport=screen)
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server + "/login?lang=en")
        page.get_by_label("E-mail").fill(ADMIN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(live_server + "/")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", ["en", "id", "ja"])
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
def test_admin_pages_fit_the_window(admin_at, live_server, accounts, webhook, screen, language):
    page = admin_at(screen)
    colleague = accounts[COLLEAGUE]
    for name, path in (("people", "/admin/people"), ("person", f"/admin/people/{colleague}"),
                       ("audit", "/admin/audit"), ("webhooks", "/admin/webhooks"),
                       ("webhook", f"/admin/webhooks/{webhook}"), ("harvests", "/admin/harvests")):
        page.goto(live_server + f"{path}?lang={language}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        shoot(page, f"admin-{name}-{screen['width']}-{language}")
        no_sideways_scrolling(page, screen)
        if screen is PHONE:
            targets = ("main a, main button, main input:not([type=checkbox]), main select, "
                       ".choices li")
            for height in heights(page, targets):
                assert height >= 44, f"a target on {path} in {language} is {height:.0f} px tall"
    page.goto(live_server + f"/admin/audit?target=koordinator&lang={language}")
    details = page.locator(".audit-details").first
    expect(details).to_be_visible()
    assert "{" not in page.locator("table.audit-list tbody").inner_text()  # no Python dicts
    if screen is PHONE:  # stacked cards: every cell as wide as its card, none beside another
        boxes = page.locator("table.audit-list tbody tr").first.locator("td").evaluate_all(
            "cells => cells.map(c => c.getBoundingClientRect().left)")
        assert len(set(round(left) for left in boxes)) == 1, boxes


def test_an_admin_changes_roles_on_a_phone_and_reads_it_in_the_audit_log(admin_at, live_server, accounts):
    page = admin_at(PHONE)
    page.goto(live_server + "/admin/people?lang=en")
    page.get_by_role("link", name="Bambang Setyo Nugroho Wicaksono").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bambang Setyo Nugroho Wicaksono")
    reader = page.get_by_role("checkbox", name="reader")
    reader.check()
    page.get_by_role("checkbox", name="Kobe").uncheck()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved the roles and cities of Bambang Setyo Nugroho Wicaksono.")).to_be_visible()
    expect(page.get_by_role("checkbox", name="reader")).to_be_checked()
    page.get_by_role("link", name="What was done to this account (audit log)").click()
    first = page.locator("table.audit-list tbody tr").first
    expect(first).to_contain_text(re.compile(r"roles changed|cities changed"))
    expect(page.locator("table.audit-list tbody")).to_contain_text(
        "Cities: Jakarta, Kobe, Semarang → Jakarta, Semarang")
    shoot(page, "admin-audit-390-after-change")


def test_disabling_asks_first_and_re_enabling_works_without_javascript(browser, live_server, accounts):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/login?lang=en")
    page.get_by_label("E-mail").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + f"/admin/people/{accounts[COLLEAGUE]}")
    page.get_by_role("button", name="Disable the account…").click()
    expect(page.get_by_text("Disable the account of Bambang Setyo Nugroho Wicaksono?")).to_be_visible()
    page.wait_for_load_state("load")  # its width only once the stylesheets are in (the text shows before)
    shoot(page, "admin-person-390-confirm-disable")
    no_sideways_scrolling(page, PHONE)
    page.get_by_role("button", name="Yes, disable the account").click()
    expect(page.get_by_text("This account is disabled: it cannot sign in.")).to_be_visible()
    page.get_by_role("button", name="Re-enable the account…").click()
    page.get_by_role("button", name="Yes, re-enable the account").click()
    expect(page.get_by_text(f"{COLLEAGUE} can sign in again.")).to_be_visible()
    context.close()


@pytest.mark.parametrize("language", ["en", "id", "ja"])
@pytest.mark.parametrize("screen", [PHONE, DESKTOP], ids=["390", "1280"])
def test_administrators_views_fit_the_window(admin_at, live_server, accounts, screen, language):
    page = admin_at(screen)
    page.goto(live_server + f"/practices?q=qqxqqzz+wwkk&lang={language}")  # something for the gap report
    for name, path in (("health", "/admin/health?"), ("gaps", "/admin/gaps?"), ("coverage", "/admin/coverage?"),
                       ("access", f"/admin/access?person={accounts[COLLEAGUE]}&practice=kobe/hinanjo-unei-tejun&")):
        page.goto(live_server + f"{path}lang={language}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        shoot(page, f"admin-{name}-{screen['width']}-{language}")
        no_sideways_scrolling(page, screen)
        if screen is PHONE:
            targets = ("main form a, main button, main select, main input:not([type=checkbox]), .clear-log label, "
                       ".admin-nav a")
            for height in heights(page, targets):
                assert height >= 44, f"a target on {path} in {language} is {height:.0f} px tall"
    page.goto(live_server + f"/admin/coverage?lang={language}")
    box = page.locator(".matrix-scroll")
    # the page scrolls down the matrix to its last hazard and totals: no box of its own to scroll in it
    assert box.evaluate("element => element.scrollHeight <= element.clientHeight + 1")
    assert box.bounding_box()["width"] <= screen["width"]
    totals = page.locator(".coverage-matrix tfoot th")
    totals.scroll_into_view_if_needed()
    expect(totals).to_be_in_viewport()
    assert page.locator(".coverage-matrix td.gap").count() and not page.locator(".coverage-matrix td.gap a").count()
    assert not page.locator(".coverage-matrix td.gap").first.evaluate(  # blank, but for words a screen reader says
        "cell => [...cell.childNodes].filter(n => !n.classList?.contains('visually-hidden'))"
        ".map(n => n.textContent).join('').trim()")
    page.goto(live_server + f"/admin/health?lang={language}")
    city, button = page.locator(".audit-filters select"), page.locator(".audit-filters button")
    assert abs(city.bounding_box()["height"] - button.bounding_box()["height"]) <= 2
    last = page.locator("h2#untranslated")  # every list's heading within the first screens, its rows folded
    assert last.bounding_box()["y"] < 6 * screen["height"], last.bounding_box()
    page.goto(live_server + f"/admin/gaps?lang={language}")
    assert page.locator(".clear-log input[type=checkbox]").bounding_box()["height"] >= 20  # as other checkboxes
