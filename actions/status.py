"""``action_incident_status``: the live incident status, honestly and as of when."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import required, user_lang, user_text
from bot.core import StatusService, SubscriptionService
from bot.rasa.dispatch import utter


class ActionIncidentStatus(Action):
    """Answers "is it down?" and "when will it be fixed?" from the status service."""

    def __init__(
        self, *, status: StatusService, subscriptions: SubscriptionService | None = None
    ) -> None:
        self._status = required(status, "the status service", self.name())
        self._subscriptions = subscriptions

    def name(self) -> str:
        return "action_incident_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        lang = user_lang(tracker)
        reply = self._status.status_reply(user_text(tracker), lang, eta=intent == "ask_eta")
        utter(dispatcher, reply)
        incident_id = reply.status.incident_id if reply.status else None
        if self._subscriptions is not None and incident_id:
            # a database write: off the event loop, which serves every other turn meanwhile
            offer = await asyncio.to_thread(
                self._subscriptions.after_status, tracker.sender_id, lang, incident_id
            )
            if offer is not None:
                utter(dispatcher, offer)
        return []
