"""The admin in a real headless Chromium: its stylesheet applies under its own CSP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.admin.conftest import PASSWORD, Admin, admin_app
from tests.helpers.live_server import live_server
from tests.widget.conftest import CHROMIUM_ARGS, Watch, chromium_path, new_page, screenshot


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module-scoped (not the widget tests' session-wide one): Playwright's sync API keeps an
    # event loop running while it is open, which would break the async tests that run later.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def url(admin: Admin) -> Iterator[str]:
    with live_server(admin_app(admin)) as base:
        yield base


def styled(page: Page) -> dict[str, str]:
    """What the stylesheet sets on the content (the browser's defaults when it is blocked)."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('main'));"
        " return {maxWidth: s.maxWidth, font: s.fontFamily}; }"
    )


STYLED = {"maxWidth": "1152px", "font": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'}


def test_the_stylesheet_applies_and_the_csp_blocks_nothing(
    browser: Browser, watch: Watch, url: str
) -> None:
    # The attack found the console unstyled: its CSP (default-src 'self') blocked the
    # inline <style>.
    page = new_page(browser, watch, viewport={"width": 390, "height": 760})
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(url + "/admin/login")
    screenshot(page, "admin-login-phone")
    assert styled(page) == STYLED
    page.get_by_label("Name or email").fill("Ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/admin")
    page.set_viewport_size({"width": 1200, "height": 800})
    screenshot(page, "admin-entries")
    assert styled(page)["maxWidth"] == STYLED["maxWidth"]
    assert blocked == [] and watch.errors == []
    page.context.close()
