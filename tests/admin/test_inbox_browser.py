"""The Inbox in a real headless Chromium: what the conversation touched is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bot.broadcast.tables import incident_askers
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, admin_app
from tests.admin.test_inbox import ROOT, inbox_admin
from tests.helpers.live_server import live_server
from tests.widget.conftest import CHROMIUM_ARGS, Watch, chromium_path, new_page, screenshot


def test_the_inbox_shows_what_the_conversation_touched(tmp_path: Path, encoder: Encoder) -> None:
    admin, desk = inbox_admin(tmp_path, encoder)
    before = datetime.now(UTC) - timedelta(seconds=5)
    desk.request("web:b", "web", "en", [("user", "card declined", before)])
    with admin.app_store.engine.begin() as conn:
        conn.execute(
            incident_askers.insert().values(
                incident_id="inc-7", conversation_id="web:b", channel="web", address="b",
                lang="en", asked_at=before,
            )
        )  # fmt: skip
    app = admin_app(admin)
    served = Starlette(
        routes=[*app.routes, Mount("/static", StaticFiles(directory=ROOT / "bot" / "static"))]
    )
    with live_server(served) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            watch = Watch()
            page = new_page(browser, watch, viewport={"width": 390, "height": 900})
            page.goto(base + "/admin/login")
            page.get_by_label("Name or email").fill("Ana")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.goto(base + "/admin/inbox")
            page.locator("#list-waiting .pick", has_text="card declined").click()
            touched = page.get_by_role("region", name="What the conversation touched")
            touched.wait_for(timeout=10_000)
            text = touched.inner_text()
            assert "FAQ answered: Why are my card payments failing?" in text
            assert "card-payments-failing" in text and "version 1" in text.lower()
            assert "inc-7" in text and "no longer on the status page" in text
            screenshot(page, "inbox-touched-phone")
            assert watch.errors == [] and watch.dialogs == []
        finally:
            browser.close()
