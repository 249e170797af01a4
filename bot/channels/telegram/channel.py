"""The Telegram channel of one process: takes updates in, de-duplicates, queues, processes."""

from __future__ import annotations

import asyncio
import functools
import logging
from enum import Enum
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError

from bot.channels.telegram.errors import TelegramChannelError, redact
from bot.channels.telegram.handler import UpdateHandler
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.store import TelegramStore
from bot.channels.turns import TurnDispatcher
from bot.core.messages import Conversation

logger = logging.getLogger(__name__)


class BadUpdate(TelegramChannelError):
    """The body is not a Telegram update."""


class Intake(Enum):
    """What became of an update handed to :meth:`TelegramChannel.accept`."""

    QUEUED = "queued"
    DUPLICATE = "duplicate"
    FULL = "full"  # the backlog is full: not taken, deliver it again later


class TelegramChannel:
    """Accepts updates (webhook or long polling) and processes them in the background."""

    def __init__(
        self,
        *,
        bot: Bot,
        conversation: Conversation,
        store: TelegramStore,
        sender: TelegramSender | None = None,
        max_pending: int = 1000,
        concurrency: int = 32,
    ) -> None:
        self.bot = bot
        self.store = store
        self.sender = sender or TelegramSender(bot)
        self.handler = UpdateHandler(conversation=conversation, sender=self.sender, store=store)
        self.dispatcher = TurnDispatcher(
            name="Telegram", max_pending=max_pending, concurrency=concurrency, stop_grace_s=10.0
        )

    def parse(self, data: Any) -> Update:
        """An Update from decoded JSON; raises :class:`BadUpdate`."""
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadUpdate("not an update: no integer update_id")
        try:
            return Update.de_json(data, self.bot)
        except Exception as exc:  # PTB raises whatever the malformed field provokes
            raise BadUpdate(f"not an update: {type(exc).__name__}") from None

    async def accept(self, update: Update) -> Intake:
        """Queue ``update`` once: later copies of the same update_id are dropped."""
        if not await asyncio.to_thread(self.store.claim_update, update.update_id):
            logger.debug("update %s already taken", update.update_id)
            return Intake.DUPLICATE
        chat = update.effective_chat.id if update.effective_chat else 0
        if self.dispatcher.submit(chat, functools.partial(self.handler.handle, update)):
            return Intake.QUEUED
        await asyncio.to_thread(self.store.release_update, update.update_id)
        logger.warning("update backlog full: asked Telegram to send update later")
        return Intake.FULL

    async def start(self) -> None:
        """Check the token with getMe (failures are logged; sending retries later)."""
        try:
            await self.bot.initialize()
        except InvalidToken:
            logger.error("Telegram rejected FARO_TELEGRAM_TOKEN (getMe); replies will fail")
        except TelegramError as exc:
            logger.warning("Telegram getMe failed: %s", redact(str(exc), self.bot.token))
        else:
            logger.info("Telegram channel on as @%s", self.bot.username)

    async def stop(self) -> None:
        """Finish queued updates (briefly), then close connections."""
        await self.dispatcher.stop()
        await self.bot.shutdown()
        self.store.close()
