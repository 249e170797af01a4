"""bot.channels.telegram.polling: getUpdates against the fake delivers updates to the handler."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.polling import LongPoller, PollingError
from tests.channels.telegram.conftest import ScriptedConversation
from tests.helpers.telegram_builders import message_update
from tests.helpers.telegram_fake import Failure, FakeBotApi


async def test_long_polling_delivers_updates_in_order_and_confirms_them(
    api: FakeBotApi, channel: TelegramChannel, conversation: ScriptedConversation
) -> None:
    poller = LongPoller(channel, timeout_s=1)
    task = asyncio.create_task(poller.run())
    api.push_update(message_update(500, 42, "is the app down?"))
    await api.wait_for_async(lambda: len(api.sent(42)) == 1)
    api.push_update(message_update(501, 42, "and my card?"))
    api.push_update(message_update(501, 42, "and my card?"))  # a repeat is answered once
    await api.wait_for_async(lambda: len(api.sent(42)) == 2)
    await api.wait_for_async(lambda: len(api.calls_of("getUpdates", ok=True)) >= 4)
    poller.stop()
    await asyncio.wait_for(task, 5)
    await channel.dispatcher.join()
    assert [t.text for t in conversation.turns] == ["is the app down?", "and my card?"]
    assert [m["text"] for m in api.sent(42)] == ["echo: is the app down?", "echo: and my card?"]
    offsets = [c.params.get("offset") for c in api.calls_of("getUpdates")]
    assert "502" in offsets  # confirmed everything it took


async def test_polling_survives_server_errors(
    api: FakeBotApi, channel: TelegramChannel, conversation: ScriptedConversation
) -> None:
    api.fail_next("getUpdates", 1, Failure(status=502, retry_after=None))
    api.push_update(message_update(600, 7, "hello"))
    poller = LongPoller(channel, timeout_s=1, max_backoff_s=0.1)
    task = asyncio.create_task(poller.run())
    await api.wait_for_async(lambda: len(api.sent(7)) == 1, timeout_s=10)
    poller.stop()
    await asyncio.wait_for(task, 5)
    assert [c.status for c in api.calls_of("getUpdates")][:2] == [502, 200]


async def test_polling_while_a_webhook_is_set_stops_with_a_clear_error(
    api: FakeBotApi, channel: TelegramChannel
) -> None:
    await channel.bot.set_webhook(url="https://faro.example/telegram/webhook")
    with pytest.raises(PollingError, match="delete-webhook"):
        await asyncio.wait_for(LongPoller(channel, timeout_s=1).run(), 5)
