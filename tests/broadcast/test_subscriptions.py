"""Subscriptions: who gets updates, askers, one-time offers."""

from __future__ import annotations

import pytest

from bot.broadcast.subscriptions import (
    Recipient,
    SubscribeOutcome,
    SubscriptionStore,
    recipient_for,
)


@pytest.mark.parametrize(
    ("conversation_id", "channel", "address"),
    [
        ("telegram:12345", "telegram", "12345"),
        ("telegram:-100987", "telegram", "-100987"),
        ("slack:T1:U0CUSTOMER", "slack", "U0CUSTOMER"),
        ("web:abc123", "web", "web:abc123"),
    ],
)
def test_recipient_for_knows_each_channel(conversation_id: str, channel: str, address: str) -> None:
    recipient = recipient_for(conversation_id, "es")
    assert recipient == Recipient(conversation_id, channel, address, "es")


@pytest.mark.parametrize("conversation_id", ["telegram:abc", "bench:1", "nochannel", "slack:"])
def test_recipient_for_refuses_what_cannot_be_pushed_to(conversation_id: str) -> None:
    assert recipient_for(conversation_id, "en") is None


def test_subscribe_then_again_then_change(subscriptions: SubscriptionStore) -> None:
    who = Recipient("telegram:1", "telegram", "1", "en")
    assert subscriptions.subscribe(who) is SubscribeOutcome.CREATED
    assert subscriptions.subscribe(who) is SubscribeOutcome.UNCHANGED
    assert subscriptions.subscribe(who, ["Card payments"]) is SubscribeOutcome.UPDATED
    sub = subscriptions.get("telegram:1")
    assert sub is not None and sub.active and sub.components == ("card payments",)
    assert sub.wants(["Card Payments", "Transfers"]) and not sub.wants(["Transfers"])
    assert sub.wants([])  # an event naming no component concerns everyone


def test_unsubscribe_and_come_back(subscriptions: SubscriptionStore) -> None:
    who = Recipient("web:s1", "web", "web:s1", "es")
    assert not subscriptions.unsubscribe("web:s1")
    subscriptions.subscribe(who)
    assert subscriptions.unsubscribe("web:s1")
    assert not subscriptions.unsubscribe("web:s1")
    assert subscriptions.active() == []
    assert subscriptions.subscribe(who) is SubscribeOutcome.UPDATED
    assert [s.conversation_id for s in subscriptions.active()] == ["web:s1"]


def test_retire_records_the_reason(subscriptions: SubscriptionStore) -> None:
    subscriptions.subscribe(Recipient("telegram:7", "telegram", "7", "en"))
    sub = subscriptions.get("telegram:7")
    assert sub is not None
    assert subscriptions.retire(sub.id, "recipient gone: Telegram 403: blocked")
    retired = subscriptions.get("telegram:7")
    assert retired is not None and not retired.active
    assert retired.retired_reason == "recipient gone: Telegram 403: blocked"
    assert subscriptions.counts() == {"retired": 1}


def test_askers_are_kept_per_incident_once(subscriptions: SubscriptionStore) -> None:
    a = Recipient("telegram:1", "telegram", "1", "en")
    b = Recipient("web:x", "web", "web:x", "es")
    subscriptions.note_asker("inc1", a)
    subscriptions.note_asker("inc1", a)
    subscriptions.note_asker("inc1", b)
    subscriptions.note_asker("inc2", b)
    assert [r.conversation_id for r in subscriptions.askers("inc1")] == ["telegram:1", "web:x"]
    assert subscriptions.askers("nope") == []


def test_offer_once_per_conversation(subscriptions: SubscriptionStore) -> None:
    assert subscriptions.offer_once("web:x")
    assert not subscriptions.offer_once("web:x")
    assert subscriptions.offer_once("web:y")


def test_add_many_and_counts(subscriptions: SubscriptionStore) -> None:
    items: list[tuple[Recipient, tuple[str, ...]]] = [
        (Recipient(f"telegram:{i}", "telegram", str(i), "en"), ()) for i in range(5)
    ]
    items += [(Recipient(f"slack:T:U{i}", "slack", f"U{i}", "es"), ("Cards",)) for i in range(3)]
    assert subscriptions.add_many(items) == 8
    assert subscriptions.counts() == {"telegram": 5, "slack": 3}
