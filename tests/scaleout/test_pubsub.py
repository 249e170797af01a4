"""The change bus between app replicas, on the real Redis at 127.0.0.1:6379 (and a private
one that is restarted)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.pubsub import RESYNC, ChangeBus
from bot.settings import Settings, SettingsError
from tests.scaleout.servers import PrivateRedis

pytestmark = pytest.mark.redis

REDIS = "redis://127.0.0.1:6379/0"


async def _until(check: object, timeout_s: float = 10) -> None:
    async def wait() -> None:
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), timeout_s)


async def test_a_replica_hears_the_others_changes_and_not_its_own() -> None:
    channel = f"faro:test:{uuid.uuid4().hex}"
    a, b = ChangeBus(REDIS, channel=channel), ChangeBus(REDIS, channel=channel)
    heard_a: list[str] = []
    heard_b: list[tuple[str, str]] = []
    a.on("faq", heard_a.append)
    b.on("faq", lambda p: heard_b.append(("faq", p)))
    b.on("push", lambda p: heard_b.append(("push", p)))
    await a.start()
    await b.start()
    try:
        await asyncio.wait_for(a.connected.wait(), 10)
        await asyncio.wait_for(b.connected.wait(), 10)
        a.publish("faq", "7")
        await asyncio.to_thread(a.publish, "push", "web:abc")  # from a worker thread too
        a.publish("unknown-topic", "x")  # nobody listens: ignored
        await _until(lambda: len(heard_b) == 2 and b.received == 3)
        assert heard_b == [("faq", "7"), ("push", "web:abc")]
        assert heard_a == []  # its own messages
        assert b.received == 3 and a.received == 0
    finally:
        await a.stop()
        await b.stop()


async def test_after_redis_restarts_the_bus_reconnects_and_rereads_once() -> None:
    server = PrivateRedis()
    server.start()
    a = ChangeBus(server.url, channel="faro:changes", reconnect_s=0.1)
    b = ChangeBus(server.url, channel="faro:changes", reconnect_s=0.1)
    heard: list[str] = []
    b.on("faq", heard.append)
    await a.start()
    await b.start()
    try:
        await asyncio.wait_for(b.connected.wait(), 10)
        await asyncio.to_thread(server.stop)
        a.publish("faq", "1")  # Redis down: dropped, never raised, never blocking
        await _until(lambda: not b.connected.is_set())
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(b.connected.wait(), 15)
        await _until(lambda: RESYNC in heard)  # "something may have changed meanwhile"
        await asyncio.wait_for(a.connected.wait(), 15)
        a.publish("faq", "2")
        await _until(lambda: "2" in heard)
        assert heard == [RESYNC, "2"]
    finally:
        await a.stop()
        await b.stop()
        server.stop()


def test_settings_read_the_redis_url_and_the_rasa_urls() -> None:
    env = {
        "FARO_ACTION_TOKEN": "t" * 20,
        "FARO_SESSION_SECRET": "s" * 40,
        "FARO_REDIS_URL": REDIS,
        "FARO_RASA_URLS": "http://10.0.0.1:5005,http://10.0.0.2:5005",
        "FARO_RASA_URL": "http://ignored:5005",
    }
    settings = Settings.from_env(env)
    assert settings.scale_out.redis_url == REDIS
    assert settings.rasa.urls == ("http://10.0.0.1:5005", "http://10.0.0.2:5005")
    old = Settings.from_env({**env, "FARO_RASA_URLS": "", "FARO_REDIS_URL": ""})
    assert old.rasa.urls == ("http://ignored:5005",) and old.scale_out.redis_url is None
    with pytest.raises(SettingsError, match="FARO_REDIS_URL"):
        Settings.from_env({**env, "FARO_REDIS_URL": "127.0.0.1:6379"})
