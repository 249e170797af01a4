"""The broadcast preview in a real headless Chromium: the email shows in its sandboxed frame,
styled by its own policy, with nothing blocked on the console's page or run in the frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from bot.broadcast.subscriptions import Recipient
from bot.channels.contact.store import ContactStore
from faq_index import Encoder
from tests.admin.conftest import PASSWORD
from tests.admin.test_broadcasts import make_broadcast_admin
from tests.helpers.live_server import live_server
from tests.widget.conftest import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    Watch,
    chromium_path,
    new_page,
    screenshot,
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def url(tmp_path: Path, encoder: Encoder) -> Iterator[str]:
    admin = make_broadcast_admin(tmp_path, encoder)
    admin.broadcaster.subscriptions.add_many(
        [
            (Recipient("email:ana@example.com", "email", "ana@example.com", "es"), ()),
            (Recipient("sms:+34612345678", "sms", "+34612345678", "es"), ()),
        ]
    )
    contacts = ContactStore(admin.app_store.engine)  # the history a real subscriber leaves
    contacts.log("email", "ana@example.com", "requested", "lang=es")
    contacts.log("email", "ana@example.com", "confirmed", "created lang=es")
    contacts.log("email", "ana@example.com", "unsubscribed", "one-click")
    with live_server(admin.client.app) as base:
        yield base
    admin.app_store.dispose()


def test_the_preview_shows_the_email_and_the_sms(browser: Browser, url: str) -> None:
    watch = Watch()
    page = new_page(browser, watch, viewport={"width": 1200, "height": 900})
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(url + "/admin/login")
    page.get_by_label("Name or email").fill("Ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/admin")
    page.goto(url + "/admin/broadcasts/new")
    page.locator("textarea[name=en]").fill("Branches <b>close</b> at 6 pm.")
    page.locator("textarea[name=es]").fill(
        "Las oficinas cierran a las 18 h; la app sigue en marcha."
    )
    page.get_by_role("button", name="Preview").click()
    email_es = page.locator('tr[data-channel="email"][data-lang="es"]')
    expect(email_es.locator("td.num")).to_have_text("1")
    frame = email_es.frame_locator("iframe.email-html")
    expect(frame.get_by_text("Las oficinas cierran a las 18 h")).to_be_visible()
    expect(frame.get_by_role("link", name="Darte de baja de estos avisos")).to_be_visible()
    # the email's own inline styles apply in the frame (its header in the brand colour)
    header = frame.get_by_text("Northwind Bank", exact=True)
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(20, 50, 79)"
    # what staff typed is text, never markup, in the email too
    email_en = page.locator('tr[data-channel="email"][data-lang="en"]')
    expect(email_en.frame_locator("iframe").get_by_text("Branches <b>close</b>")).to_be_visible()
    sms_es = page.locator('tr[data-channel="sms"][data-lang="es"]')
    expect(sms_es.locator(".sms-count")).to_contain_text("UCS-2")
    expect(sms_es.locator(".sms-body")).to_contain_text("Responde BAJA")
    email_es.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "admin-broadcast-preview-email-sms")
    email_es.screenshot(path=str(SCREENSHOTS / "admin-broadcast-preview-email-row.png"))
    assert blocked == [] and watch.errors == [] and watch.dialogs == []
    page.context.close()


def test_a_subscribers_page_shows_the_subscribe_history(browser: Browser, url: str) -> None:
    watch = Watch()
    page = new_page(browser, watch, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(url + "/admin/login")
    page.get_by_label("Name or email").fill("Ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/admin")
    page.goto(url + "/admin/deliveries?conversation=email:ana@example.com&ui=es")
    expect(page.get_by_role("heading", name="Historial de la suscripción")).to_be_visible()
    rows = page.locator("table.contact-events tr[data-event]")
    expect(rows).to_have_count(3)
    expect(rows.nth(2)).to_contain_text("baja")
    expect(rows.nth(2)).to_contain_text("one-click")
    screenshot(page, "admin-deliveries-contact-history-es-phone")
    assert watch.errors == []
    page.context.close()
