"""Helpers every action shares: the user's language and text, required services."""

from __future__ import annotations

from typing import Any, TypeVar

from rasa_sdk import Tracker

from bot.core.languages import DEFAULT_LANG, LANGUAGES

T = TypeVar("T")


def required(service: T | None, what: str, action: str) -> T:
    """``service``, or a TypeError naming what ``action`` lacks (at construction, not per turn)."""
    if service is None:
        raise TypeError(f"{action} needs {what}")
    return service


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
