"""bot.channels.telegram.sender against the fake Bot API: limits, 429s, retries, 403."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.channels.telegram.errors import RecipientBlocked, SendFailed
from bot.channels.telegram.limits import RateLimiter
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.wiring import build_bot
from tests.channels.telegram.conftest import TelegramTestSettings
from tests.helpers.telegram_fake import ApiCall, Failure, FakeBotApi


def sender_for(settings: TelegramTestSettings, **kwargs: object) -> TelegramSender:
    return TelegramSender(build_bot(settings.telegram), backoff_s=0.05, **kwargs)  # type: ignore[arg-type]


def max_per_window(calls: list[ApiCall], window: float = 1.0) -> int:
    times = sorted(c.at for c in calls)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def min_gap_per_chat(calls: list[ApiCall]) -> float:
    gaps = []
    by_chat = itertools.groupby(sorted(calls, key=lambda c: int(c.params["chat_id"])),
                                key=lambda c: int(c.params["chat_id"]))  # fmt: skip
    for _, chat_calls in by_chat:
        times = sorted(c.at for c in chat_calls)
        gaps += [b - a for a, b in itertools.pairwise(times)]
    return min(gaps)


async def test_a_burst_with_429s_is_delivered_within_telegrams_limits(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    sender = sender_for(settings)
    chats = list(range(1001, 1041))  # 40 chats x 2 messages: more than 30/s if unlimited
    api.fail_next("sendMessage", 4, Failure(status=429, retry_after=1))

    async def send_two(chat: int) -> None:
        for i in range(2):
            await sender.send_message(chat, f"update {i} for {chat}")

    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(send_two(c) for c in chats))
    elapsed = asyncio.get_running_loop().time() - started

    calls = api.calls_of("sendMessage")
    assert len(api.calls_of("sendMessage", ok=False)) == 4  # every 429 was retried...
    assert len(api.sent()) == 80  # ...and every message arrived exactly once
    for chat in chats:  # in order per chat
        assert [m["text"] for m in api.sent(chat)] == [f"update {i} for {chat}" for i in range(2)]
    assert max_per_window(calls) <= 30
    assert min_gap_per_chat(calls) >= 0.95
    first_429 = min(c.at for c in calls if c.status == 429)
    assert all(not first_429 < c.at < first_429 + 0.95 for c in calls)  # retry_after honoured
    assert elapsed < 10


async def test_a_blocked_user_is_reported_distinctly_and_not_retried(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    api.block(55)
    sender = sender_for(settings)
    with pytest.raises(RecipientBlocked) as raised:
        await sender.send_message(55, "incident update")
    assert raised.value.chat_id == 55 and "blocked" in raised.value.reason
    assert len(api.calls_of("sendMessage")) == 1


async def test_transient_server_errors_are_retried_with_backoff(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    api.fail_next("sendMessage", 2, Failure(status=502, retry_after=None))
    limiter = RateLimiter(chat_interval_s=0)  # so that only the backoff spaces the attempts
    sender = TelegramSender(build_bot(settings.telegram), limiter=limiter, backoff_s=0.2)
    await sender.send_message(7, "hello")
    calls = api.calls_of("sendMessage")
    assert [c.status for c in calls] == [502, 502, 200]
    first, second = calls[1].at - calls[0].at, calls[2].at - calls[1].at
    assert first >= 0.2 and second >= 0.4  # backoff doubles


async def test_retries_run_out_with_a_clear_error(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    api.fail_next("sendMessage", 10, Failure(status=500, retry_after=None))
    sender = sender_for(settings, max_attempts=3, limiter=RateLimiter(chat_interval_s=0))
    with pytest.raises(SendFailed, match="gave up after 3 attempts"):
        await sender.send_message(7, "hello")
    assert len(api.calls_of("sendMessage")) == 3


async def test_a_refused_message_is_not_retried(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    with pytest.raises(SendFailed, match="(?i)can't parse entities"):
        await sender_for(settings).send_message(7, "<script>unescaped</script>")
    assert len(api.calls_of("sendMessage")) == 1


async def test_a_wrong_token_fails_without_showing_the_token(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    from dataclasses import replace

    wrong = replace(settings, telegram=replace(settings.telegram, token="999:WrongTokenValue"))
    with pytest.raises(SendFailed) as raised:
        await sender_for(wrong).send_message(7, "hello")
    assert "WrongTokenValue" not in str(raised.value)


async def test_send_text_escapes_and_splits_plain_text_for_broadcasts(
    api: FakeBotApi, settings: TelegramTestSettings
) -> None:
    text = "Payments <cards> & transfers are back. " * 150
    await sender_for(settings).send_text(77, text)
    shown = api.shown(77)
    assert len(shown) == 2 and " ".join(shown) == text.strip()
