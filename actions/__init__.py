"""Faro's Rasa custom actions (rasa-sdk), served by the app at POST /webhook."""

from actions.chitchat import (
    ActionBotChallenge,
    ActionGoodbye,
    ActionGreet,
    ActionRequestHuman,
    ActionThanks,
)
from actions.faq import ActionAnswerFaq
from actions.status import ActionIncidentStatus
from actions.subscriptions import ActionSubscribe, ActionUnsubscribe

# Registered explicitly with rasa-sdk's executor by the app (no package scan).
ALL_ACTIONS = (
    ActionAnswerFaq,
    ActionIncidentStatus,
    ActionGreet,
    ActionGoodbye,
    ActionThanks,
    ActionBotChallenge,
    ActionRequestHuman,
    ActionSubscribe,
    ActionUnsubscribe,
)
