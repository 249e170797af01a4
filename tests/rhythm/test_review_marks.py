"""To review: confirm or edit takes an item off the list for the incident's phase (who, when,
which phase and update, kept); a new phase lists it again; bad requests change nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import sync_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.rhythm.review import to_review
from bot.rhythm.tables import review_marks
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.model import StatusSnapshot
from bot.status.statuspage import loads
from bot.store import AppStore
from faq_index import load_encoder
from faq_index.entries import FaqEntry
from faq_index.loader import load_faq_files
from tests.admin.conftest import PASSWORD
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.status_builders import ALIASES, PROJECT, SAMPLE_FEED
from tests.rhythm.test_console import Console as LoopbackConsole
from tests.widget.conftest import CHROMIUM_ARGS, SCREENSHOTS, chromium_path

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
MATCHER = ComponentMatcher(load_aliases(ALIASES))


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE_FEED.read_text())
    return data


@dataclass
class Console:
    client: TestClient
    faq_store: FaqStore
    engine: sa.Engine
    feed: dict[str, Any]
    entries: list[FaqEntry] = field(default_factory=list)

    def csrf(self) -> str:
        match = _CSRF.search(self.client.get("/admin/review").text)
        assert match
        return match.group(1)

    def marks(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(review_marks).order_by(review_marks.c.id)))

    def listed(self) -> set[tuple[str, str]]:
        page = self.client.get("/admin/review").text
        rows = re.findall(r'<tr data-key="([^"]+)">.*?name="component" value="([^"]+)"', page, re.S)
        return {(key, comp) for key, comp in rows}

    def form(self, key: str, component: str) -> dict[str, str]:
        page = self.client.get("/admin/review").text
        for row in re.findall(r'<tr data-key="[^"]+">.*?</tr>', page, re.S):
            fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', row))
            if fields.get("key") == key and fields.get("component") == component:
                return fields
        raise AssertionError(f"{key}/{component} not listed")


def review_app(tmp_path: Path, feed: dict[str, Any]) -> tuple[Starlette, AppStore, FaqStore]:
    """The console over the demo incident (``feed`` may change under it) and the demo FAQ."""
    app_store = AppStore(Database.open(sqlite_url(tmp_path)).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store, encoder=load_encoder("hashing"), store=app_store,
        seed_paths=[write_seed(tmp_path)],
    )  # fmt: skip

    def snap() -> StatusSnapshot:
        return loads(json.dumps(feed))

    entries = load_faq_files(PROJECT / "data" / "faq")
    routes = admin_routes(
        password=PASSWORD, token=None, session_secret="test-session-secret",
        faq_store=faq_store, faq=faq, app_store=app_store,
        review=lambda: to_review(snap(), matcher=MATCHER, entries=entries),
    )  # fmt: skip
    return Starlette(routes=routes), app_store, faq_store


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    feed = sample()
    app, app_store, faq_store = review_app(tmp_path, feed)
    entries = load_faq_files(PROJECT / "data" / "faq")
    with TestClient(app, base_url="https://testserver") as client:
        token = _CSRF.search(client.get("/admin/login").text)
        assert token
        client.post(
            "/admin/login", data={"csrf": token.group(1), "name": "Ana", "password": PASSWORD}
        )
        yield Console(client, faq_store, app_store.engine, feed, entries)
    app_store.dispose()


def test_confirming_takes_the_item_off_for_this_phase_and_a_new_phase_lists_it_again(
    console: Console,
) -> None:
    before = console.listed()
    assert ("atm-withdrawals", "ATMs") in before
    form = console.form("atm-withdrawals", "ATMs")
    response = console.client.post(
        "/admin/review/mark", data={**form, "action": "confirmed"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert console.listed() == before - {("atm-withdrawals", "ATMs")}
    [mark] = console.marks()
    assert (mark.item_key, mark.component, mark.action, mark.actor) == (
        "atm-withdrawals", "ATMs", "confirmed", "admin:Ana",
    )  # fmt: skip
    assert mark.incident_id == "nw7k2x9card1" and mark.update_id == "u2nw7k2x9b02"
    page = console.client.get("/admin/review").text
    assert 'data-done="atm-withdrawals"' in page and "confirmed (admin:Ana)" in page
    # the incident moves on (monitoring): everything is to review again
    incident = console.feed["incidents"][0]
    newest = dict(incident["incident_updates"][0], id="u3", status="monitoring")
    newest["display_at"] = "2026-11-22T10:40:00.000Z"
    newest["body"] = "A fix is in place and we are monitoring. ATMs are not affected."
    incident["incident_updates"].insert(0, newest)
    incident["status"] = "monitoring"
    assert ("atm-withdrawals", "ATMs") in console.listed()
    # so does a change of the components it affects
    form = console.form("atm-withdrawals", "ATMs")
    console.client.post("/admin/review/mark", data={**form, "action": "confirmed"})
    assert ("atm-withdrawals", "ATMs") not in console.listed()
    incident["components"].append(
        {"id": "atms", "name": "ATMs", "status": "partial_outage", "position": 6}
    )
    assert ("atm-withdrawals", "ATMs") in console.listed()
    assert len(console.marks()) == 2


def test_saving_the_entry_in_the_editor_counts_as_edited_by_whoever_saved_it(
    console: Console,
) -> None:
    atm = next(e for e in console.entries if e.id == "atm-withdrawals")
    assert ("atm-withdrawals", "ATMs") in console.listed()
    console.faq_store.add(atm, actor="admin:Bo")  # saved after the phase began
    listed = console.listed()
    assert not any(key == "atm-withdrawals" for key, _ in listed)  # for every component
    marks = console.marks()
    assert {(m.item_key, m.action, m.actor) for m in marks} == {
        ("atm-withdrawals", "edited", "admin:Bo")
    }
    assert "ATMs" in {m.component for m in marks}
    assert ("card-payments-failing", "Card payments") in listed  # the others stay


def test_bad_requests_change_nothing(console: Console) -> None:
    form = console.form("atm-withdrawals", "ATMs")
    no_csrf = {k: v for k, v in form.items() if k != "csrf"}
    refused = console.client.post("/admin/review/mark", data={**no_csrf, "action": "confirmed"})
    assert refused.status_code == 403
    unknown = console.client.post(
        "/admin/review/mark", data={**form, "key": "no-such-entry", "action": "confirmed"}
    )
    assert unknown.status_code == 400 and "no longer to review" in unknown.text
    stale = console.client.post(
        "/admin/review/mark", data={**form, "phase": "0" * 32, "action": "confirmed"}
    )
    assert stale.status_code == 400
    bad_action = console.client.post("/admin/review/mark", data={**form, "action": "delete"})
    assert bad_action.status_code == 400
    assert console.marks() == []
    assert ("atm-withdrawals", "ATMs") in console.listed()


def test_drift_between_an_faq_entry_and_the_incident_is_listed_with_what_the_page_says() -> None:
    """An entry saying ATMs may fail while the incident says they are not affected."""
    drifted = FaqEntry(
        id="card-outage",
        question={"en": "Are card payments failing?"},
        answer={"en": "Card payments are failing; ATM withdrawals may also fail."},
        tags=("cards",),
    )
    items = to_review(loads(SAMPLE_FEED.read_text()), matcher=MATCHER, entries=[drifted])
    atm = [i for i in items if i.component == "ATMs"]
    assert [(i.key, i.reason) for i in atm] == [("card-outage", "content")]
    assert "ATMs are not affected" in atm[0].page_says


def test_confirming_with_the_keyboard_in_chromium(tmp_path: Path) -> None:
    app, app_store, _ = review_app(tmp_path, sample())
    server = LoopbackConsole(app)
    with server.running(), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1000})
            base = f"http://127.0.0.1:{server.port}"
            page.goto(f"{base}/admin/login")
            page.fill("input[name=name]", "Ana")
            page.fill("input[name=password]", PASSWORD)
            page.keyboard.press("Enter")
            page.wait_for_url(f"{base}/admin")
            page.goto(f"{base}/admin/review")
            heading = page.locator("h2", has_text="ATMs")
            row = page.locator("section.review").filter(has=heading)
            row = row.locator("tr[data-key=atm-withdrawals]")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            row.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "to-review-actions.png"))
            row.get_by_role("button", name="Confirm").focus()
            page.keyboard.press("Enter")
            page.wait_for_load_state()
            assert page.url == f"{base}/admin/review"
            done = page.locator("tr[data-done=atm-withdrawals]")
            assert "confirmed (admin:Ana)" in done.first.inner_text()
            atm_rows = page.locator("section.review").filter(
                has=page.locator("h2", has_text="ATMs")
            )
            assert atm_rows.locator("tr[data-key=atm-withdrawals]").count() == 0
            done.first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "to-review-confirmed.png"))
        finally:
            browser.close()
    app_store.dispose()
