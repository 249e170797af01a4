"""Broadcast delivery on Slack: the outbox's :class:`~bot.broadcast.delivery.Deliverer`."""

from __future__ import annotations

from bot.broadcast.delivery import PermanentFailure, RecipientGone, TemporaryFailure
from bot.channels.slack.errors import SlackSendError
from bot.channels.slack.sender import SlackSender
from bot.core.messages import BotMessage

# Slack errors meaning the user cannot be messaged any more.
_GONE = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "channel_not_found",
        "is_archived",
        "cannot_dm_bot",
        "not_in_channel",
        "messages_tab_disabled",
    }
)
_TEMPORARY = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable"})


class SlackDeliverer:
    """Posts broadcast text to the user's DM with the app (``chat.postMessage``, paced)."""

    channel = "slack"

    def __init__(self, sender: SlackSender, *, concurrency: int = 8) -> None:
        self.sender = sender
        self.concurrency = concurrency

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Post ``text`` to user ``address``; gone users retire, server trouble retries."""
        try:
            await self.sender.send(address, [BotMessage(text)])
        except SlackSendError as exc:
            reason = str(exc)
            if exc.error in _GONE:
                raise RecipientGone(reason) from None
            # no Slack error code: the connection failed, timed out or got an HTTP error
            if exc.error is None or exc.error in _TEMPORARY:
                raise TemporaryFailure(reason) from None
            raise PermanentFailure(reason) from None
