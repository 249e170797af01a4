"""The outgoing webhook: every handoff event once and in order, signed; a refusal is retried;
one replica sends; a restart continues where it stopped."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Iterator

import httpx
import pytest

from bot.handoff.service import HandoffService
from bot.handoff.store import HandoffStore
from bot.handoff.webhook import HandoffWebhook, WebhookRefused
from bot.settings import Settings, SettingsError

SECRET = "hook-secret"


class Receiver:
    """Records deliveries; ``fail`` answers 500 that many times first."""

    def __init__(self) -> None:
        self.got: list[httpx.Request] = []
        self.fail = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.fail:
            self.fail -= 1
            return httpx.Response(500)
        self.got.append(request)
        return httpx.Response(204)

    @property
    def events(self) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.got]


def role_of(event: dict[str, object]) -> object:
    message = event.get("message")
    return message.get("role") if isinstance(message, dict) else None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield Receiver()


def hook(store: HandoffStore, receiver: Receiver) -> HandoffWebhook:
    return HandoffWebhook(
        store, url="http://hooks.example/faro", secret=SECRET,
        transport=httpx.MockTransport(receiver),
    )  # fmt: skip


async def test_events_arrive_in_order_signed(service: HandoffService, receiver: Receiver) -> None:
    sender = hook(service.store, receiver)
    await sender.send_pending()  # turned on: from now on
    try:
        service.request("web:a", "web", "en")
        handoff = service.current("web:a")
        assert handoff is not None
        await service.claim(handoff.id, "ana")
        await service.reply(handoff.id, "ana", "Hello <there>")
        await service.release(handoff.id, "ana")
        await sender.send_pending()
    finally:
        await sender.stop()
    kinds = [(e["event"], role_of(e)) for e in receiver.events]
    assert kinds == [
        ("handoff.requested", None),
        ("handoff.message", "bot"),  # the queue message
        ("handoff.claimed", None),
        ("handoff.message", "bot"),  # "you're talking to ana"
        ("handoff.message", "agent"),
        ("handoff.released", None),
        ("handoff.message", "bot"),  # "back with the assistant"
    ]
    ids = [int(str(e["id"])) for e in receiver.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    first = receiver.got[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), first.content, hashlib.sha256).hexdigest()
    assert first.headers["X-Faro-Signature"] == expected
    assert first.headers["X-Faro-Event"] == "handoff.requested"
    assert receiver.events[0]["handoff"] == {
        "id": handoff.id, "conversation_id": "web:a", "channel": "web", "lang": "en",
    }  # fmt: skip
    assert receiver.events[4]["message"]["text"] == "Hello <there>"  # type: ignore[index]


async def test_a_refusal_is_retried_and_nothing_is_skipped(
    service: HandoffService, receiver: Receiver
) -> None:
    sender = hook(service.store, receiver)
    await sender.send_pending()
    try:
        service.request("web:a", "web", "en")
        receiver.fail = 1
        with pytest.raises(WebhookRefused):
            await sender.send_pending()
        assert receiver.got == []
        assert await sender.send_pending() == 2
    finally:
        await sender.stop()
    assert [e["event"] for e in receiver.events] == ["handoff.requested", "handoff.message"]


async def test_one_replica_sends_and_a_restart_continues(
    service: HandoffService, receiver: Receiver
) -> None:
    first, second = hook(service.store, receiver), hook(service.store, receiver)
    await first.send_pending()
    try:
        service.request("web:a", "web", "en")
        assert await first.send_pending() == 2
        service.request("web:b", "web", "en")
        assert await second.send_pending() == 0  # the first one holds the lease
    finally:
        await first.stop()  # gives the lease up
    try:
        assert await second.send_pending() == 2  # continues after what the first sent
    finally:
        await second.stop()
    ids = [e["id"] for e in receiver.events]
    assert len(ids) == 4 and len(set(ids)) == 4


async def test_the_background_loop_delivers(service: HandoffService, receiver: Receiver) -> None:
    sender = HandoffWebhook(
        service.store, url="http://hooks.example/faro", secret=SECRET,
        transport=httpx.MockTransport(receiver), poll_s=0.05,
    )  # fmt: skip
    await sender.send_pending()  # turned on before the request
    await sender.start()
    try:
        service.request("web:a", "web", "en")
        for _ in range(100):
            if len(receiver.got) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await sender.stop()
    assert len(receiver.got) == 2


def test_a_webhook_url_needs_a_secret() -> None:
    env = {"FARO_HANDOFF_WEBHOOK_URL": "https://hooks.example/faro"}
    with pytest.raises(SettingsError, match="FARO_HANDOFF_WEBHOOK_SECRET"):
        Settings.from_env(env, secrets=False)
    env["FARO_HANDOFF_WEBHOOK_SECRET"] = SECRET
    assert Settings.from_env(env, secrets=False).handoff.webhook_url == "https://hooks.example/faro"
    with pytest.raises(SettingsError, match="FARO_HANDOFF_WEBHOOK_URL"):
        Settings.from_env(
            {"FARO_HANDOFF_WEBHOOK_URL": "ftp://x", **env}
            | {"FARO_HANDOFF_WEBHOOK_URL": "ftp://x"},
            secrets=False,
        )
