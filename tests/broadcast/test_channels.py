"""Broadcast delivery through the real channel senders, against the loopback Telegram and Slack
APIs: each subscriber once, within the platforms' limits, blocked users retired."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest

from bot.broadcast.delivery import (
    DeliveryWorker,
    PermanentFailure,
    RecipientGone,
    TemporaryFailure,
)
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.channels.slack.push import SlackDeliverer
from bot.channels.slack.sender import SlackSender, make_client
from bot.channels.telegram.limits import RateLimiter
from bot.channels.telegram.push import TelegramDeliverer
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.wiring import build_bot
from bot.db import Database
from bot.settings import TelegramSettings
from tests.broadcast.test_delivery import until_done
from tests.helpers.broadcast_builders import enqueue_to_all
from tests.helpers.slack_fake import BOT_TOKEN, Script, running_slack_api
from tests.helpers.telegram_fake import TOKEN, ApiCall, Failure, FakeBotApi

TEXT = "Update {key}: card payments <are> back & working."


def max_per_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def min_gap_per_chat(calls: list[ApiCall]) -> float:
    gaps = [1e9]
    key = lambda c: int(c.params["chat_id"])  # noqa: E731
    for _, chat_calls in itertools.groupby(sorted(calls, key=key), key=key):
        times = sorted(c.at for c in chat_calls)
        gaps += [b - a for a, b in itertools.pairwise(times)]
    return min(gaps)


@pytest.fixture
def stores(tmp_path: Path) -> tuple[SubscriptionStore, Outbox]:
    engine = Database.open(f"sqlite:///{tmp_path / 'faro.db'}").engine
    return SubscriptionStore(engine), Outbox(engine)


async def test_telegram_broadcast_is_once_each_within_limits(
    tmp_path: Path, stores: tuple[SubscriptionStore, Outbox]
) -> None:
    subscriptions, outbox = stores
    chats = list(range(5001, 5071))
    subscriptions.add_many(
        (Recipient(f"telegram:{c}", "telegram", str(c), "en"), ()) for c in chats
    )
    async with FakeBotApi() as api:
        api.block(5003)
        api.block(5004)
        api.fail_next("sendMessage", 1, Failure(status=429, retry_after=2))
        bot = build_bot(TelegramSettings(token=TOKEN, api_url=api.url))
        await bot.initialize()
        sender = TelegramSender(bot, limiter=RateLimiter(), backoff_s=0.05)
        worker = DeliveryWorker(outbox, subscriptions, [TelegramDeliverer(sender)], poll_s=0.05)
        await worker.start()
        try:
            enqueue_to_all(outbox, subscriptions, "u1", text=TEXT)
            worker.wake()
            enqueue_to_all(outbox, subscriptions, "u2", text=TEXT)
            await until_done(outbox, timeout_s=60)
        finally:
            await worker.stop()
            await bot.shutdown()
        delivered = Counter(int(m["chat_id"]) for m in api.sent())
        assert delivered == {c: 2 for c in chats if c not in (5003, 5004)}
        assert api.shown(5001)[0] == "Update u1: card payments <are> back & working."
        ok = api.calls_of("sendMessage", ok=True)
        assert max_per_window([c.at for c in ok]) <= 30
        assert min_gap_per_chat(ok) >= 0.95
        [limited] = [c for c in api.calls_of("sendMessage", ok=False) if c.status == 429]
        # retry_after honoured: nothing sent during the pause, except requests already in
        # flight when the 429 arrived (they reach the API within milliseconds)
        assert not [c for c in ok if limited.at + 0.1 < c.at < limited.at + 1.95]
    for chat in (5003, 5004):
        sub = subscriptions.get(f"telegram:{chat}")
        assert sub is not None and not sub.active and "403" in str(sub.retired_reason)
    states = Counter(r.state for r in outbox.audit(limit=1000))
    assert states == {"sent": 136, "retired": 4}  # both broadcasts were queued before the 403s


async def test_slack_broadcast_is_once_each_and_gone_users_retire(
    stores: tuple[SubscriptionStore, Outbox],
) -> None:
    subscriptions, outbox = stores
    users = [f"U{i:04d}" for i in range(20)]
    subscriptions.add_many((Recipient(f"slack:T1:{u}", "slack", u, "es"), ()) for u in users)
    with running_slack_api() as api:
        api.fail("chat.postMessage", Script(status=429, retry_after=1))
        sender = SlackSender(make_client(token=BOT_TOKEN, base_url=api.url))
        worker = DeliveryWorker(outbox, subscriptions, [SlackDeliverer(sender)], poll_s=0.05)
        await worker.start()
        try:
            enqueue_to_all(outbox, subscriptions, "u1", text=TEXT)
            await until_done(outbox, timeout_s=60)
            api.fail("chat.postMessage", Script(status=200, error="account_inactive"))
            enqueue_to_all(outbox, subscriptions, "u2", text=TEXT)
            await until_done(outbox, timeout_s=60)
        finally:
            await worker.stop()
        posted = [c for c in api.of("chat.postMessage") if c.status == 200]
        ok = [c for c in posted if c.body.get("channel") and "blocks" in c.body]
        counts = Counter(c.body["channel"] for c in ok)
    subs = {u: subscriptions.get(f"slack:T1:{u}") for u in users}
    retired = [u for u, sub in subs.items() if sub is not None and not sub.active]
    assert len(retired) == 1
    # u1 reached everyone once (after a 429); u2 everyone but the inactive account.
    assert sum(counts.values()) == 2 * 20  # 39 delivered + 1 refused call logged with 200
    text = ok[0].body["blocks"][0]["text"]["text"]
    assert "&lt;are&gt;" in text and "&amp;" in text  # escaped for mrkdwn
    states = Counter(r.state for r in outbox.audit(limit=1000))
    assert states == {"sent": 39, "retired": 1}


async def test_telegram_failures_map_to_retry_retire_or_fail(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        bot = build_bot(TelegramSettings(token=TOKEN, api_url=api.url))
        await bot.initialize()
        sender = TelegramSender(bot, limiter=RateLimiter(), max_attempts=2, backoff_s=0.01)
        deliverer = TelegramDeliverer(sender)
        try:
            api.fail_next("sendMessage", 2, Failure(status=429, retry_after=1))
            with pytest.raises(TemporaryFailure, match="gave up after 2 attempts"):
                await deliverer.deliver("6001", "hello", "en")
            api.block(6002)
            with pytest.raises(RecipientGone):
                await deliverer.deliver("6002", "hello", "en")
            api.fail_next(
                "sendMessage",
                1,
                Failure(status=400, retry_after=None, description="Bad Request: x"),
            )
            with pytest.raises(PermanentFailure):
                await deliverer.deliver("6003", "hello", "en")
        finally:
            await bot.shutdown()


async def test_slack_failures_map_to_retry_retire_or_fail() -> None:
    with running_slack_api() as api:
        deliverer = SlackDeliverer(
            SlackSender(make_client(token=BOT_TOKEN, base_url=api.url, server_error_retries=0))
        )
        api.fail("chat.postMessage", Script(status=503, retry_after=None))
        with pytest.raises(TemporaryFailure):
            await deliverer.deliver("U1", "hello", "en")
        api.fail("chat.postMessage", Script(status=200, error="user_not_found"))
        with pytest.raises(RecipientGone):
            await deliverer.deliver("U2", "hello", "en")
        api.fail("chat.postMessage", Script(status=200, error="invalid_blocks"))
        with pytest.raises(PermanentFailure):
            await deliverer.deliver("U3", "hello", "en")
