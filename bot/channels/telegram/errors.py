"""The Telegram channel's exceptions, and keeping the bot token out of messages."""

from __future__ import annotations


class TelegramChannelError(Exception):
    """Base of every error the Telegram channel raises."""


class SendError(TelegramChannelError):
    """A message could not be delivered to a chat."""

    def __init__(self, chat_id: int, reason: str) -> None:
        super().__init__(f"chat {chat_id}: {reason}")
        self.chat_id = chat_id
        self.reason = reason


class RecipientBlocked(SendError):
    """Telegram answered 403: the user blocked the bot (or left, or was deleted).

    Stop sending to this chat; broadcasts retire such subscribers.
    """


class SendFailed(SendError):
    """Telegram refused the message, or retries ran out."""


class RetriesExhausted(SendFailed):
    """Rate limits or network errors outlasted the sender's retries: worth trying later."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``<redacted>``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text
