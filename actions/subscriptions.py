"""``action_subscribe`` / ``action_unsubscribe``: incident updates on request."""

from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import required, user_lang, user_text
from bot.core import BotMessage, SubscriptionService, Templates
from bot.rasa.dispatch import utter


class _SubscriptionAction(Action):
    """Runs :meth:`answer` on the subscription service; says so when there is none."""

    action_name: ClassVar[str] = ""
    unavailable: ClassVar[str] = ""

    def __init__(
        self, *, templates: Templates, subscriptions: SubscriptionService | None = None
    ) -> None:
        self._templates = required(templates, "templates", self.action_name)
        # Optional: without subscriptions (no database for them) the action says so.
        self._subscriptions = subscriptions

    def name(self) -> str:
        return self.action_name

    def answer(self, service: SubscriptionService, tracker: Tracker, lang: str) -> BotMessage:
        """The reply to the user (and the change made)."""
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = user_lang(tracker)
        if self._subscriptions is None:
            utter(dispatcher, BotMessage(self._templates.render(self.unavailable, lang)))
        else:
            utter(dispatcher, self.answer(self._subscriptions, tracker, lang))
        return []


class ActionSubscribe(_SubscriptionAction):
    """Subscribes the conversation to incident updates ("notify me", "avísame")."""

    action_name = "action_subscribe"
    unavailable = "subscribe.unavailable"

    def answer(self, service: SubscriptionService, tracker: Tracker, lang: str) -> BotMessage:
        """Subscribe, to the components the text names if any."""
        return service.subscribe(tracker.sender_id, user_text(tracker), lang)


class ActionUnsubscribe(_SubscriptionAction):
    """Stops incident updates ("stop updates", "no más avisos", Telegram's /stop)."""

    action_name = "action_unsubscribe"
    unavailable = "unsubscribe.not_subscribed"

    def answer(self, service: SubscriptionService, tracker: Tracker, lang: str) -> BotMessage:
        """Unsubscribe."""
        return service.unsubscribe(tracker.sender_id, lang)
