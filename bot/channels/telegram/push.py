"""Broadcast delivery on Telegram: the outbox's :class:`~bot.broadcast.delivery.Deliverer`."""

from __future__ import annotations

from bot.broadcast.delivery import PermanentFailure, RecipientGone, TemporaryFailure
from bot.channels.telegram.errors import RecipientBlocked, RetriesExhausted, SendFailed
from bot.channels.telegram.sender import TelegramSender

# Bad Request texts meaning the chat is gone for good.
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "group chat was deleted")


class TelegramDeliverer:
    """Sends broadcast text through the channel's sender (30/s overall, 1/s per chat)."""

    channel = "telegram"

    def __init__(self, sender: TelegramSender, *, concurrency: int = 8) -> None:
        self.sender = sender
        self.concurrency = concurrency

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Send ``text`` to chat ``address``; 403: RecipientGone; retries used up: temporary."""
        try:
            await self.sender.send_text(int(address), text)
        except RecipientBlocked as exc:
            raise RecipientGone(f"Telegram 403: {exc.reason}") from None
        except RetriesExhausted as exc:
            raise TemporaryFailure(exc.reason) from None
        except SendFailed as exc:
            reason = exc.reason
            if any(g in reason.lower() for g in _GONE):
                raise RecipientGone(reason) from None
            raise PermanentFailure(reason) from None
