"""``action_incident_status``: the live incident status, honestly and as of when."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import user_lang, user_text, utter


class ActionIncidentStatus(Action):
    """Answers "is it down?" and "when will it be fixed?" from the status service."""

    def name(self) -> str:
        return "action_incident_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reply = services.get().status.status_reply(
            user_text(tracker), user_lang(tracker), eta=intent == "ask_eta"
        )
        utter(dispatcher, reply)
        subscriptions = services.get().subscriptions
        incident_id = (reply.custom.get("status") or {}).get("incident_id")
        if subscriptions is not None and incident_id:
            offer = subscriptions.after_status(tracker.sender_id, user_lang(tracker), incident_id)
            if offer is not None:
                utter(dispatcher, offer)
        return []
