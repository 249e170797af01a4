"""bot.channels.web: signed sessions and POST /api/chat, with a fake Conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.channels.web import MAX_BODY_BYTES, SessionSigner, chat_routes
from bot.channels.web_history import WebHistory
from bot.core.messages import BotMessage, Button, Phase, StatusCard
from bot.db import Database
from tests.bot.helpers import FakeConversation

SECRET = "test-session-secret"


# --- SessionSigner --------------------------------------------------------------------


def test_issued_tokens_verify_and_are_unguessable() -> None:
    signer = SessionSigner(SECRET)
    tokens = {signer.issue() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        sid = signer.verify(token)
        assert sid is not None and token.startswith(sid + ".")
        assert len(sid) >= 24  # 18 random bytes, base64


def test_verify_is_stable() -> None:
    signer = SessionSigner(SECRET)
    token = signer.issue()
    assert signer.verify(token) == signer.verify(token) == SessionSigner(SECRET).verify(token)


def test_a_token_from_another_secret_is_refused() -> None:
    assert SessionSigner("other secret").verify(SessionSigner(SECRET).issue()) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: "x" + t,                                    # other session id
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),   # other mac
        lambda t: t.split(".")[0],                            # no mac
        lambda t: t.split(".")[0] + ".",                      # empty mac
        lambda t: "." + t.split(".")[1],                      # empty session id
        lambda t: t + ".extra",
        lambda t: t.upper(),
        lambda t: "",
        lambda t: "web:someone-else",
        lambda t: t + "=" * 300,                              # over the length cap
    ],
)  # fmt: skip
def test_tampered_tokens_are_refused(tamper: Any) -> None:
    signer = SessionSigner(SECRET)
    assert signer.verify(tamper(signer.issue())) is None


@pytest.mark.parametrize(
    "junk", ["abc.é", "é.abc", "abc.\x00", "abc.👍👍👍", "abc.\udcff", "\udcff.abc"]
)
def test_non_ascii_junk_is_refused_not_crashed(junk: str) -> None:
    assert SessionSigner(SECRET).verify(junk) is None


# --- POST /api/chat -------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeConversation:
    return FakeConversation()


@pytest.fixture
def signer() -> SessionSigner:
    return SessionSigner(SECRET)


@pytest.fixture
def client(fake: FakeConversation, signer: SessionSigner) -> Iterator[TestClient]:
    app = Starlette(routes=chat_routes(conversation=fake, signer=signer))
    with TestClient(app) as c:
        yield c


def chat(client: TestClient, **body: Any) -> Any:
    return client.post("/api/chat", json=body)


def test_new_visitor_gets_a_session(
    client: TestClient, fake: FakeConversation, signer: SessionSigner
) -> None:
    r = chat(client, text="Is the app down?")
    assert r.status_code == 200
    data = r.json()
    sid = signer.verify(data["session"])
    assert sid is not None
    [message] = data["messages"]
    assert (message["role"], message["text"]) == ("bot", "ok")
    assert isinstance(message["id"], int) and message["at"].endswith("Z")
    assert data["user"]["text"] == "Is the app down?" and data["user"]["id"] < message["id"]
    [turn] = fake.turns
    assert turn.conversation_id == f"web:{sid}"
    assert (turn.channel, turn.text, turn.lang, turn.payload) == (
        "web", "Is the app down?", None, None,
    )  # fmt: skip


def test_a_turn_writes_the_history_once(fake: FakeConversation, signer: SessionSigner) -> None:
    # the user's message and the replies go in one transaction, after the answer
    class Spy(WebHistory):
        calls: list[str] = []

        def append(self, *args: Any, **kwargs: Any) -> Any:
            self.calls.append("append")
            return super().append(*args, **kwargs)

        def append_turn(self, *args: Any, **kwargs: Any) -> Any:
            self.calls.append("append_turn")
            return super().append_turn(*args, **kwargs)

    history = Spy(Database.open("sqlite://").engine)
    app = Starlette(routes=chat_routes(conversation=fake, signer=signer, history=history))
    with TestClient(app) as client:
        data = chat(client, text="Is the app down?").json()
        reloaded = client.get("/api/history", params={"session": data["session"]}).json()
    assert history.calls == ["append_turn"]
    ids = [data["user"]["id"], data["messages"][0]["id"]]
    assert [m["id"] for m in reloaded["messages"]] == ids


def test_a_reload_brings_back_the_status_card(
    fake: FakeConversation, signer: SessionSigner
) -> None:
    card = StatusCard(Phase.MONITORING, incident_id="inc-1", components=("Cards",), stale=True)
    fake.replies = [BotMessage("As of 10:00 UTC, a fix is being monitored.", status=card)]
    app = Starlette(
        routes=chat_routes(
            conversation=fake, signer=signer, history=WebHistory(Database.open("sqlite://").engine)
        )
    )
    with TestClient(app) as client:
        data = chat(client, text="Is the app down?").json()
        reloaded = client.get("/api/history", params={"session": data["session"]}).json()
    [answered] = data["messages"]
    assert answered["status"] == card.to_json()
    assert reloaded["messages"][-1]["status"] == card.to_json()
    assert reloaded["messages"][-1]["text"] == "As of 10:00 UTC, a fix is being monitored."


def test_valid_session_is_kept(
    client: TestClient, fake: FakeConversation, signer: SessionSigner
) -> None:
    token = chat(client, text="hi").json()["session"]
    again = chat(client, text="and now?", session=token).json()
    assert again["session"] == token
    assert fake.turns[0].conversation_id == fake.turns[1].conversation_id
    assert fake.turns[1].conversation_id == f"web:{signer.verify(token)}"


def test_each_new_visitor_gets_their_own_conversation(
    client: TestClient, fake: FakeConversation
) -> None:
    a, b = chat(client, text="hi").json(), chat(client, text="hi").json()
    assert a["session"] != b["session"]
    assert fake.turns[0].conversation_id != fake.turns[1].conversation_id


@pytest.mark.parametrize(
    "forged", ["web:victim", "victim", "victim.AAAAAAAAAAAAAAAAAAAAAA", "", "abc.é"]
)
def test_forged_session_gets_a_new_one(
    client: TestClient, fake: FakeConversation, signer: SessionSigner, forged: str
) -> None:
    r = chat(client, text="hi", session=forged)
    assert r.status_code == 200
    token = r.json()["session"]
    assert token != forged
    sid = signer.verify(token)
    assert sid is not None
    assert fake.turns[0].conversation_id == f"web:{sid}"
    assert "victim" not in fake.turns[0].conversation_id


def test_a_session_signed_with_another_secret_is_replaced(
    client: TestClient, fake: FakeConversation
) -> None:
    foreign = SessionSigner("another deployment").issue()
    token = chat(client, text="hi", session=foreign).json()["session"]
    assert token != foreign
    assert fake.turns[0].conversation_id != f"web:{foreign.split('.')[0]}"


def test_payload_and_lang_are_passed_through(client: TestClient, fake: FakeConversation) -> None:
    chat(client, text="Talk to a person", payload="/request_human", lang="es-ES")
    [turn] = fake.turns
    assert (turn.text, turn.payload, turn.lang) == ("Talk to a person", "/request_human", "es-ES")


def test_missing_and_empty_fields_mean_none(client: TestClient, fake: FakeConversation) -> None:
    assert chat(client).status_code == 200
    assert chat(client, text="", payload="", lang="", session="").status_code == 200
    for turn in fake.turns:
        assert (turn.text, turn.payload, turn.lang) == ("", None, None)


def test_buttons_and_the_status_card_are_rendered(
    client: TestClient, fake: FakeConversation
) -> None:
    fake.replies = [
        BotMessage("Pick one", buttons=(
            Button("Card payments", '/choose_faq{"faq_id":"card-payments-failing"}'),
            Button("Talk to a person", "/request_human"),
        )),
        BotMessage("As of 10:00 UTC, cards fail.", status=StatusCard(
            Phase.IDENTIFIED, incident_id="inc-1", as_of=datetime(2024, 5, 1, 10, tzinfo=UTC),
        )),
        BotMessage("<script>alert(1)</script>"),
    ]  # fmt: skip
    data = chat(client, text="card").json()
    for m in data["messages"]:
        assert (m.pop("role"), type(m.pop("id")), type(m.pop("at"))) == ("bot", int, str)
    assert data["messages"] == [
        {"text": "Pick one", "buttons": [
            {"title": "Card payments", "payload": '/choose_faq{"faq_id":"card-payments-failing"}'},
            {"title": "Talk to a person", "payload": "/request_human"},
        ]},
        {"text": "As of 10:00 UTC, cards fail.", "status": {
            "phase": "identified", "incident_id": "inc-1", "components": [],
            "as_of": "2024-05-01T10:00:00+00:00", "stale": False,
        }},
        {"text": "<script>alert(1)</script>"},  # the widget renders it as text
    ]  # fmt: skip


def test_response_is_json(client: TestClient) -> None:
    r = chat(client, text="hi")
    assert r.headers["content-type"].startswith("application/json")


def test_body_up_to_the_limit_is_accepted(client: TestClient, fake: FakeConversation) -> None:
    prefix = b'{"text": "'
    body = prefix + b"a" * (MAX_BODY_BYTES - len(prefix) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES == 16 * 1024
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert len(fake.turns) == 1


def test_body_over_16_kib_is_refused(client: TestClient, fake: FakeConversation) -> None:
    body = json.dumps({"text": "a" * MAX_BODY_BYTES}).encode()
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "error" in r.json()
    assert fake.turns == []


async def test_oversized_body_is_refused_without_reading_it_all(fake: FakeConversation) -> None:
    # The cap exists so one request cannot make the app buffer megabytes: stop
    # reading once the limit is passed. No Content-Length here, as with a
    # chunked upload, so checking that header alone would not be enough.
    app = Starlette(routes=chat_routes(conversation=fake, signer=SessionSigner(SECRET)))
    chunk, total_chunks = b"a" * 16 * 1024, 256  # 4 MiB offered
    delivered = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered < total_chunks:
            delivered += 1
            return {"type": "http.request", "body": chunk, "more_body": delivered < total_chunks}
        return {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/chat", "raw_path": b"/api/chat", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert delivered <= 2, f"read {delivered * len(chunk)} bytes before refusing"
    assert fake.turns == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"", b"{", b"{'text': 'hi'}", b"\xff\xfe\xfa\x00", b'{"text": "\xff"}',
     b"\xc3\x28"],
    ids=["text", "empty", "truncated", "single-quotes", "binary", "invalid-utf8-in-string",
         "invalid-utf8"],
)  # fmt: skip
def test_invalid_json_is_400(client: TestClient, fake: FakeConversation, body: bytes) -> None:
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"error": "body must be JSON"}
    assert fake.turns == []


@pytest.mark.parametrize("body", [[], ["text"], "hi", 3, None, True])
def test_non_object_is_400(client: TestClient, fake: FakeConversation, body: Any) -> None:
    r = client.post("/api/chat", content=json.dumps(body).encode())
    assert r.status_code == 400
    assert r.json() == {"error": "body must be a JSON object"}
    assert fake.turns == []


@pytest.mark.parametrize("field", ["text", "payload", "lang", "session"])
@pytest.mark.parametrize("value", [3, 1.5, True, ["hi"], {"a": 1}])
def test_non_string_field_is_400(
    client: TestClient, fake: FakeConversation, field: str, value: Any
) -> None:
    r = chat(client, **{"text": "hi", field: value})
    assert r.status_code == 400
    assert "must be strings" in r.json()["error"]
    assert fake.turns == []


@pytest.mark.parametrize("escaped", [r"abc.\u00e9", r"abc.\udcff", r"\udcff.abc"])
def test_session_with_escaped_non_ascii_gets_a_new_one(
    client: TestClient, fake: FakeConversation, signer: SessionSigner, escaped: str
) -> None:
    # JSON escapes reach the app as any code point, lone surrogates included.
    body = ('{"text": "hi", "session": "' + escaped + '"}').encode()
    r = client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert signer.verify(r.json()["session"]) is not None
    assert len(fake.turns) == 1


def test_only_post_is_allowed(client: TestClient) -> None:
    assert client.get("/api/chat").status_code == 405
