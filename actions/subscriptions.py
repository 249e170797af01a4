"""``action_subscribe`` / ``action_unsubscribe``: incident updates on request."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import user_lang, user_text, utter
from actions.ports import Reply


class ActionSubscribe(Action):
    """Subscribes the conversation to incident updates ("notify me", "avísame")."""

    def name(self) -> str:
        return "action_subscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        subscriptions = services.get().subscriptions
        if subscriptions is None:
            utter(dispatcher, Reply(services.get().templates.render("subscribe.unavailable", lang)))
            return []
        utter(dispatcher, subscriptions.subscribe(tracker.sender_id, user_text(tracker), lang))
        return []


class ActionUnsubscribe(Action):
    """Stops incident updates ("stop updates", "no más avisos", Telegram's /stop)."""

    def name(self) -> str:
        return "action_unsubscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        subscriptions = services.get().subscriptions
        if subscriptions is None:
            utter(
                dispatcher,
                Reply(services.get().templates.render("unsubscribe.not_subscribed", lang)),
            )
            return []
        utter(dispatcher, subscriptions.unsubscribe(tracker.sender_id, lang))
        return []
