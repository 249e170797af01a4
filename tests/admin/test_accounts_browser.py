"""First start to roles, in a real headless Chromium against a real `faro serve` process.

The process prints one line with the first admin's one-time sign-in URL; the
browser follows it, sets a password, makes an editor and a viewer; the editor
gets 403 on Accounts, the viewer's POST is refused. Each page is checked with
axe-core (no serious or critical violations), fits a 375 px phone without
sideways scrolling, and is screenshotted (.faro/screenshots).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.widget.conftest import CHROMIUM_ARGS, Watch, chromium_path, new_page, screenshot

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "first admin's own password"
LINK_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/admin/link/[A-Za-z0-9_-]+)")
PHONE: ViewportSize = {"width": 375, "height": 740}
_axe = Axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Started:
    """A running `faro serve` and what it printed."""

    def __init__(self, proc: subprocess.Popen[str], base: str) -> None:
        self.proc, self.base = proc, base
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if "listening on" in line:
                self.ready.set()

    def link_lines(self) -> list[str]:
        return [line for line in self.lines if "/admin/link/" in line]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FARO_ADMIN", "FARO_OIDC"))}
    env.update(
        FARO_DATA_DIR=str(tmp_path_factory.mktemp("data")),
        FARO_EMBEDDING_MODEL="hashing",
        FARO_PORT=str(port),
        FARO_RASA_URL="http://127.0.0.1:9",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = Started(proc, f"http://127.0.0.1:{port}")
    try:
        assert started.ready.wait(180), "".join(started.lines)
        yield started
    finally:
        proc.terminate()
        proc.wait(30)


def check_page(page: Page, name: str) -> None:
    """axe-core finds nothing serious; no sideways scroll on a phone; a screenshot of each."""
    results = _axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
    screenshot(page, f"console-{name}")
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"{name}: {wide}px wide on a 375px phone"
    screenshot(page, f"console-{name}-phone")
    assert size is not None
    page.set_viewport_size(size)


def sign_in(page: Page, base: str, name: str, password: str) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("Name or email").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/admin")


def follow_link(page: Page, link: str, password: str) -> None:
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("Set a password now")
    page.get_by_label("New password (10+ characters)").fill(password)
    page.get_by_label("New password again").fill(password)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Password saved")


def new_account(page: Page, name: str, *roles: str) -> str:
    form = page.locator("form[action='/admin/accounts']")
    form.get_by_label("Name").fill(name)
    for role in roles:
        form.get_by_label(role, exact=True).check()
    form.get_by_role("button", name="Create").click()
    box = page.get_by_role("textbox", name="One-time link")
    return str(box.input_value())


def test_first_start_link_accounts_roles_in_a_browser(served: Started, browser: Browser) -> None:
    base = served.base
    # one line with the full one-time URL, printed by the real process
    lines = served.link_lines()
    assert len(lines) == 1, served.lines
    match = LINK_LINE.search(lines[0])
    assert match and match.group(1).startswith(base + "/admin/link/")
    link = match.group(1)

    admin = new_page(browser, Watch(), viewport={"width": 1200, "height": 800})
    admin.goto(base + "/admin/login")
    check_page(admin, "login")
    # keyboard: the first Tab reaches the skip link, which jumps to the content
    admin.keyboard.press("Tab")
    assert admin.evaluate("() => document.activeElement.className") == "skip"
    admin.keyboard.press("Enter")
    assert admin.evaluate("() => document.activeElement.id") == "main"

    admin.goto(link)
    check_page(admin, "account-welcome")
    follow_link_rest(admin)
    admin.goto(base + "/admin/link/" + link.rsplit("/", 1)[1])  # used: refused
    expect(admin.locator("main .error")).to_contain_text("not valid")

    sign_in(admin, base, "admin", PASSWORD)
    check_page(admin, "dashboard")  # the landing page
    admin.goto(base + "/admin/entries")
    check_page(admin, "entries")
    entry = admin.locator("table a").first.inner_text()
    # every console page shares base.html and the stylesheet: each is checked
    for name, path in (
        ("entry-edit", f"/admin/entries/{entry}"),
        ("entry-new", "/admin/entries/new"),
        ("preview", "/admin/preview?q=is+the+app+down&lang=en"),
        ("unanswered", "/admin/unanswered"),
        ("audit", "/admin/audit"),
        ("review", "/admin/review"),
        ("reports", "/admin/report"),
        ("templates", "/admin/templates"),
        ("broadcasts", "/admin/broadcasts"),
        ("broadcast-new", "/admin/broadcasts/new"),
        ("deliveries", "/admin/deliveries"),
        ("inbox", "/admin/inbox"),
        ("accounts-es", "/admin/accounts?ui=es"),
    ):
        admin.goto(base + path)
        check_page(admin, name)
    admin.goto(base + "/admin/accounts?ui=en")
    admin.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    editor_link = new_account(admin, "Eva Editor", "editor")
    viewer_link = new_account(admin, "Vic Viewer")
    check_page(admin, "accounts")

    # the editor: own password, signs in, no Accounts (nav hides it, the page says 403)
    eva = new_page(browser, Watch(), viewport={"width": 1200, "height": 800})
    follow_link(eva, editor_link, "eva's long password")
    eva.get_by_role("button", name="Sign out").click()
    sign_in(eva, base, "eva editor", "eva's long password")
    nav = eva.get_by_role("navigation")
    expect(nav.get_by_role("link", name="Entries")).to_be_visible()
    expect(nav.get_by_role("link", name="Accounts")).to_have_count(0)
    response = eva.goto(base + "/admin/accounts")
    assert response is not None and response.status == 403
    expect(eva.locator("main .error")).to_contain_text("no access to this page")
    check_page(eva, "forbidden")

    # the viewer: may look, but a POST (with a valid CSRF token) is refused
    vic = new_page(browser, Watch(), viewport={"width": 1200, "height": 800})
    follow_link(vic, viewer_link, "vic's long password")
    vic.goto(base + "/admin/entries")
    csrf = vic.locator("form[action='/admin/logout'] input[name=csrf]").input_value()
    entry = vic.locator("table a").first.inner_text()
    refused = vic.request.post(
        f"{base}/admin/entries/{entry}/retire", form={"csrf": csrf, "version": "1"}
    )
    assert refused.status == 403
    vic.goto(f"{base}/admin/entries/{entry}")
    expect(vic.locator("main .error")).to_contain_text("no access")
    vic.goto(f"{base}/admin/audit")
    expect(vic.locator("main")).not_to_contain_text("retire")
    for page in (admin, eva, vic):
        page.context.close()


def follow_link_rest(page: Page) -> None:
    """On the welcome page: set the first admin's password."""
    page.get_by_label("New password (10+ characters)").fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Password saved")
    check_page(page, "account")
