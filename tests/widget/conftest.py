"""A real headless Chromium (Debian's) driven by Playwright; screenshots under .faro/screenshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".faro" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's chromium (FARO_CHROMIUM overrides); fails the test run clearly when missing."""
    path = os.environ.get("FARO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "the widget tests need Debian's chromium at /usr/bin/chromium: run scripts/setup "
            "as root or 'apt-get install -y chromium' (or set FARO_CHROMIUM)",
            pytrace=False,
        )
    return path


# Per module, not per session: sync Playwright keeps an event loop running on this
# thread while it is open, and any async test collected after it would fail.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Watch:
    """What the page did that it should not: dialogs, uncaught errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


def new_page(browser: Browser, watch: Watch, **context: Any) -> Page:
    """A page in a fresh context that records dialogs (dismissing them) and page errors."""
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(10_000)

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    return page


@pytest.fixture
def page(browser: Browser, watch: Watch) -> Iterator[Page]:
    p = new_page(browser, watch)
    yield p
    p.context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot under .faro/screenshots/ (an ignored folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
