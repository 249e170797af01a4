"""Property-based tests: what channels receive (JSON bodies, Telegram updates, Slack events)
is handled or refused with a 4xx / the channel's error, never a 5xx or a crash."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient
from telegram import Bot, Update

from bot.channels.slack.events import SlackHandlers
from bot.channels.slack.markup import incoming_text
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.slack.staff import parse
from bot.channels.slack.store import SeenEvents
from bot.channels.telegram.channel import BadUpdate, TelegramChannel
from bot.channels.web import SessionSigner, chat_routes
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.core.messages import BotMessage
from bot.db import Database
from bot.http import EXCEPTION_HANDLERS, HttpError
from bot.http.body import parse_json
from tests.bot.helpers import FakeConversation
from tests.fuzz.strategies import SCALARS, any_bytes, documents, json_bytes, json_values


@given(st.one_of(any_bytes(), json_bytes(json_values(60))))
def test_json_bodies(raw: bytes) -> None:
    try:
        value = parse_json(raw)
    except HttpError as exc:
        assert 400 <= exc.status_code < 500 and "\n" not in str(exc)
        return
    assert isinstance(value, dict)


@pytest.fixture(scope="module")
def web() -> Iterator[TestClient]:
    history = WebHistory(Database.open("sqlite://").engine)
    routes = chat_routes(
        conversation=FakeConversation(replies=[BotMessage("ok")]),
        signer=SessionSigner("fuzz"),
        hub=PushHub(history),
    )
    with TestClient(Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)) as c:
        yield c
    history.dispose()


chat_bodies = st.one_of(
    json_values(),
    documents(["text", "payload", "lang", "session"]),
)


@given(
    st.sampled_from(["/api/chat", "/api/session", "/api/history", "/api/stream-ticket"]),
    st.one_of(json_bytes(chat_bodies), any_bytes()),
)
def test_web_chat_endpoints(web: TestClient, path: str, raw: bytes) -> None:
    r = web.post(path, content=raw, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    assert isinstance(r.json(), dict)


@given(
    st.fixed_dictionaries(
        {},
        optional={"session": SCALARS, "after": SCALARS, "ticket": SCALARS, "lang": SCALARS},
    )
)
def test_web_get_endpoints(web: TestClient, params: dict[str, Any]) -> None:
    clean = {k: str(v) for k, v in params.items() if v is not None}
    for path in ("/api/history", "/api/status-banner"):
        assert web.get(path, params=clean).status_code < 500
    if "ticket" in clean and "session" not in clean:
        r = web.get("/api/events", params=clean)  # no valid ticket: refused before streaming
        assert 400 <= r.status_code < 500


USER = ["id", "is_bot", "first_name", "language_code", "username"]
CHAT = ["id", "type", "title", "username"]
MESSAGE = ["message_id", "date", "chat", "from", "text", "entities", "reply_markup"]
telegram_updates = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-(2**40), max_value=2**40)},
    optional={
        "message": st.one_of(
            json_values(6),
            st.fixed_dictionaries(
                {},
                optional={
                    "message_id": SCALARS,
                    "date": SCALARS,
                    "chat": documents(CHAT),
                    "from": documents(USER),
                    "text": SCALARS,
                },
            ),
        ),
        "callback_query": st.one_of(
            json_values(6), documents(["id", "from", "data", "chat_instance", "message"])
        ),
        "edited_message": json_values(4),
    },
)


CHANNEL = types.SimpleNamespace(bot=Bot("123456:fuzz-token"))  # parse() only uses the bot


@given(st.one_of(json_values(), telegram_updates))
def test_telegram_updates(data: Any) -> None:
    channel = CHANNEL
    try:
        update = TelegramChannel.parse(channel, data)  # type: ignore[arg-type]
    except BadUpdate as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(update, Update)


class Recorder:
    """A turn queue that records and never runs anything."""

    def __init__(self) -> None:
        self.keys: list[Any] = []

    def submit(self, key: Any, job: Any) -> bool:
        self.keys.append(key)
        job.close() if hasattr(job, "close") else None
        return True


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackHandlers]:
    db = Database.open("sqlite://")
    sender = SlackSender(make_client(token="xoxb-fuzz", base_url="http://127.0.0.1:9/api/"))
    handlers = SlackHandlers(
        conversation=FakeConversation(),
        sender=sender,
        queue=Recorder(),  # type: ignore[arg-type]
        staff=types.SimpleNamespace(),  # type: ignore[arg-type]
        seen=SeenEvents(db.engine),
    )
    yield handlers
    db.engine.dispose()


EVENT = ["type", "subtype", "user", "channel", "text", "ts", "thread_ts", "bot_id", "team",
         "channel_type", "bot_profile"]  # fmt: skip


@given(
    documents(["event_id", "team_id", "event"]),
    st.one_of(
        documents(EVENT),
        st.fixed_dictionaries(
            {"user": st.text(max_size=12), "channel": st.text(max_size=12)},
            optional={k: json_values(4) for k in EVENT if k not in ("user", "channel")},
        ),
    ),
    st.one_of(st.none(), st.text(max_size=12)),
)
@example(body={}, event={"subtype": []}, bot=None)  # a TypeError before (issue 19)
def test_slack_messages(
    slack: SlackHandlers, body: dict[str, Any], event: dict[str, Any], bot: str | None
) -> None:
    try:
        response = asyncio.run(slack.accept_message(body, event, bot_user_id=bot))
    except (TypeError, KeyError, AttributeError, ValueError) as exc:  # what bolt would 500 on
        raise AssertionError(f"crashed on {event!r}: {exc!r}") from exc
    assert response is None or response.status in (503,)


@given(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=12)))
def test_slack_text_and_staff_commands(text: str, bot: str | None) -> None:
    cleaned = incoming_text(text, bot_user_id=bot)
    assert isinstance(cleaned, str)
    parsed = parse(text)
    assert parsed is None or parsed[0] in ("status", "ask", "unanswered")
    json.dumps(cleaned)
