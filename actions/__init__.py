"""Faro's Rasa custom actions (rasa-sdk), served by the app at POST /webhook."""

from __future__ import annotations

from rasa_sdk import Action

from actions.chitchat import (
    ActionBotChallenge,
    ActionGoodbye,
    ActionGreet,
    ActionThanks,
)
from actions.faq import ActionAnswerFaq
from actions.handoff import ActionCancelHandoff, ActionRequestHuman
from actions.status import ActionIncidentStatus
from actions.subscriptions import ActionSubscribe, ActionUnsubscribe
from bot.core.ports import ActionServices


def build_actions(services: ActionServices) -> list[Action]:
    """Every Faro action, built on ``services`` (registered with rasa-sdk's executor)."""
    templates, subscriptions = services.templates, services.subscriptions
    return [
        ActionAnswerFaq(faq=services.faq, templates=templates),
        ActionIncidentStatus(status=services.status, subscriptions=subscriptions),
        ActionGreet(templates=templates),
        ActionGoodbye(templates=templates),
        ActionThanks(templates=templates),
        ActionBotChallenge(templates=templates),
        ActionRequestHuman(templates=templates, handoffs=services.handoffs),
        ActionCancelHandoff(templates=templates, handoffs=services.handoffs),
        ActionSubscribe(templates=templates, subscriptions=subscriptions),
        ActionUnsubscribe(templates=templates, subscriptions=subscriptions),
    ]


__all__ = [
    "ActionAnswerFaq",
    "ActionBotChallenge",
    "ActionCancelHandoff",
    "ActionGoodbye",
    "ActionGreet",
    "ActionIncidentStatus",
    "ActionRequestHuman",
    "ActionSubscribe",
    "ActionThanks",
    "ActionUnsubscribe",
    "build_actions",
]
