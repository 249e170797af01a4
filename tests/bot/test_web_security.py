"""bot.channels.web: sessions, history and takeover attempts, Origin/CORS, size and rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.web import MAX_BODY_BYTES, SessionSigner, chat_routes
from bot.channels.web_guard import OriginPolicy, WebGuard
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.core.messages import BotMessage, Button
from bot.db import Database
from tests.bot.helpers import FakeConversation

SECRET = "test-session-secret"
OWN = "http://testserver"


@pytest.fixture
def fake() -> FakeConversation:
    return FakeConversation(replies=[BotMessage("ok", buttons=(Button("Yes", "/ask_status"),))])


@pytest.fixture
def history() -> Iterator[WebHistory]:
    h = WebHistory(Database.open("sqlite://").engine)
    yield h
    h.dispose()


def make_client(
    fake: FakeConversation,
    history: WebHistory,
    *,
    origins: OriginPolicy | None = None,
    guard: WebGuard | None = None,
) -> TestClient:
    routes = chat_routes(
        conversation=fake,
        signer=SessionSigner(SECRET),
        hub=PushHub(history),
        origins=origins,
        guard=guard,
    )
    return TestClient(Starlette(routes=routes))


@pytest.fixture
def client(fake: FakeConversation, history: WebHistory) -> Iterator[TestClient]:
    with make_client(fake, history) as c:
        yield c


def new_session(client: TestClient) -> str:
    r = client.post("/api/session")
    assert r.status_code == 200
    return str(r.json()["session"])


def history_of(client: TestClient, token: str) -> Any:
    return client.get("/api/history", params={"session": token})


# --- sessions and history -----------------------------------------------------------


def test_session_route_issues_a_signed_session_and_keeps_a_valid_one(client: TestClient) -> None:
    token = new_session(client)
    assert SessionSigner(SECRET).verify(token) is not None
    assert client.post("/api/session", json={"session": token}).json()["session"] == token
    assert new_session(client) != token


def test_history_brings_back_the_conversation_in_order(client: TestClient) -> None:
    token = new_session(client)
    client.post("/api/chat", json={"text": "first", "session": token})
    client.post("/api/chat", json={"text": "Yes", "payload": "/ask_status", "session": token})
    data = history_of(client, token).json()
    got = [(m["role"], m["text"]) for m in data["messages"]]
    assert got == [("user", "first"), ("bot", "ok"), ("user", "Yes"), ("bot", "ok")]
    assert data["messages"][1]["buttons"] == [{"title": "Yes", "payload": "/ask_status"}]
    ids = [m["id"] for m in data["messages"]]
    assert ids == sorted(ids) and data["last_id"] == ids[-1]


def test_a_new_session_has_an_empty_history(client: TestClient) -> None:
    data = history_of(client, new_session(client)).json()
    assert data["messages"] == []


def test_history_is_kept_per_session(client: TestClient) -> None:
    alice, bob = new_session(client), new_session(client)
    client.post("/api/chat", json={"text": "alice's secret", "session": alice})
    assert history_of(client, bob).json()["messages"] == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t.split(".")[0],  # the bare session id
        lambda t: "web:" + t.split(".")[0],  # the conversation id
        lambda t: t.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA",  # id with a made-up mac
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: SessionSigner("another deployment").issue(),
        lambda t: "",
    ],
)
def test_naming_another_session_does_not_read_its_history(client: TestClient, forge: Any) -> None:
    victim = new_session(client)
    client.post("/api/chat", json={"text": "my account number is 1234", "session": victim})
    r = history_of(client, forge(victim))
    assert r.status_code == 401
    assert "1234" not in r.text and "unknown session" in r.json()["error"]


def test_naming_another_session_does_not_join_its_conversation(
    client: TestClient, fake: FakeConversation
) -> None:
    victim = new_session(client)
    sid = victim.split(".")[0]
    r = client.post("/api/chat", json={"text": "hi", "session": sid + ".forged"})
    assert r.json()["session"] != victim
    assert fake.turns[0].conversation_id != f"web:{sid}"
    assert history_of(client, victim).json()["messages"] == []  # nothing was added to it


def test_event_stream_refuses_a_forged_session(client: TestClient) -> None:
    victim = new_session(client)
    sid = victim.split(".")[0]
    r = client.get("/api/events", params={"ticket": f"{sid}.9999999999.forged"})
    assert r.status_code == 401
    r = client.post("/api/stream-ticket", json={"session": sid})
    assert r.status_code == 401


# --- Origin and CORS ----------------------------------------------------------------


def test_default_policy_allows_the_own_origin(client: TestClient) -> None:
    r = client.post("/api/chat", json={"text": "hi"}, headers={"Origin": OWN})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == OWN
    assert r.headers["vary"] == "Origin"


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080"])
def test_default_policy_no_longer_admits_any_localhost_origin(
    client: TestClient, fake: FakeConversation, origin: str
) -> None:
    # issue 19: any local page (another app, a rebinding attack) could use the chat
    r = client.post("/api/chat", json={"text": "hi"}, headers={"Origin": origin})
    assert r.status_code == 403 and fake.turns == []


def test_a_public_origin_replaces_the_host_header(
    fake: FakeConversation, history: WebHistory
) -> None:
    policy = OriginPolicy(public_origin="https://help.northwind.example:443/")
    with make_client(fake, history, origins=policy) as c:
        public = c.post(
            "/api/chat", json={"text": "hi"}, headers={"Origin": "https://help.northwind.example"}
        )
        by_host = c.post("/api/chat", json={"text": "hi"}, headers={"Origin": OWN})
    assert (public.status_code, by_host.status_code) == (200, 403)


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://localhost.evil.example", "file://"]
)
def test_other_origins_are_refused_and_change_nothing(
    client: TestClient, fake: FakeConversation, origin: str
) -> None:
    token = new_session(client)
    for method, path in (
        ("POST", "/api/chat"),
        ("POST", "/api/session"),
        ("GET", "/api/history"),
        ("GET", "/api/events"),
        ("GET", "/api/status-banner"),
        ("OPTIONS", "/api/chat"),
    ):
        r = client.request(
            method,
            path,
            params={"session": token},
            json={"text": "hi", "session": token} if method == "POST" else None,
            headers={"Origin": origin},
        )
        assert r.status_code == 403, path
        assert r.json() == {"error": "this website is not allowed to use the chat"}
        assert "access-control-allow-origin" not in r.headers
    assert fake.turns == []
    assert history_of(client, token).json()["messages"] == []


def test_configured_origins_replace_localhost(fake: FakeConversation, history: WebHistory) -> None:
    policy = OriginPolicy(["https://www.northwind.example"])
    with make_client(fake, history, origins=policy) as c:
        ok = c.post(
            "/api/chat", json={"text": "hi"}, headers={"Origin": "https://www.northwind.example"}
        )
        own = c.post("/api/chat", json={"text": "hi"}, headers={"Origin": OWN})
        local = c.post(
            "/api/chat", json={"text": "hi"}, headers={"Origin": "http://localhost:3000"}
        )
    assert (ok.status_code, own.status_code, local.status_code) == (200, 200, 403)


def test_preflight_answers_cors_for_an_allowed_origin(client: TestClient) -> None:
    r = client.options(
        "/api/chat",
        headers={
            "Origin": OWN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == OWN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "Content-Type" in r.headers["access-control-allow-headers"]


def test_origin_policy_normalizes_default_ports_and_case() -> None:
    policy = OriginPolicy(["https://WWW.Example.com:443/"])
    assert policy.allows("https://www.example.com", own="http://app.internal")
    assert not policy.allows("https://www.example.com.evil", own="http://app.internal")
    assert not policy.allows("http://www.example.com", own="http://app.internal")
    assert OriginPolicy(["*"]).allows("https://anything.example", own=OWN)


# --- size and rate limits -----------------------------------------------------------


def test_oversized_message_is_refused_and_not_stored(
    client: TestClient, fake: FakeConversation
) -> None:
    token = new_session(client)
    r = client.post("/api/chat", json={"text": "a" * MAX_BODY_BYTES, "session": token})
    assert r.status_code == 413
    assert fake.turns == [] and history_of(client, token).json()["messages"] == []


def test_session_rate_limit_answers_429_with_a_clear_message(
    fake: FakeConversation, history: WebHistory
) -> None:
    with make_client(fake, history, guard=WebGuard(session_per_minute=3, ip_per_minute=1000)) as c:
        token = new_session(c)
        codes = [
            c.post("/api/chat", json={"text": "hi", "session": token}).status_code for _ in range(4)
        ]
        r = c.post("/api/chat", json={"text": "hi", "session": token})
        other = c.post("/api/chat", json={"text": "hi", "session": new_session(c)})
    assert codes == [200, 200, 200, 429]
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"].startswith("too many messages: please wait")
    assert r.json()["retry_after"] == int(r.headers["retry-after"])
    assert other.status_code == 200  # another visitor is not affected
    assert len(fake.turns) == 4  # refused turns never reached the bot


def test_ip_rate_limit_covers_new_sessions_too(fake: FakeConversation, history: WebHistory) -> None:
    with make_client(fake, history, guard=WebGuard(session_per_minute=100, ip_per_minute=5)) as c:
        codes = [c.post("/api/chat", json={"text": "hi"}).status_code for _ in range(6)]
        session = c.post("/api/session")
    assert codes == [200] * 5 + [429]
    assert session.status_code == 429
    assert len(fake.turns) == 5


def test_a_broken_history_database_is_a_clear_503(fake: FakeConversation, tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    database = Database.open(f"sqlite:///{db}")
    broken = WebHistory(database.engine)
    database.dispose()
    db.unlink()
    db.mkdir()  # the database file is gone and cannot be recreated
    with make_client(fake, broken) as c:
        r = c.post("/api/session")
        chat = c.post("/api/chat", json={"text": "hi"})
    assert r.status_code == 503 and chat.status_code == 503
    assert r.json()["error"] == "the chat is unavailable right now: try again in a minute"
    assert fake.turns == []
