"""``/api/staff/privacy/export`` and ``/erase``: bearer auth like the rest of the staff API,
one customer's data exported and erased in every table (Rasa's tracker too), audited with the
actor; a bad subject is a one-line 400 that changes nothing; both paths in the OpenAPI schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.db import Database
from bot.handoff.api import staff_api_routes
from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.http import EXCEPTION_HANDLERS
from bot.privacy import PersonalData
from bot.templates import TemplateStore
from tests.bot.test_privacy import ALICE, ALICE_MAIL, BOB, fill, personal_tables, tracker_file

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "staff-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Api:
    client: httpx.AsyncClient
    data: PersonalData


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    engine = Database.open(db_url).engine  # SQLite, and PostgreSQL (tests/handoff/conftest.py)
    fill(engine, ALICE, ALICE_MAIL)
    fill(engine, BOB, "bob@example.com")
    tracker = tracker_file(tmp_path / "tracker-0.db", [(ALICE, 1.0), (BOB, 2.0)])
    data = PersonalData(engine, tracker_urls=lambda: [tracker])
    service = HandoffService(
        HandoffStore(engine), TemplateStore.from_paths([ROOT / "data" / "templates"])
    )
    app = Starlette(
        routes=staff_api_routes(service=service, token=TOKEN, privacy=data),
        exception_handlers=EXCEPTION_HANDLERS,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://faro") as client:
        yield Api(client, data)
    engine.dispose()


async def test_export_then_erase_one_customer_everywhere_audited_with_the_actor(api: Api) -> None:
    exported = await api.client.get(
        "/api/staff/privacy/export", params={"subject": ALICE_MAIL, "agent": "dpo"}, headers=AUTH
    )
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["conversations"] == [ALICE]
    assert body["data"]["rasa_tracker"][0]["sender_id"] == ALICE
    assert "bob" not in exported.text
    erased = await api.client.post(
        "/api/staff/privacy/erase", json={"subject": ALICE, "agent": "dpo"}, headers=AUTH
    )
    assert erased.status_code == 200, erased.text
    counts = erased.json()["erased"]
    assert {k for k, v in counts.items() if v} == personal_tables() | {"rasa_tracker"}
    assert erased.json()["total"] == sum(counts.values())
    assert not any(api.data.count(api.data.find(ALICE)).values())
    assert all(api.data.count(api.data.find(BOB)).values())  # Bob keeps everything
    audit = api.data.audit_log()
    runs = [(a["action"], a["actor"]) for a in audit]
    assert runs == [("erase", "api:dpo"), ("export", "api:dpo")]
    assert ALICE not in str(audit) and ALICE_MAIL not in str(audit)


@pytest.mark.parametrize(
    "subject", ["", "   ", "hello world", "web:\x00x", "a" * 301, "DROP TABLE;", "\n"]
)
async def test_a_bad_subject_is_a_one_line_400_that_changes_nothing(api: Api, subject: str) -> None:
    before = api.data.count(api.data.find(ALICE))
    for response in (
        await api.client.get(
            "/api/staff/privacy/export", params={"subject": subject}, headers=AUTH
        ),
        await api.client.post("/api/staff/privacy/erase", json={"subject": subject}, headers=AUTH),
    ):
        assert response.status_code == 400, (subject, response.text)
        error = response.json()["error"]
        assert error.startswith("give a conversation id") and "\n" not in error
    for bad in ({}, {"subject": 5}, {"subject": None}):
        response = await api.client.post("/api/staff/privacy/erase", json=bad, headers=AUTH)
        assert response.status_code == 400 and "subject" in response.json()["error"]
    missing = await api.client.get("/api/staff/privacy/export", headers=AUTH)
    assert missing.status_code == 400
    assert api.data.count(api.data.find(ALICE)) == before
    assert api.data.audit_log() == []


async def test_without_the_bearer_token_nothing_is_exported_or_erased(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        got = await api.client.get(
            "/api/staff/privacy/export", params={"subject": ALICE}, headers=headers
        )
        assert got.status_code == 401 and got.headers["www-authenticate"].startswith("Bearer")
        gone = await api.client.post(
            "/api/staff/privacy/erase", json={"subject": ALICE}, headers=headers
        )
        assert gone.status_code == 401
    assert all(api.data.count(api.data.find(ALICE)).values())
    assert api.data.audit_log() == []


async def test_the_openapi_schema_describes_both_paths(api: Api) -> None:
    schema = (await api.client.get("/api/staff/openapi.json")).json()
    export = schema["paths"]["/api/staff/privacy/export"]["get"]
    assert [p["name"] for p in export["parameters"]] == ["subject", "agent"]
    erase = schema["paths"]["/api/staff/privacy/erase"]["post"]
    assert set(erase["responses"]) >= {"200", "400", "401"}
    assert "PrivacyErased" in schema["components"]["schemas"]
