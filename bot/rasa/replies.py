"""Rasa's REST channel replies (dicts) as :class:`BotMessage` objects.

Rasa's REST channel sends an utterance with text and a ``json_message`` as two
replies: the text (with its buttons), then ``{"custom": ...}`` alone. A
custom-only reply carrying a status card is merged back into the message
before it, so a customer gets one message with text and card, never an empty one.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.core.messages import BotMessage, Button, StatusCard

logger = logging.getLogger(__name__)

STATUS_KEY = "status"
"""The key of the status card in an utterance's ``json_message`` (``custom``)."""


def from_rest(replies: list[dict[str, Any]]) -> list[BotMessage]:
    """The bot messages in Rasa's REST replies, status cards merged into their text."""
    messages: list[BotMessage] = []
    for reply in replies:
        text = reply.get("text")
        text = str(text) if text else ""
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in reply.get("buttons") or ()
            if isinstance(b, dict)
        )
        custom = reply.get("custom")
        card = StatusCard.from_json(custom.get(STATUS_KEY)) if isinstance(custom, dict) else None
        if not text and not buttons:
            if card is not None and messages and messages[-1].status is None:
                messages[-1] = dataclasses.replace(messages[-1], status=card)
            elif custom:
                logger.debug("a custom-only Rasa reply had nothing to show; dropped")
            continue
        messages.append(BotMessage(text=text, buttons=buttons, status=card))
    return messages
