"""The ports actions and channels use: small protocols the app implements and injects.

Actions know the FAQ index (``faq_index``) and what these ports return, never how
the app stores FAQ entries, reads the status feed or keeps templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.messages import BotMessage
from faq_index import Decision


class FaqAnswerer(Protocol):
    """The live answer center: decides how to answer a question, records misses."""

    def decide(self, text: str, lang: str) -> Decision:
        """Return the decision (answer / choose / decline) for a question."""
        ...

    def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
        """Return (title, answer) of one entry in ``lang`` (or its fallback), None if unknown."""
        ...

    def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
        """Remember a question the FAQ could not answer, for staff."""
        ...


class StatusService(Protocol):
    """The live incident status, rendered for customers."""

    def status_reply(self, text: str, lang: str, *, eta: bool = False) -> BotMessage:
        """Answer a status question, with its :class:`StatusCard` (``eta``: asked when fixed)."""
        ...


class Templates(Protocol):
    """Staff-editable message templates, per language."""

    def render(self, key: str, lang: str, **values: Any) -> str:
        """Render template ``key`` in ``lang`` (falling back to English)."""
        ...


class SubscriptionService(Protocol):
    """Incident-update subscriptions, as a conversation asks for them."""

    def subscribe(self, conversation_id: str, text: str, lang: str) -> BotMessage:
        """Subscribe the conversation (to the components ``text`` names, else to all)."""
        ...

    def unsubscribe(self, conversation_id: str, lang: str) -> BotMessage:
        """Stop updates to the conversation."""
        ...

    def after_status(
        self, conversation_id: str, lang: str, incident_id: str | None
    ) -> BotMessage | None:
        """Note who asked about an open incident; the one-time offer to subscribe, if due."""
        ...


class HandoffDesk(Protocol):
    """Handing a conversation to a person, as a conversation asks for it."""

    def request(
        self,
        conversation_id: str,
        channel: str,
        lang: str,
        transcript: Sequence[tuple[str, str, datetime]] = (),
    ) -> BotMessage:
        """Queue the conversation (with its transcript: role, text, time) for a person;
        the honest queue message."""
        ...

    def cancel(self, conversation_id: str, lang: str) -> BotMessage:
        """Take the conversation out of the queue; what to tell the customer."""
        ...


@dataclass(frozen=True, slots=True)
class ActionServices:
    """The ports the custom actions are built with (subscriptions are optional)."""

    faq: FaqAnswerer
    status: StatusService
    templates: Templates
    subscriptions: SubscriptionService | None = None
    handoffs: HandoffDesk | None = None
