"""The ``SubscriptionService`` port (bot/core/ports.py): subscribe, unsubscribe, offer once."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.broadcast.subscriptions import SubscribeOutcome, SubscriptionStore, recipient_for
from bot.core.messages import BotMessage, Button
from bot.rasa import payloads
from bot.status.components import ComponentMatcher
from bot.status.live import LiveStatus
from bot.status.wording import join_names
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)


class ContactOffer(Protocol):
    """Email and SMS updates asked for in a chat (``bot.channels.contact.chat``)."""

    def instead(self, conversation_id: str, text: str, lang: str) -> BotMessage | None:
        """The reply that leads to the email/SMS form instead of a chat subscription."""
        ...

    def after(self, conversation_id: str, text: str, lang: str, reply: BotMessage) -> BotMessage:
        """``reply`` to a chat subscription, with the way to email or SMS updates added."""
        ...


class Subscriptions:
    """What actions call when a customer asks for (or stops) updates."""

    def __init__(
        self,
        store: SubscriptionStore,
        *,
        templates: TemplateStore,
        live: LiveStatus | None = None,
        matcher: ComponentMatcher | None = None,
        contact: ContactOffer | None = None,
    ) -> None:
        self.store = store
        # set by the wiring when email or SMS updates are on
        self.contact = contact
        self._templates = templates
        self._live = live
        self._matcher = matcher or ComponentMatcher()

    def subscribe(self, conversation_id: str, text: str, lang: str) -> BotMessage:
        """Subscribe to the components ``text`` names (none named: every incident).

        "Email me updates" in the widget gets the email/SMS form instead (see
        :class:`ContactOffer`); after a chat subscription, the way to add them.
        """
        if self.contact is not None:
            instead = self.contact.instead(conversation_id, text, lang)
            if instead is not None:
                logger.info("subscription: email/SMS form offered in the chat")
                return instead
        reply = self._subscribe(conversation_id, text, lang)
        return self.contact.after(conversation_id, text, lang, reply) if self.contact else reply

    def _subscribe(self, conversation_id: str, text: str, lang: str) -> BotMessage:
        recipient = recipient_for(conversation_id, lang)
        if recipient is None:
            return BotMessage(self._templates.render("subscribe.unavailable", lang))
        snapshot = self._live.snapshot if self._live else None
        components = [c.name for c in self._matcher.match(text, snapshot)] if snapshot else []
        outcome = self.store.subscribe(recipient, components)
        logger.info("subscription %s (%d components)", outcome.value, len(components))
        if outcome is SubscribeOutcome.UNCHANGED:
            return BotMessage(self._templates.render("subscribe.already", lang))
        if components:
            return BotMessage(
                self._templates.render(
                    "subscribe.confirmed.components",
                    lang,
                    components=join_names(components, lang=lang),
                )
            )
        return BotMessage(self._templates.render("subscribe.confirmed", lang))

    def unsubscribe(self, conversation_id: str, lang: str) -> BotMessage:
        """Stop updates (also what Telegram's /stop does)."""
        if self.store.unsubscribe(conversation_id):
            return BotMessage(self._templates.render("unsubscribe.confirmed", lang))
        return BotMessage(self._templates.render("unsubscribe.not_subscribed", lang))

    def after_status(
        self, conversation_id: str, lang: str, incident_id: str | None
    ) -> BotMessage | None:
        """Remember who asked about an open incident; offer a subscription once."""
        snapshot = self._live.snapshot if self._live else None
        incident = None
        if snapshot is not None and incident_id:
            incident = next(
                (i for i in (*snapshot.incidents, *snapshot.maintenances) if i.id == incident_id),
                None,
            )
        recipient = recipient_for(conversation_id, lang)
        if incident is None or not incident.is_open or recipient is None:
            return None
        if not self.store.asked_about(incident.id, recipient):
            return None
        return BotMessage(
            self._templates.render("subscribe.offer", lang),
            buttons=(Button(self._templates.render("button_subscribe", lang), payloads.SUBSCRIBE),),
        )
