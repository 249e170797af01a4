"""Handing the conversation to a person: ``action_request_human``, ``action_cancel_handoff``.

Asking for a person queues the conversation at the app's handoff desk and
pauses it in Rasa (``ConversationPaused``): Rasa keeps logging the turns, so
the tracker has the whole conversation, but runs no actions until the app
resumes it when the person hands it back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import required, user_lang, user_metadata
from bot.core import BotMessage, HandoffDesk, Templates
from bot.rasa.dispatch import utter

# How much of the conversation so far the agent gets to read.
MAX_TRANSCRIPT = 50


def transcript(tracker: Tracker) -> list[tuple[str, str, datetime]]:
    """The conversation so far as (role, text, time), user and bot turns only."""
    out: list[tuple[str, str, datetime]] = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text:
            continue
        if kind == "user" and text.startswith("/"):
            continue  # a button's payload: the bot's own syntax, not the customer's words
        stamp = event.get("timestamp")
        at = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int | float) else None
        out.append((str(kind), text, at or datetime.now(UTC)))
    return out[-MAX_TRANSCRIPT:]


class ActionRequestHuman(Action):
    """Queues the conversation for a person and pauses the bot; without a desk, says how
    to reach the contact center."""

    def __init__(self, *, templates: Templates, handoffs: HandoffDesk | None = None) -> None:
        self._templates = required(templates, "templates", self.name())
        self._handoffs = handoffs

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        if self._handoffs is None:
            utter(dispatcher, BotMessage(self._templates.render("request_human", lang)))
            return []
        channel = str(user_metadata(tracker).get("channel") or "")
        conversation_id = tracker.sender_id
        if not channel:
            channel = conversation_id.partition(":")[0]
        message = self._handoffs.request(conversation_id, channel, lang, transcript(tracker))
        utter(dispatcher, message)
        return [ConversationPaused()]


class ActionCancelHandoff(Action):
    """Takes the conversation out of the queue for a person ("never mind")."""

    def __init__(self, *, templates: Templates, handoffs: HandoffDesk | None = None) -> None:
        self._templates = required(templates, "templates", self.name())
        self._handoffs = handoffs

    def name(self) -> str:
        return "action_cancel_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        if self._handoffs is None:
            utter(dispatcher, BotMessage(self._templates.render("handoff_not_queued", lang)))
            return []
        utter(dispatcher, self._handoffs.cancel(tracker.sender_id, lang))
        return []
