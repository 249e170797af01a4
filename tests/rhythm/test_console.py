"""The staff console shows standing alerts; "start an announcement" opens the prefilled form.

Checked over HTTP and in Debian's headless Chromium (a phone-sized screenshot).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.rhythm.alerts import AlertBoard, StaffAlert
from bot.rhythm.detector import Surge, SurgeDetector
from bot.rhythm.review import to_review
from bot.rhythm.watch import SurgeWatch
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.statuspage import loads
from bot.store import AppStore
from bot.templates import TemplateStore
from faq_index import load_encoder
from faq_index.loader import load_faq_files
from tests.admin.conftest import PASSWORD
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.broadcast_builders import broadcaster_for, status_with
from tests.helpers.loopback import LoopbackServer
from tests.helpers.status_builders import ALIASES, PROJECT, SAMPLE_FEED, T0
from tests.widget.conftest import CHROMIUM_ARGS, SCREENSHOTS, chromium_path

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console(LoopbackServer):
    thread_name = "console"

    def __init__(self, app: Starlette) -> None:
        super().__init__()
        self.app = app

    def _app(self) -> Any:
        return self.app


def surge_alert(board: AlertBoard) -> StaffAlert:
    live = LiveStatus()
    live.accept(status_with())
    watch = SurgeWatch(
        detector=SurgeDetector(),
        live=live,
        matcher=ComponentMatcher(load_aliases(ALIASES)),
        board=board,
        templates=TemplateStore.from_paths([PROJECT / "data" / "templates"]),
    )
    surge = Surge(
        topic="Card payments",
        count=42,
        expected=2.0,
        rate_per_min=21.0,
        baseline_per_min=1.0,
        p_value=1e-20,
        samples=("my card was declined", "card not working at the shop"),
        at=T0,
    )
    alert = watch.alert(surge)
    asyncio.run(board.raise_alert(alert))
    overdue = StaffAlert(
        kind="overdue_update",
        key="inc1@x",
        title="Update overdue: Card payments failing",
        detail="Last update at 09:00 UTC; the last update promised the next one by 09:30 UTC.",
        raised_at=T0 + timedelta(minutes=1),
    )
    asyncio.run(board.raise_alert(overdue))
    return alert


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[Starlette, AlertBoard, AppStore]]:
    app_store = AppStore(Database.open(sqlite_url(tmp_path)).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store,
        encoder=load_encoder("hashing"),
        store=app_store,
        seed_paths=[write_seed(tmp_path)],
    )
    board = AlertBoard()
    routes = admin_routes(
        password=PASSWORD,
        token=None,
        session_secret="test-session-secret",
        faq_store=faq_store,
        faq=faq,
        app_store=app_store,
        broadcaster=broadcaster_for(app_store.engine),
        alerts=board,
        review=lambda: to_review(
            loads(SAMPLE_FEED.read_text()),
            matcher=ComponentMatcher(load_aliases(ALIASES)),
            entries=load_faq_files(PROJECT / "data" / "faq"),
            templates={"greet": {"en": "Ask me about your card."}},
        ),
    )
    yield Starlette(routes=routes), board, app_store
    app_store.dispose()


def login(client: TestClient) -> None:
    token = _CSRF.search(client.get("/admin/login").text)
    assert token
    response = client.post(
        "/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD}
    )
    assert response.url.path == "/admin"


def test_the_banner_shows_alerts_only_to_staff_and_the_link_prefills_the_form(
    console: tuple[Starlette, AlertBoard, AppStore],
) -> None:
    app, board, _ = console
    alert = surge_alert(board)
    with TestClient(app, base_url="https://testserver") as client:
        assert "Needs attention" not in client.get("/admin/login").text
        login(client)
        page = client.get("/admin").text
        assert "Needs attention now" in page
        assert "Questions about Card payments surging" in page
        assert "42 questions" in page and "Update overdue: Card payments failing" in page
        assert "Start an announcement from this" in page
        assert "Requiere atención ahora" in client.get("/admin?ui=es").text
        assert alert.action_url
        form = client.get(alert.action_url).text
        assert "We are receiving reports of problems with Card payments" in form
        assert "Estamos recibiendo avisos de problemas con Card payments" in form
        assert '<option value="Card payments" selected>' in form
        assert '<table class="previews">' not in form  # a GET prefills; nothing is sent
        bogus = client.get("/admin/broadcasts/new?component=Nope&en=hi").text
        assert 'value="Nope"' not in bogus and ">hi</textarea>" in bogus
        review = client.get("/admin/review?ui=en").text
        assert "To review" in review and "ATMs are not affected" in review
        assert 'data-key="atm-withdrawals"' in review and "template <code>greet</code>" in review
        assert "Por revisar" in client.get("/admin/review?ui=es").text
        board.clear("question_surge", keep=set())
        board.clear("overdue_update", keep=set())
        assert "Needs attention now" not in client.get("/admin").text


def test_the_banner_in_chromium_on_a_phone(
    console: tuple[Starlette, AlertBoard, AppStore],
) -> None:
    app, board, _ = console
    surge_alert(board)
    server = Console(app)
    with server.running(), sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            base = f"http://127.0.0.1:{server.port}"
            page.goto(f"{base}/admin/login")
            page.fill("input[name=name]", "Ana")
            page.fill("input[name=password]", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/admin")
            banner = page.get_by_role("alert")
            assert "surging" in banner.inner_text()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "staff-alerts.png"), full_page=False)
            page.goto(f"{base}/admin/review")
            heading = page.locator("h2", has_text="ATMs")
            atm = page.locator("section.review").filter(has=heading)
            atm = atm.locator("tr[data-key=atm-withdrawals]")
            assert "its tags" in atm.inner_text()
            page.screenshot(path=str(SCREENSHOTS / "to-review.png"), full_page=False)
            page.goto(f"{base}/admin")
            page.get_by_text("Start an announcement from this").first.click()
            page.wait_for_url(re.compile(r".*/admin/broadcasts/new\?.*"))
            assert "problems with Card payments" in page.locator("textarea[name=en]").input_value()
        finally:
            browser.close()
