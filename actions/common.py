"""Helpers every action shares: the user's language and text, replies to the dispatcher."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.ports import Reply

LANGUAGES = ("en", "es")
DEFAULT_LANG = "en"


def user_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata the app attached to the latest user message (channel, lang)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, dict) else {}
    return {}


def user_lang(tracker: Tracker) -> str:
    """The language the app resolved for the latest user message."""
    lang = user_metadata(tracker).get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LANG


def user_text(tracker: Tracker) -> str:
    """What the user typed last."""
    return str(tracker.latest_message.get("text") or "")


def utter(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    """Send one :class:`Reply` through rasa-sdk's dispatcher."""
    buttons = [{"title": title, "payload": payload} for title, payload in reply.buttons]
    if reply.custom:
        dispatcher.utter_message(
            text=reply.text or None, buttons=buttons, json_message=reply.custom
        )
    else:
        dispatcher.utter_message(text=reply.text, buttons=buttons)


def choose_payload(faq_id: str) -> str:
    """The button payload that selects one FAQ entry (Rasa intent syntax)."""
    return '/choose_faq{"faq_id":"' + faq_id + '"}'


HUMAN_PAYLOAD = "/request_human"
