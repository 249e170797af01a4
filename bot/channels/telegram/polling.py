"""Long polling (``getUpdates``): the zero-setup mode for development, no public URL needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

from bot.channels.telegram.channel import Intake, TelegramChannel
from bot.channels.telegram.errors import TelegramChannelError, redact

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


class PollingError(TelegramChannelError):
    """Long polling cannot go on (webhook set, token refused)."""


class LongPoller:
    """Fetches updates with ``getUpdates`` and hands them to the channel, in order."""

    def __init__(
        self,
        channel: TelegramChannel,
        *,
        timeout_s: int = 30,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._channel = channel
        self._timeout_s = timeout_s
        self._max_backoff_s = max_backoff_s
        self._offset: int | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current request."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll until :meth:`stop`; raises :class:`PollingError` when polling cannot work."""
        bot = self._channel.bot
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                updates = await bot.get_updates(
                    offset=self._offset,
                    timeout=self._timeout_s,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except Conflict:
                raise PollingError(
                    "a webhook is set for this bot: run 'faro telegram delete-webhook' first"
                ) from None
            except InvalidToken:
                raise PollingError("Telegram refused FARO_TELEGRAM_TOKEN") from None
            except (NetworkError, TelegramError) as exc:
                logger.warning("getUpdates failed: %s", redact(str(exc), bot.token))
                await self._pause(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            backoff = 1.0
            for update in updates:
                while await self._take(update) is not True:
                    if self._stopping.is_set():
                        return
                    await self._pause(0.5)
                self._offset = update.update_id + 1

    async def _take(self, update: Update) -> bool:
        """Hand ``update`` to the channel; False when it must be offered again later."""
        try:
            return await self._channel.accept(update) is not Intake.FULL
        except TelegramChannelError as exc:  # the database is unavailable
            logger.warning("update %s not taken: %s", update.update_id, exc)
            return False

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
