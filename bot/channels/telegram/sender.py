"""Sending to Telegram within its limits, with retries: replies now, broadcasts later.

Every message goes through a :class:`~bot.channels.telegram.limits.RateLimiter`
slot (1/s per chat, 30/s overall). A 429 pauses all sending for its
``retry_after`` and the message is retried; network errors are retried with
exponential backoff; a 403 raises :class:`RecipientBlocked`, other refusals
:class:`SendFailed`. Telegram's own error texts never contain the token, but
everything logged or raised here is redacted anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram.errors import RecipientBlocked, RetriesExhausted, SendFailed, redact
from bot.channels.telegram.limits import RateLimiter
from bot.channels.telegram.render import render_html, split_text

logger = logging.getLogger(__name__)

T = TypeVar("T")


class TelegramSender:
    """Sends messages to chats through one bot, honouring Telegram's limits."""

    def __init__(
        self,
        bot: Bot,
        *,
        limiter: RateLimiter | None = None,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter()
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep

    async def send_message(
        self, chat_id: int, html: str, *, keyboard: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Send one message (HTML parse mode, already escaped) to ``chat_id``."""
        return await self._call(
            chat_id,
            "sendMessage",
            lambda: self.bot.send_message(
                chat_id=chat_id, text=html, parse_mode=ParseMode.HTML, reply_markup=keyboard
            ),
        )

    async def send_text(self, chat_id: int, text: str) -> list[Message]:
        """Send plain ``text`` (escaped, split at 4096 on sentence ends), parts in order."""
        return [await self.send_message(chat_id, render_html(part)) for part in split_text(text)]

    async def clear_keyboard(self, chat_id: int, message_id: int) -> None:
        """Remove the inline keyboard of a message the bot sent."""
        await self._call(
            chat_id,
            "editMessageReplyMarkup",
            lambda: self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            ),
        )

    async def answer_callback(self, query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner; not rate-limited, one attempt, failures only logged."""
        try:
            await self.bot.answer_callback_query(callback_query_id=query_id, text=text)
        except TelegramError as exc:
            logger.warning("answerCallbackQuery failed: %s", self._redact(str(exc)))

    async def _call(self, chat_id: int, method: str, send: Callable[[], Awaitable[T]]) -> T:
        delay = self._backoff_s
        last = "no attempt"
        for attempt in range(1, self._max_attempts + 1):
            await self.limiter.acquire(chat_id)
            try:
                return await send()
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.limiter.pause(seconds)
                last = f"rate limited (retry after {seconds:g} s)"
                logger.warning("%s to chat %s: %s, attempt %d", method, chat_id, last, attempt)
            except Forbidden as exc:
                raise RecipientBlocked(chat_id, self._redact(exc.message)) from None
            except BadRequest as exc:  # a NetworkError subclass, but never worth retrying
                raise SendFailed(chat_id, self._redact(exc.message)) from None
            except NetworkError as exc:  # also TimedOut
                last = self._redact(str(exc)) or type(exc).__name__
                logger.warning(
                    "%s to chat %s failed (%s), attempt %d", method, chat_id, last, attempt
                )
                await self._sleep(delay)
                delay = min(delay * 2, self._max_backoff_s)
            except TelegramError as exc:  # InvalidToken, ChatMigrated, Conflict
                raise SendFailed(chat_id, self._redact(str(exc))) from None
        raise RetriesExhausted(chat_id, f"gave up after {self._max_attempts} attempts: {last}")

    def _redact(self, text: str) -> str:
        return redact(text, self.bot.token)


def retry_after_seconds(exc: RetryAfter) -> float:
    """A 429's ``retry_after`` in seconds (PTB gives an int or a timedelta)."""
    value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)
