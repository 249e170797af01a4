"""The widget's subscribe offer adds "updates by email or SMS" only where the server has
them on (the inline form itself: test_widget_subscribe.py)."""

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
def test_no_email_or_sms_offer_where_the_server_has_none(
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
    with page.expect_response(re.compile(r"/api/subscribe/options")) as asked:
        box.fill("notify me")
        box.press("Enter")
        page.get_by_role("button", name=re.compile("notify me")).wait_for()
    assert asked.value.status == 404  # this server has no subscribe API
    page.wait_for_timeout(200)
    expect(page.get_by_role("button", name=label)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("notify me"))).to_be_visible()
    screenshot(page, f"widget-subscribe-offer-off-{lang}")
    assert watch.errors == []
    page.context.close()
