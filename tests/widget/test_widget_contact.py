"""The widget's subscribe offer also offers updates by email or SMS; with email and SMS off,
the form says so and points to the hosted page (the inline form itself:
test_widget_subscribe.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.widget.conftest import Watch, new_page, screenshot
from tests.widget.server import WidgetServer, widget_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[WidgetServer]:
    with widget_server(tmp_path / "web.db") as s:
        yield s


@pytest.mark.parametrize(
    ("lang", "label"),
    [("en", "Or get updates by email or SMS"), ("es", "O recibe los avisos por correo o SMS")],
)
def test_the_subscribe_offer_links_the_email_and_sms_page(
    server: WidgetServer, browser: Browser, watch: Watch, lang: str, label: str
) -> None:
    page = new_page(browser, watch, locale="es-ES" if lang == "es" else "en-US")
    page.route(  # a host page naming no language: the browser's locale decides
        server.url + "/",
        lambda route: route.fulfill(
            content_type="text/html",
            body='<html><body><script src="/static/widget.js" defer></script></body></html>',
        ),
    )
    page.goto(server.url + "/")
    page.get_by_role("button", name=re.compile("chat")).click()
    box = page.get_by_role("textbox")
    box.fill("notify me")
    box.press("Enter")
    offer = page.get_by_role("button", name=label)
    expect(offer).to_be_visible()
    offer.click()
    # this server has no subscribe API: the widget says it is unavailable, links the page
    expect(page.locator(".msg.sub .sub-status")).to_be_visible()
    link = page.locator(".msg.sub a.alt")
    href = link.get_attribute("href") or ""
    assert href.startswith(server.url + "/subscribe?lang=" + lang)
    assert "noopener" in (link.get_attribute("rel") or "")
    screenshot(page, f"widget-subscribe-offer-{lang}")
    # a reply without the subscribe button has no such link
    box.fill("card")
    box.press("Enter")
    page.get_by_text("failing for some customers").wait_for()
    expect(page.get_by_role("button", name=label)).to_have_count(1)
    assert watch.errors == []
    page.context.close()
