"""A :class:`BotMessage` as rasa-sdk dispatcher calls (what custom actions utter)."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.core.messages import BotMessage
from bot.rasa.replies import STATUS_KEY


def utter(dispatcher: CollectingDispatcher, message: BotMessage) -> None:
    """Utter ``message`` as one response: text, buttons, and its card as ``json_message``."""
    buttons = [{"title": b.title, "payload": b.payload} for b in message.buttons]
    if message.status is not None:
        dispatcher.utter_message(
            text=message.text or None,
            buttons=buttons,
            json_message={STATUS_KEY: message.status.to_json()},
        )
    else:
        dispatcher.utter_message(text=message.text, buttons=buttons)
