"""The staff API to the letter: paths, fields, 401/404/409; agent replies reach the web
(history role "agent", pushed live), Telegram and Slack (loopback fakes), escaped; oversize
refused; a failed delivery answers 502 with the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from bot.broadcast.tables import incident_askers
from bot.channels.slack.push import SlackDeliverer
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.telegram.limits import RateLimiter
from bot.channels.telegram.push import TelegramDeliverer
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.wiring import build_bot
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub, WebAgentChannel
from bot.db import Database
from bot.handoff.api import staff_api_routes
from bot.handoff.service import HandoffService, SameVoice
from bot.handoff.store import HandoffStore
from bot.handoff.touched import Touched
from bot.http import EXCEPTION_HANDLERS
from bot.settings import TelegramSettings
from bot.templates import TemplateStore
from tests.helpers.slack_fake import BOT_TOKEN, MockSlackApi, running_slack_api
from tests.helpers.telegram_fake import TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
STAFF_TOKEN = "staff-secret-token"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@dataclass
class Desk:
    client: httpx.AsyncClient
    service: HandoffService
    hub: PushHub
    telegram: FakeBotApi
    slack: MockSlackApi


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    engine = Database.open(f"sqlite:///{tmp_path / 'faro.db'}").engine
    service = HandoffService(
        HandoffStore(engine), TemplateStore.from_paths([ROOT / "data" / "templates"])
    )
    hub = PushHub(WebHistory(engine))
    async with FakeBotApi() as telegram:
        bot = build_bot(TelegramSettings(token=TOKEN, api_url=telegram.url))
        await bot.initialize()
        tg = TelegramSender(bot, limiter=RateLimiter(), max_attempts=2, backoff_s=0.01)
        with running_slack_api() as slack:
            sk = SlackSender(make_client(token=BOT_TOKEN, base_url=slack.url))
            service.use_channels(
                {
                    "web": WebAgentChannel(hub),
                    "telegram": SameVoice(TelegramDeliverer(tg)),
                    "slack": SameVoice(SlackDeliverer(sk)),
                }
            )
            app = Starlette(
                routes=staff_api_routes(
                    service=service, token=STAFF_TOKEN, touched=Touched(engine)
                ),
                exception_handlers=EXCEPTION_HANDLERS,
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://faro") as client:
                yield Desk(client, service, hub, telegram, slack)
        await bot.shutdown()


async def post(desk: Desk, path: str, body: dict[str, object] | None = None) -> httpx.Response:
    return await desk.client.post("/api/staff" + path, json=body, headers=AUTH)


async def test_no_or_wrong_token_is_401_everywhere(desk: Desk) -> None:
    desk.service.request("web:a", "web", "en")
    for method, path in [
        ("GET", "/api/staff/handoffs"),
        ("POST", "/api/staff/handoffs/1/claim"),
        ("POST", "/api/staff/handoffs/1/reply"),
        ("POST", "/api/staff/handoffs/1/release"),
        ("POST", "/api/staff/handoffs/1/close"),
    ]:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": STAFF_TOKEN}):
            response = await desk.client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert "token" in response.json()["error"]
    assert desk.service.current("web:a").state == "waiting"  # type: ignore[union-attr]


async def test_a_server_without_a_token_refuses_and_says_what_to_set(tmp_path: Path) -> None:
    engine = Database.open(f"sqlite:///{tmp_path / 'faro.db'}").engine
    service = HandoffService(HandoffStore(engine), TemplateStore({}))
    app = Starlette(
        routes=staff_api_routes(service=service, token=None), exception_handlers=EXCEPTION_HANDLERS
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as c:
        response = await c.get("/api/staff/handoffs", headers={"Authorization": "Bearer "})
    assert response.status_code == 401 and "FARO_ADMIN_TOKEN" in response.json()["error"]


async def test_list_has_the_contract_fields(desk: Desk) -> None:
    desk.service.request("web:a", "web", "en", [("user", "hello", datetime.now(UTC))])
    response = await desk.client.get("/api/staff/handoffs?state=waiting", headers=AUTH)
    assert response.status_code == 200
    [item] = response.json()["handoffs"]
    for key in ("id", "conversation_id", "channel", "lang", "state", "opened_at", "claimed_by"):
        assert key in item
    assert (item["conversation_id"], item["channel"], item["lang"], item["state"]) == (
        "web:a", "web", "en", "waiting",
    )  # fmt: skip
    assert item["claimed_by"] is None and item["opened_at"].endswith("Z")
    assert [(m["role"], m["text"]) for m in item["transcript"]][0] == ("user", "hello")
    assert all(set(m) >= {"role", "text", "at"} for m in item["transcript"])
    assert (await desk.client.get("/api/staff/handoffs?state=active", headers=AUTH)).json() == {
        "handoffs": []
    }
    bad = await desk.client.get("/api/staff/handoffs?state=everything", headers=AUTH)
    assert bad.status_code == 400


async def test_one_handoff_shows_what_it_touched_besides_the_contract_fields(
    desk: Desk,
) -> None:
    desk.service.request("web:a", "web", "en", [("user", "is it down?", datetime.now(UTC))])
    hid = desk.service.current("web:a").id  # type: ignore[union-attr]
    with desk.service.store.engine.begin() as conn:
        conn.execute(
            incident_askers.insert().values(
                incident_id="inc-9", conversation_id="web:a", channel="web", address="a",
                lang="en", asked_at=datetime(2026, 12, 5, 10, 0, tzinfo=UTC),
            )
        )  # fmt: skip
    item = (await desk.client.get(f"/api/staff/handoffs/{hid}", headers=AUTH)).json()
    listed = (await desk.client.get("/api/staff/handoffs", headers=AUTH)).json()["handoffs"][0]
    assert {k: item[k] for k in listed} == listed  # the contract's fields, unchanged
    assert item["touched"] == {
        "faq": [],  # no FAQ service on this server
        "incidents": [
            {"id": "inc-9", "name": None, "status": None, "current": False,
             "asked_at": "2026-12-05T10:00:00Z"},
        ],
    }  # fmt: skip


async def test_claim_conflict_and_unknown(desk: Desk) -> None:
    desk.service.request("web:a", "web", "en")
    hid = desk.service.current("web:a").id  # type: ignore[union-attr]
    first = await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})
    assert first.status_code == 200
    assert (first.json()["state"], first.json()["claimed_by"]) == ("active", "Ana")
    assert (await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})).status_code == 200
    second = await post(desk, f"/handoffs/{hid}/claim", {"agent": "Bob"})
    assert second.status_code == 409
    assert second.json()["error"] == f"handoff {hid} is already claimed by another agent"
    for path in ("/handoffs/999/claim", "/handoffs/abc/claim", "/handoffs/999/close"):
        response = await post(desk, path)
        assert response.status_code == 404 and "no handoff" in response.json()["error"]
    reply = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Bob", "text": "hi"})
    assert reply.status_code == 409 and "another agent" in reply.json()["error"]


async def test_web_reply_is_in_the_history_as_agent_and_pushed(desk: Desk) -> None:
    history = desk.hub.history
    start = history.start_session("s1")
    desk.service.request("web:s1", "web", "es")
    hid = desk.service.current("web:s1").id  # type: ignore[union-attr]
    await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})
    text = "Hola, soy Ana <script>alert(1)</script> & te ayudo"
    response = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Ana", "text": text})
    assert response.status_code == 200
    assert response.json()["message"]["delivery"] == "sent"
    rows = history.history("web:s1", start_id=start)
    assert [(r.role, r.text) for r in rows] == [
        ("notice", "Ahora estás hablando con Ana, de nuestro equipo."),
        ("agent", text),  # stored as text: the widget renders it with text nodes, never as HTML
    ]
    pushed = history.pushed_after("web:s1", after=0, start_id=start)
    assert [r.role for r in pushed] == ["notice", "agent"]
    assert rows[1].to_json()["role"] == "agent"
    released = await post(desk, f"/handoffs/{hid}/release", {"agent": "Ana"})
    assert released.status_code == 200
    assert (released.json()["state"], released.json()["outcome"]) == ("closed", "released")
    assert history.history("web:s1", start_id=start)[-1].text.startswith("Vuelves a hablar")
    again = await post(desk, f"/handoffs/{hid}/close", {"agent": "Ana"})
    assert again.status_code == 409 and "closed" in again.json()["error"]


async def test_telegram_reply_is_escaped_and_a_block_is_a_502_with_the_reason(desk: Desk) -> None:
    desk.service.request("telegram:7001", "telegram", "en")
    hid = desk.service.current("telegram:7001").id  # type: ignore[union-attr]
    await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})
    response = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Ana", "text": "<b>1 & 2</b>"})
    assert response.status_code == 200
    raw = desk.telegram.sent(7001)[-1]
    assert raw["text"] == "&lt;b&gt;1 &amp; 2&lt;/b&gt;" and raw["parse_mode"] == "HTML"
    assert desk.telegram.shown(7001)[-1] == "<b>1 & 2</b>"
    desk.telegram.block(7001)
    failed = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Ana", "text": "still there?"})
    assert failed.status_code == 502
    assert failed.json()["error"].startswith("not delivered: Telegram 403")
    assert failed.json()["message"]["delivery"] == "failed"
    listed = (await desk.client.get("/api/staff/handoffs?state=active", headers=AUTH)).json()
    last = listed["handoffs"][0]["transcript"][-1]
    assert (last["text"], last["delivery"]) == ("still there?", "failed")
    assert "403" in last["error"]


async def test_slack_reply_is_escaped(desk: Desk) -> None:
    desk.service.request("slack:T1:U55", "slack", "en")
    hid = desk.service.current("slack:T1:U55").id  # type: ignore[union-attr]
    await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})
    response = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Ana", "text": "<@U1> & *x*"})
    assert response.status_code == 200
    posts = [c.body for c in desk.slack.of("chat.postMessage") if "blocks" in c.body]
    assert posts[-1]["channel"] == "U55"
    shown = posts[-1]["blocks"][0]["text"]["text"]
    assert "&lt;@U1&gt;" in shown and "&amp;" in shown


async def test_bad_replies_are_refused_and_change_nothing(desk: Desk) -> None:
    desk.service.request("web:b", "web", "en")
    hid = desk.service.current("web:b").id  # type: ignore[union-attr]
    await post(desk, f"/handoffs/{hid}/claim", {"agent": "Ana"})
    before = desk.service.store.transcript(hid)
    too_long = await post(desk, f"/handoffs/{hid}/reply", {"agent": "Ana", "text": "x" * 4001})
    assert too_long.status_code == 413 and "4000" in too_long.json()["error"]
    bodies: list[dict[str, object]] = [
        {"agent": "Ana"},
        {"agent": "Ana", "text": "  "},
        {"agent": 5, "text": "hi"},
    ]
    for body in bodies:
        assert (await post(desk, f"/handoffs/{hid}/reply", body)).status_code == 400
    huge = await desk.client.post(
        f"/api/staff/handoffs/{hid}/reply", content=b"{" + b" " * 70_000 + b"}", headers=AUTH
    )
    assert huge.status_code == 413
    assert desk.service.store.transcript(hid) == before


async def test_openapi_schema_describes_the_contract(desk: Desk) -> None:
    response = await desk.client.get("/api/staff/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for action in ("claim", "reply", "release", "close"):
        post_ = paths[f"/api/staff/handoffs/{{handoff_id}}/{action}"]["post"]
        assert {"401", "404", "409"} <= set(post_["responses"])
    assert "state" in [p["name"] for p in paths["/api/staff/handoffs"]["get"]["parameters"]]
    handoff = schema["components"]["schemas"]["Handoff"]
    assert set(handoff["required"]) == {
        "id", "conversation_id", "channel", "lang", "state", "opened_at", "claimed_by",
        "transcript",
    }  # fmt: skip
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
