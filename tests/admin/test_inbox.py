"""The admin Inbox's JSON and actions (the page itself is driven in Chromium by the e2e):
signed-in only, CSRF on every action, the signed-in agent acts, conflicts are clear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.admin import admin_routes
from bot.db import Database
from bot.faq_service import FaqService
from bot.faqdb.store import FaqStore
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.store import AppStore
from bot.templates import TemplateStore
from faq_index import Encoder
from tests.admin.conftest import PASSWORD, Admin
from tests.faq_store.builders import sqlite_url, write_seed
from tests.helpers.handoff_fakes import RecordingChannel

ROOT = Path(__file__).resolve().parents[2]


def inbox_admin(tmp_path: Path, encoder: Encoder) -> tuple[Admin, HandoffService]:
    app_store = AppStore(Database.open(sqlite_url(tmp_path)).engine)
    faq_store = FaqStore(app_store.engine)
    faq = FaqService.from_store(
        faq_store, encoder=encoder, store=app_store, seed_paths=[write_seed(tmp_path)]
    )
    desk = HandoffService(
        HandoffStore(app_store.engine), TemplateStore.from_paths([ROOT / "data" / "templates"])
    )
    desk.use_channels({"web": RecordingChannel()})
    routes = admin_routes(
        password=PASSWORD, token=None, session_secret="s", faq_store=faq_store, faq=faq,
        app_store=app_store, handoffs=desk,
    )  # fmt: skip
    client = TestClient(Starlette(routes=routes), base_url="https://testserver")
    return Admin(client, faq_store, faq, app_store), desk


@pytest.fixture
def rig(tmp_path: Path, encoder: Encoder) -> tuple[Admin, HandoffService]:
    return inbox_admin(tmp_path, encoder)


def test_signed_out_gets_the_login(rig: tuple[Admin, HandoffService]) -> None:
    admin, _desk = rig
    for path in ("/admin/inbox", "/admin/inbox/data"):
        response = admin.client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/admin/login"


def test_data_actions_and_conflicts(rig: tuple[Admin, HandoffService]) -> None:
    admin, desk = rig
    desk.request("web:a", "web", "en")
    hid = desk.current("web:a").id  # type: ignore[union-attr]
    admin.login("Marta")
    page = admin.client.get("/admin/inbox")
    assert page.status_code == 200 and "/static/inbox.js" in page.text
    data = admin.client.get("/admin/inbox/data").json()
    assert data["agent"] == "Marta" and data["figures"]["agents_online"] == 1
    [item] = data["waiting"]
    assert item["conversation_id"] == "web:a" and item["subscription"] is None
    assert item["touched"] == {"faq": [], "incidents": []}
    # no CSRF: refused, nothing changes
    refused = admin.client.post(f"/admin/inbox/{hid}/claim", data={})
    assert refused.status_code == 403 and desk.get(hid).state == "waiting"
    assert admin.post(f"/admin/inbox/{hid}/claim", {}, csrf=admin.csrf("/admin/inbox")).json() == {
        "ok": True
    }
    assert desk.get(hid).claimed_by == "Marta"
    csrf = admin.csrf("/admin/inbox")
    too_long = admin.post(f"/admin/inbox/{hid}/reply", {"text": "x" * 4001}, csrf=csrf)
    assert too_long.status_code == 400 and "too long" in too_long.json()["error"]
    sent = admin.post(f"/admin/inbox/{hid}/reply", {"text": "Hola"}, csrf=csrf)
    assert sent.json() == {"ok": True}
    assert admin.post("/admin/inbox/999/claim", {}, csrf=csrf).status_code == 404
    assert admin.post(f"/admin/inbox/{hid}/dance", {}, csrf=csrf).status_code == 404

    luis = Admin(
        TestClient(admin.client.app, base_url="https://testserver"),
        admin.faq_store,
        admin.faq,
        admin.app_store,
    )
    luis.login("Luis")
    taken = luis.post(f"/admin/inbox/{hid}/claim", {}, csrf=luis.csrf("/admin/inbox"))
    assert taken.status_code == 409 and "another agent" in taken.json()["error"]
    gone = luis.post(f"/admin/inbox/{hid}/release", {}, csrf=luis.csrf("/admin/inbox"))
    assert gone.status_code == 409 and desk.get(hid).state == "active"
    assert admin.post(f"/admin/inbox/{hid}/close", {}, csrf=csrf).json() == {"ok": True}
    assert desk.get(hid).outcome == "closed"


def test_answers_search_the_live_faq_with_version(rig: tuple[Admin, HandoffService]) -> None:
    admin, _desk = rig
    admin.login("Marta")
    found = admin.client.get("/admin/inbox/answers", params={"q": "card declined", "lang": "en"})
    [first, *_] = found.json()["faq"]
    assert first["id"] == "card-payments-failing" and first["version"] == 1
    assert "outage" in first["answer"] and first["updated_at"]
    assert admin.client.get("/admin/inbox/answers", params={"q": ""}).json() == {
        "faq": [],
        "status": None,
    }


def test_data_shows_the_faq_entries_the_conversation_touched(
    rig: tuple[Admin, HandoffService],
) -> None:
    admin, desk = rig
    before = datetime.now(UTC) - timedelta(seconds=5)
    desk.request("web:f", "web", "en", [("user", "card declined", before)])
    admin.login("Marta")
    [item] = admin.client.get("/admin/inbox/data").json()["waiting"]
    [entry] = item["touched"]["faq"]
    assert entry == {
        "id": "card-payments-failing", "question": "Why are my card payments failing?",
        "how": "answered", "version": 1,
    }  # fmt: skip
    page = admin.client.get("/admin/inbox").text
    assert "What the conversation touched" in page  # the script's words
