"""Widget sessions expire when idle (rolling), live streams open with short-lived tickets
instead of the session token in the URL, and the app caps its open streams (issue 19)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.web import SessionSigner, WebOptions, chat_routes
from bot.channels.web_history import WebHistory, web_sessions
from bot.channels.web_push import PushHub
from bot.core.messages import BotMessage
from bot.db import Database
from tests.bot.helpers import FakeConversation

SECRET = "test-session-secret"


@pytest.fixture
def history() -> Iterator[WebHistory]:
    h = WebHistory(Database.open("sqlite://").engine)
    yield h
    h.dispose()


def make(history: WebHistory, **options: Any) -> TestClient:
    routes = chat_routes(
        conversation=FakeConversation(replies=[BotMessage("ok")]),
        signer=SessionSigner(SECRET),
        hub=PushHub(history),
        options=WebOptions(**options),
    )
    return TestClient(Starlette(routes=routes))


def age(history: WebHistory, by: timedelta) -> None:
    """Pretend every session was last used ``by`` ago."""
    then = datetime.now(UTC) - by
    with history._engine.begin() as conn:
        conn.execute(web_sessions.update().values(created_at=then, last_seen_at=then))


def test_an_idle_session_expires_and_a_used_one_rolls_on(history: WebHistory) -> None:
    # The finding: widget sessions never expired.
    c = make(history, session_idle=timedelta(days=30))
    token = c.post("/api/session").json()["session"]
    age(history, timedelta(days=29))
    assert c.post("/api/chat", json={"text": "hi", "session": token}).json()["session"] == token
    age(history, timedelta(days=29))  # used a day ago... then 29 days idle again: still alive
    assert c.post("/api/stream-ticket", json={"session": token}).status_code == 200
    age(history, timedelta(days=31))
    r = c.post("/api/stream-ticket", json={"session": token})
    assert r.status_code == 401 and "expired" in r.json()["error"]
    assert c.post("/api/history", json={"session": token}).status_code == 401
    fresh = c.post("/api/chat", json={"text": "hi", "session": token}).json()["session"]
    assert fresh != token  # chatting with an expired session starts a new one


def test_history_is_read_without_the_token_in_the_url(history: WebHistory) -> None:
    c = make(history)
    token = c.post("/api/session").json()["session"]
    c.post("/api/chat", json={"text": "hi", "session": token})
    r = c.post("/api/history", json={"session": token})
    assert [m["text"] for m in r.json()["messages"]] == ["hi", "ok"]


def test_the_stream_takes_a_short_lived_ticket_not_the_session_token(history: WebHistory) -> None:
    # The finding: the long-lived session token travelled in the event stream's URL.
    c = make(history, ticket_ttl=timedelta(seconds=60))
    token = c.post("/api/session").json()["session"]
    refused = c.get("/api/events", params={"session": token})
    assert refused.status_code == 400 and "stream-ticket" in refused.json()["error"]
    ticket = c.post("/api/stream-ticket", json={"session": token}).json()
    assert ticket["expires_in"] == 60 and token not in ticket["ticket"]
    # a ticket is no session token: chatting with it starts a new session
    as_token = c.post("/api/chat", json={"text": "hi", "session": ticket["ticket"]}).json()
    assert as_token["session"] not in (token, ticket["ticket"])
    assert c.post("/api/history", json={"session": ticket["ticket"]}).status_code == 401
    with c.stream("GET", "/api/events", params={"ticket": ticket["ticket"]}) as opened:
        assert opened.status_code == 200
        assert opened.headers["content-type"].startswith("text/event-stream")
    forged = ticket["ticket"][:-2] + ("AA" if not ticket["ticket"].endswith("AA") else "BB")
    assert c.get("/api/events", params={"ticket": forged}).status_code == 401


def test_an_expired_ticket_is_refused(history: WebHistory) -> None:
    c = make(history, ticket_ttl=timedelta(seconds=-1))
    token = c.post("/api/session").json()["session"]
    ticket = c.post("/api/stream-ticket", json={"session": token}).json()["ticket"]
    r = c.get("/api/events", params={"ticket": ticket})
    assert r.status_code == 401 and "ticket" in r.json()["error"]


async def test_past_the_global_cap_a_stream_is_refused_clearly(history: WebHistory) -> None:
    hub = PushHub(history)
    routes = chat_routes(
        conversation=FakeConversation(),
        signer=SessionSigner(SECRET),
        hub=hub,
        options=WebOptions(max_streams=2),
    )
    app = Starlette(routes=routes)
    with TestClient(app) as c:
        tickets = []
        for _ in range(3):
            token = c.post("/api/session").json()["session"]
            tickets.append(c.post("/api/stream-ticket", json={"session": token}).json()["ticket"])
    loop = asyncio.get_running_loop()
    subs = [hub.subscribe("web:a"), hub.subscribe("web:b")]  # two open elsewhere
    try:
        with TestClient(app) as c:
            r = c.get("/api/events", params={"ticket": tickets[2]})
        assert r.status_code == 503 and "too many" in r.json()["error"]
        assert int(r.headers["retry-after"]) >= 1
    finally:
        for s in subs:
            hub.unsubscribe(s)
    assert loop.is_running()


def test_sessions_keep_their_last_use(history: WebHistory) -> None:
    c = make(history)
    c.post("/api/session")
    with history._engine.connect() as conn:
        seen = conn.execute(sa.select(web_sessions.c.last_seen_at)).scalar_one()
    assert seen is not None


def test_a_turn_passed_to_a_person_says_so(history: WebHistory) -> None:
    held = TestClient(
        Starlette(
            routes=chat_routes(
                conversation=FakeConversation(replies=[]),
                signer=SessionSigner(SECRET),
                hub=PushHub(history),
            )
        )
    )
    data = held.post("/api/chat", json={"text": "are you there?"}).json()
    assert data["messages"] == [] and data["held"] is True
    assert data["user"]["text"] == "are you there?"
    answered = make(history).post("/api/chat", json={"text": "hi"}).json()
    assert answered["held"] is False and answered["messages"]
