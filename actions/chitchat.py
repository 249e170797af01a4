"""Small talk actions: each renders one staff-editable template."""

from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import required, user_lang
from bot.core import BotMessage, Templates
from bot.rasa.dispatch import utter


class _TemplateAction(Action):
    """Utters the template named ``template`` in the user's language."""

    action_name: ClassVar[str] = ""
    template: ClassVar[str] = ""

    def __init__(self, *, templates: Templates) -> None:
        self._templates = required(templates, "templates", self.action_name)

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        utter(dispatcher, BotMessage(self._templates.render(self.template, user_lang(tracker))))
        return []


class ActionGreet(_TemplateAction):
    """Greets the user and says what Faro can do."""

    action_name = "action_greet"
    template = "greet"


class ActionGoodbye(_TemplateAction):
    """Says goodbye."""

    action_name = "action_goodbye"
    template = "goodbye"


class ActionThanks(_TemplateAction):
    """Answers thanks."""

    action_name = "action_thanks"
    template = "thanks"


class ActionBotChallenge(_TemplateAction):
    """Says honestly that this is a bot, and how to reach a person."""

    action_name = "action_bot_challenge"
    template = "bot_challenge"
