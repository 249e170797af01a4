"""POST /telegram/webhook with the real channel, a scripted core and the fake Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.channels.telegram import callbacks
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.render import MAX_TEXT, utf16_len
from bot.channels.telegram.store import TelegramStore
from bot.channels.telegram.webhook import MAX_BODY_BYTES, SECRET_HEADER, WEBHOOK_PATH, webhook_route
from bot.channels.telegram.wiring import build_bot
from bot.core.messages import BotMessage, Button, Turn
from bot.db import Database
from bot.http import EXCEPTION_HANDLERS
from tests.channels.telegram.conftest import SECRET, ScriptedConversation, TelegramTestSettings
from tests.helpers.telegram_builders import buttons, callback_update, message_update
from tests.helpers.telegram_fake import TOKEN, Failure, FakeBotApi

LONG_PAYLOAD = '/choose_faq{"faq_id":"card-payments-failing-during-the-november-outage"}'


@pytest.fixture
async def client(channel: TelegramChannel) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[webhook_route(channel=channel, secret=SECRET)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://faro.test") as c:
        yield c


async def post(
    client: httpx.AsyncClient, body: Any, *, secret: str | None = SECRET, raw: bytes | None = None
) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    if raw is not None:
        return await client.post(WEBHOOK_PATH, content=raw, headers=headers)
    return await client.post(WEBHOOK_PATH, json=body, headers=headers)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_missing_or_wrong_secret_is_403_and_nothing_happens(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
    secret: str | None,
) -> None:
    response = await post(client, message_update(1, 42, "hi"), secret=secret)
    assert response.status_code == 403
    await channel.dispatcher.join()
    assert conversation.turns == [] and api.sent() == []


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"message": {"text": "no update id"}}',
        b'{"update_id": "7"}',
        b'{"update_id": 7, "message": "not a message"}',
        b'{"update_id": 7, "callback_query": {"id": 5}}',
    ],
)
async def test_malformed_body_is_400_and_nothing_happens(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    raw: bytes,
) -> None:
    response = await post(client, None, raw=raw)
    assert response.status_code == 400
    await channel.dispatcher.join()
    assert conversation.turns == []
    # a rejected body does not burn its update id
    assert (await post(client, message_update(7, 42, "hi"))).json() == {"status": "queued"}


@pytest.mark.parametrize(
    "raw",
    [b"[" * 5000 + b"]" * 5000, b'{"update_id": 7, "message": ' * 3000 + b"1" + b"}" * 3000],
    ids=["array", "object"],
)
async def test_a_deeply_nested_body_is_400_not_500_and_nothing_happens(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    raw: bytes,
) -> None:
    response = await post(client, None, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"error": "body is nested too deeply (more than 64 levels)"}
    await channel.dispatcher.join()
    assert conversation.turns == []
    assert (await post(client, message_update(7, 42, "hi"))).json() == {"status": "queued"}


async def test_an_oversized_update_is_413_and_nothing_happens(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
) -> None:
    update = message_update(7, 42, "a" * MAX_BODY_BYTES)
    response = await post(client, update)
    assert response.status_code == 413 and "too large" in response.json()["error"]
    await channel.dispatcher.join()
    assert conversation.turns == []
    assert (await post(client, message_update(7, 42, "hi"))).json() == {"status": "queued"}


async def test_a_message_becomes_a_turn_and_the_reply_is_sent(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    response = await post(client, message_update(10, 42, "¿está caída la app?", lang="es-ES"))
    assert response.status_code == 200
    await channel.dispatcher.join()
    assert conversation.turns == [
        Turn(
            conversation_id="telegram:42", channel="telegram", text="¿está caída la app?", lang="es"
        )
    ]
    [sent] = api.sent(42)
    assert sent["text"] == "echo: ¿está caída la app?" and sent["parse_mode"] == "HTML"


@pytest.mark.parametrize(("code", "lang"), [("en", "en"), ("pt-br", None), (None, None)])
async def test_language_comes_from_telegram_when_the_bot_speaks_it(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    code: str | None,
    lang: str | None,
) -> None:
    await post(client, message_update(11, 42, "hello", lang=code))
    await channel.dispatcher.join()
    assert conversation.turns[0].lang == lang


async def test_start_command_greets(
    client: httpx.AsyncClient, channel: TelegramChannel, conversation: ScriptedConversation
) -> None:
    await post(client, message_update(12, 42, "/start"))
    await channel.dispatcher.join()
    assert conversation.turns[0].text == "hello"


@pytest.mark.parametrize("text", ["/stop", "/stop@faro_bot", "/STOP please"])
async def test_stop_command_stops_incident_updates(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    text: str,
) -> None:
    await post(client, message_update(13, 42, text))
    await channel.dispatcher.join()
    assert conversation.turns[0].payload == "/unsubscribe"


async def test_other_commands_are_not_payloads(
    client: httpx.AsyncClient, channel: TelegramChannel, conversation: ScriptedConversation
) -> None:
    await post(client, message_update(14, 42, "/restart"))
    await channel.dispatcher.join()
    assert conversation.turns[0].payload is None


async def test_duplicate_update_is_handled_once_even_after_a_restart(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
    settings: TelegramTestSettings,
) -> None:
    update = message_update(20, 42, "is the app down?")
    assert (await post(client, update)).json() == {"status": "queued"}
    assert (await post(client, update)).json() == {"status": "duplicate"}
    await channel.dispatcher.join()
    assert (await post(client, update)).json() == {"status": "duplicate"}
    # a new process (fresh memory, same database) does not answer it again
    restarted = TelegramChannel(
        bot=build_bot(settings.telegram),
        conversation=conversation,
        store=TelegramStore(Database.open(settings.database_url).engine),
    )
    app = Starlette(
        routes=[webhook_route(channel=restarted, secret=SECRET)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://faro.test"
    ) as other:
        assert (await post(other, update)).json() == {"status": "duplicate"}
    await restarted.stop()
    assert len(conversation.turns) == 1 and len(api.sent(42)) == 1


async def test_long_reply_is_split_on_sentence_boundaries(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    text = " ".join(f"Update number {i} about the card outage is here." for i in range(250))
    assert len(text) > 2 * MAX_TEXT
    conversation.answer = lambda turn: [BotMessage(text)]
    await post(client, message_update(30, 42, "tell me everything"))
    await channel.dispatcher.join()
    parts = [m["text"] for m in api.sent(42)]
    assert len(parts) == 3
    assert all(utf16_len(p) <= MAX_TEXT and p.endswith("is here.") for p in parts)
    assert " ".join(parts) == text
    times = [c.at for c in api.calls_of("sendMessage")]
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False))  # 1/s per chat


async def test_markup_in_replies_is_escaped_and_shown_as_typed(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    text = "<script>alert(1)</script> AT&T <b>not bold</b> &amp;"
    conversation.answer = lambda turn: [BotMessage(text)]
    await post(client, message_update(31, 42, "x"))
    await channel.dispatcher.join()
    [sent] = api.sent(42)
    assert api.messages[(42, 1)]["text"] == text  # what Telegram shows
    assert "<script>" not in sent["text"]


async def test_button_round_trip(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    def answer(turn: Turn) -> list[BotMessage]:
        if turn.payload:
            return [BotMessage(f"chosen {turn.payload}")]
        choices = (Button("Card payments", LONG_PAYLOAD), Button("A person", "/request_human"))
        return [BotMessage("Is it one of these?", buttons=choices)]

    conversation.answer = answer
    await post(client, message_update(40, 42, "card thing", lang="es"))
    await channel.dispatcher.join()
    [offer] = [m for m in api.messages.values() if m["chat"]["id"] == 42]
    (label, data), (_, human) = buttons(offer)
    assert label == "Card payments" and human == "/request_human"
    assert callbacks.is_key(data) and len(data.encode()) <= 64

    await post(client, callback_update(41, offer, data, lang="es"))
    await channel.dispatcher.join()
    turn = conversation.turns[-1]
    assert turn == Turn(
        conversation_id="telegram:42",
        channel="telegram",
        text="Card payments",
        lang="es",
        payload=LONG_PAYLOAD,
    )
    [answered] = api.calls_of("answerCallbackQuery", ok=True)
    assert answered.params["callback_query_id"] == "cq41"
    assert api.sent(42)[-1]["text"] == f"chosen {LONG_PAYLOAD}"
    assert "reply_markup" not in api.messages[(42, offer["message_id"])]  # keyboard cleared


async def test_a_callback_with_unknown_data_is_answered_and_falls_back_to_the_label(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    offer = {
        "message_id": 99,
        "date": 0,
        "chat": {"id": 42, "type": "private"},
        "text": "old",
        "reply_markup": {"inline_keyboard": [[{"text": "Old choice", "callback_data": "#gone"}]]},
    }
    await post(client, callback_update(50, offer, "#gone"))
    await post(client, callback_update(51, {**offer, "reply_markup": None}, "#gone"))
    await channel.dispatcher.join()
    assert [(t.text, t.payload) for t in conversation.turns] == [("Old choice", None)]
    assert len(api.calls_of("answerCallbackQuery", ok=True)) == 2  # both spinners stopped


async def test_a_user_who_blocked_the_bot_does_not_stop_other_chats(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    api: FakeBotApi,
) -> None:
    api.block(13)
    await post(client, message_update(60, 13, "hi"))
    await post(client, message_update(61, 14, "hi"))
    await channel.dispatcher.join()
    assert [m["chat_id"] for m in api.sent()] == ["14"]
    assert len(api.calls_of("sendMessage", ok=False)) == 1  # a 403 is not retried


async def test_full_backlog_answers_503_and_the_update_can_come_again(
    api: FakeBotApi, settings: TelegramTestSettings, conversation: ScriptedConversation
) -> None:
    gate = asyncio.Event()

    class SlowCore:
        async def handle(self, turn: Turn) -> list[BotMessage]:
            await gate.wait()
            return await conversation.handle(turn)

    channel = TelegramChannel(
        bot=build_bot(settings.telegram),
        conversation=SlowCore(),
        store=TelegramStore(Database.open(settings.database_url).engine),
        max_pending=1,
    )
    app = Starlette(
        routes=[webhook_route(channel=channel, secret=SECRET)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://faro.test"
    ) as c:
        assert (await post(c, message_update(70, 1, "a"))).status_code == 200
        assert (await post(c, message_update(71, 2, "b"))).status_code == 503
        gate.set()
        await channel.dispatcher.join()
        assert (await post(c, message_update(71, 2, "b"))).status_code == 200
        await channel.dispatcher.join()
    await channel.stop()
    assert [t.text for t in conversation.turns] == ["a", "b"]


async def test_the_token_never_reaches_the_logs(
    caplog: pytest.LogCaptureFixture,
    api: FakeBotApi,
    settings: TelegramTestSettings,
    conversation: ScriptedConversation,
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = TelegramChannel(
        bot=build_bot(settings.telegram),
        conversation=conversation,
        store=TelegramStore(Database.open(settings.database_url).engine),
    )
    await channel.start()  # getMe
    app = Starlette(
        routes=[webhook_route(channel=channel, secret=SECRET)],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    api.fail_next("sendMessage", 1, Failure(status=429, retry_after=1))
    api.fail_next("sendMessage", 1, Failure(status=502, retry_after=None))
    api.block(13)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://faro.test"
    ) as c:
        await post(c, message_update(80, 42, "hi"))
        await post(c, message_update(81, 13, "hi"))
        await post(c, message_update(82, 42, "hi"), secret="wrong")
        await channel.dispatcher.join()
    await channel.stop()
    assert len(api.sent(42)) == 1
    assert "rate limited" in caplog.text  # the run did log, at DEBUG and up
    secret_part = TOKEN.split(":")[1]
    assert secret_part not in caplog.text and SECRET not in caplog.text


async def test_an_unusable_database_answers_503_so_telegram_retries(
    client: httpx.AsyncClient,
    channel: TelegramChannel,
    conversation: ScriptedConversation,
    settings: TelegramTestSettings,
) -> None:
    channel.store._engine.dispose()  # drop the pooled connections to the old file
    Path(settings.database_url.removeprefix("sqlite:///")).write_bytes(b"not sqlite " * 500)
    response = await post(client, message_update(90, 42, "hi"))
    assert response.status_code == 503
    await channel.dispatcher.join()
    assert conversation.turns == []
