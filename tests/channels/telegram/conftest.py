"""Fixtures of the Telegram channel tests: the loopback fake Bot API, settings, a channel."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.limits import RateLimiter
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.store import TelegramStore
from bot.channels.telegram.wiring import build_bot
from bot.core.messages import BotMessage, Turn
from bot.db import Database
from bot.settings import TelegramSettings
from tests.helpers.telegram_fake import TOKEN, FakeBotApi

SECRET = "webhook-secret_for-tests"


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return str(address[0]) == "localhost"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests talk to loopback only (the fake Bot API), never to api.telegram.org."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@dataclass
class ScriptedConversation:
    """A Conversation (the core's interface) that records turns and answers by a rule."""

    answer: Callable[[Turn], list[BotMessage]] = lambda turn: [BotMessage(f"echo: {turn.text}")]
    turns: list[Turn] = field(default_factory=list)

    async def handle(self, turn: Turn) -> list[BotMessage]:
        self.turns.append(turn)
        return self.answer(turn)


@dataclass(frozen=True)
class TelegramTestSettings:
    """The settings the channel reads: Telegram's section and the app database."""

    telegram: TelegramSettings
    database_url: str


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, serving in the test's event loop."""
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
def settings(api: FakeBotApi, tmp_path: Path) -> TelegramTestSettings:
    return TelegramTestSettings(
        telegram=TelegramSettings(token=TOKEN, secret=SECRET, api_url=api.url),
        database_url=f"sqlite:///{tmp_path / 'faro.db'}",
    )


@pytest.fixture
def conversation() -> ScriptedConversation:
    return ScriptedConversation()


@pytest.fixture
async def channel(
    settings: TelegramTestSettings, conversation: ScriptedConversation
) -> AsyncIterator[TelegramChannel]:
    """A started channel against the fake (fast network backoff for tests)."""
    bot = build_bot(settings.telegram, poll_timeout_s=1)
    sender = TelegramSender(bot, limiter=RateLimiter(), backoff_s=0.05)
    made = TelegramChannel(
        bot=bot,
        conversation=conversation,
        store=TelegramStore(Database.open(settings.database_url).engine),
        sender=sender,
    )
    await made.start()
    yield made
    await made.stop()
