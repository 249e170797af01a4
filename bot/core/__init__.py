"""The core's vocabulary: the messages channels and actions exchange, and the ports actions use.

Owned by the core: nothing here knows Rasa, a channel, or how a service is built.
"""

from bot.core.messages import BotMessage, Button, Conversation, Phase, StatusCard, Turn
from bot.core.ports import (
    ActionServices,
    FaqAnswerer,
    HandoffDesk,
    StatusService,
    SubscriptionService,
    Templates,
)

__all__ = [
    "ActionServices",
    "BotMessage",
    "Button",
    "Conversation",
    "FaqAnswerer",
    "HandoffDesk",
    "Phase",
    "StatusCard",
    "StatusService",
    "SubscriptionService",
    "Templates",
    "Turn",
]
