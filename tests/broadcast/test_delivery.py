"""The delivery worker: every row once, failures retried or retired, resumable after a stop."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from bot.broadcast.delivery import (
    DeliveryWorker,
    PermanentFailure,
    RecipientGone,
    TemporaryFailure,
)
from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub, WebDeliverer
from tests.helpers.broadcast_builders import enqueue_to_all


@dataclass
class MemoryDeliverer:
    """Records what it sends; fails some addresses on demand."""

    channel: str = "telegram"
    concurrency: int = 4
    delay_s: float = 0.0
    sent: list[tuple[str, str]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)
    flaky: Counter[str] = field(default_factory=Counter)  # address -> failures left

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        await asyncio.sleep(self.delay_s)
        if address in self.gone:
            raise RecipientGone("Telegram 403: bot was blocked by the user")
        if address in self.refuse:
            raise PermanentFailure("Bad Request: message is too long")
        if self.flaky[address] > 0:
            self.flaky[address] -= 1
            raise TemporaryFailure("timed out")
        self.sent.append((address, text))


def subscribe(subscriptions: SubscriptionStore, n: int, channel: str = "telegram") -> None:
    subscriptions.add_many(
        (Recipient(f"{channel}:{i}", channel, str(i), "en"), ()) for i in range(n)
    )


async def until_done(outbox: Outbox, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not all(p.done for p in outbox.progress()):
        assert loop.time() < deadline, outbox.progress()
        await asyncio.sleep(0.05)


async def test_every_subscriber_gets_each_broadcast_once(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 30)
    subscribe(subscriptions, 5, "web")
    telegram, web = MemoryDeliverer(), MemoryDeliverer(channel="web")
    worker = DeliveryWorker(outbox, subscriptions, [telegram, web], poll_s=0.05)
    await worker.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        worker.wake()
        enqueue_to_all(outbox, subscriptions, "u2")
        await until_done(outbox)
    finally:
        await worker.stop()
    assert Counter(a for a, _ in telegram.sent) == {str(i): 2 for i in range(30)}
    assert len(web.sent) == 10 and len(set(web.sent)) == 10
    assert all(p.counts == {"sent": p.recipients} for p in outbox.progress())


async def test_blocked_subscribers_are_retired_with_a_record(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 3)
    deliverer = MemoryDeliverer(gone={"1"}, refuse={"2"})
    worker = DeliveryWorker(outbox, subscriptions, [deliverer], poll_s=0.05)
    await worker.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        await until_done(outbox)
    finally:
        await worker.stop()
    states = {r.conversation_id: (r.state, r.error) for r in outbox.audit()}
    assert states["telegram:0"] == ("sent", None)
    assert states["telegram:1"][0] == "retired" and "403" in str(states["telegram:1"][1])
    assert states["telegram:2"] == ("failed", "Bad Request: message is too long")
    gone = subscriptions.get("telegram:1")
    assert gone is not None and not gone.active and "403" in str(gone.retired_reason)
    refused = subscriptions.get("telegram:2")
    assert refused is not None and refused.active  # one bad message does not retire anyone


async def test_temporary_failures_are_retried_later(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 2)
    deliverer = MemoryDeliverer(flaky=Counter({"0": 2}))
    worker = DeliveryWorker(outbox, subscriptions, [deliverer], poll_s=0.05, backoff_s=0.05)
    await worker.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        await until_done(outbox)
    finally:
        await worker.stop()
    assert sorted(a for a, _ in deliverer.sent) == ["0", "1"]
    [row] = outbox.audit(conversation_id="telegram:0")
    assert row.state == "sent" and row.attempts == 3


async def test_a_stopped_worker_hands_over_without_loss_or_duplicates(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 40)
    slow = MemoryDeliverer(delay_s=0.02, concurrency=2)
    first = DeliveryWorker(outbox, subscriptions, [slow], poll_s=0.05, stop_grace_s=5)
    await first.start()
    enqueue_to_all(outbox, subscriptions, "u1")
    while len(slow.sent) < 10:
        await asyncio.sleep(0.01)
    await first.stop()
    handed_over = len(slow.sent)
    assert handed_over < 40
    second = DeliveryWorker(outbox, subscriptions, [slow], poll_s=0.05)
    await second.start()
    try:
        await until_done(outbox)
    finally:
        await second.stop()
    assert Counter(a for a, _ in slow.sent) == {str(i): 1 for i in range(40)}


async def test_rows_of_channels_without_a_deliverer_wait(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 2, "slack")
    worker = DeliveryWorker(outbox, subscriptions, [MemoryDeliverer()], poll_s=0.05)
    await worker.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        await asyncio.sleep(0.3)
    finally:
        await worker.stop()
    assert {r.state for r in outbox.audit()} == {"pending"}


async def test_with_two_replicas_one_sends_a_channel_and_the_other_takes_over(
    outbox: Outbox, subscriptions: SubscriptionStore
) -> None:
    subscribe(subscriptions, 30)
    a, b = MemoryDeliverer(delay_s=0.02), MemoryDeliverer(delay_s=0.02)
    first = DeliveryWorker(outbox, subscriptions, [a], poll_s=0.05)
    second = DeliveryWorker(outbox, subscriptions, [b], poll_s=0.05)
    await first.start()
    await second.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        while len(a.sent) + len(b.sent) < 10:
            await asyncio.sleep(0.01)
        assert not (a.sent and b.sent)  # one sender per channel: its rate limiter holds
        leader, follower = (first, b) if a.sent else (second, a)
        await leader.stop()
        await until_done(outbox)
    finally:
        await first.stop()
        await second.stop()
    assert follower.sent  # took over when the first stopped
    assert Counter(x for x, _ in a.sent + b.sent) == {str(i): 1 for i in range(30)}


class BlinkingOutbox(Outbox):
    """The real outbox, whose database is unreachable for the first ``blinks`` outcomes."""

    blinks = 2

    def sent(self, item_id: int) -> None:
        if self.blinks > 0:
            self.blinks -= 1
            raise sa.exc.OperationalError("UPDATE outbox", {}, ConnectionError("server closed"))
        super().sent(item_id)


async def test_an_outcome_the_database_missed_is_recorded_when_it_is_back(
    engine: sa.Engine, subscriptions: SubscriptionStore
) -> None:
    """Before, the row stayed 'sending' until a restart requeued it (and sent it again)."""
    outbox = BlinkingOutbox(engine)
    subscribe(subscriptions, 3)
    deliverer = MemoryDeliverer()
    worker = DeliveryWorker(outbox, subscriptions, [deliverer], poll_s=0.05)
    await worker.start()
    try:
        enqueue_to_all(outbox, subscriptions, "u1")
        await until_done(outbox)
    finally:
        await worker.stop()
    assert outbox.blinks == 0
    assert sorted(a for a, _ in deliverer.sent) == ["0", "1", "2"]  # once each
    assert {r.state for r in outbox.audit()} == {"sent"}


async def test_web_delivery_with_its_database_down_is_retried_not_failed() -> None:
    history = WebHistory(sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/faro"))
    deliverer = WebDeliverer(PushHub(history))
    with pytest.raises(TemporaryFailure):
        await deliverer.deliver("web:abc", "Update: transfers work again.", "en")
