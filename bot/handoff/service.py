"""The handoff desk: customers ask for a person, agents claim, reply, hand back or close.

A conversation is with the bot unless it has an open handoff: ``waiting`` in
the queue, then ``active`` once an agent claimed it, then ``closed`` (released
to the bot, closed by the agent, or cancelled by the customer). Agent replies
and notices reach the customer through the channel's sender, the same one
broadcasts use.
"""

from __future__ import annotations

import asyncio
import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.broadcast.delivery import DeliveryError
from bot.broadcast.subscriptions import recipient_for
from bot.core.messages import BotMessage, Button
from bot.core.ports import Templates
from bot.handoff.store import Handoff, HandoffMessage, HandoffStore, QueueFigures
from bot.handoff.tables import ACTIVE, CLOSED, WAITING
from bot.rasa import payloads

logger = logging.getLogger(__name__)

CANCEL_PAYLOAD = payloads.CANCEL_HANDOFF
MAX_REPLY_CHARS = 4000
# At least this many recent pickups before the bot dares a wait estimate.
MIN_SAMPLES = 3


class HandoffError(Exception):
    """A handoff request that cannot be done; the message says why, in one sentence."""


class HandoffNotFound(HandoffError):
    """No handoff with that id."""


class HandoffConflict(HandoffError):
    """Someone else holds it, or it is in a state that does not allow this."""


class InvalidReply(HandoffError):
    """The reply text is empty or too long."""


class AgentChannel(Protocol):
    """How agent replies and handoff notices reach customers on one channel."""

    async def deliver(self, address: str, text: str, lang: str) -> None:
        """Send an agent's reply (raises ``DeliveryError``)."""
        ...

    async def notice(self, address: str, text: str, lang: str) -> None:
        """Send a notice in the bot's voice (raises ``DeliveryError``)."""
        ...


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """An agent reply as stored, with how its delivery went."""

    message: HandoffMessage

    @property
    def delivered(self) -> bool:
        """True when the channel accepted it."""
        return self.message.delivery == "sent"


def wait_estimate_s(place: int, figures: QueueFigures) -> float | None:
    """Seconds until a person picks up at ``place``, from recent waits and handling times.

    None when nobody is online or there are too few recent handoffs to say.
    """
    online = figures.agents_online
    if online <= 0 or place <= 0 or len(figures.pickup_waits_s) < MIN_SAMPLES:
        return None
    pickup = statistics.median(figures.pickup_waits_s)
    if place <= online:
        return pickup
    if len(figures.handling_s) < MIN_SAMPLES:
        return None
    rounds = math.ceil((place - online) / online)
    return pickup + rounds * statistics.median(figures.handling_s)


class HandoffService:
    """The one implementation behind the action, the dialogue, the staff API and the inbox."""

    def __init__(
        self,
        store: HandoffStore,
        templates: Templates,
        *,
        max_reply_chars: int = MAX_REPLY_CHARS,
    ) -> None:
        self.store = store
        self._templates = templates
        self.max_reply_chars = max_reply_chars
        self._channels: dict[str, AgentChannel] = {}

    def use_channels(self, channels: Mapping[str, AgentChannel]) -> None:
        """The running channels' senders (known only once the channels are built)."""
        self._channels = dict(channels)

    # -- the customer's side (the action port and the dialogue) -----------------

    def request(
        self,
        conversation_id: str,
        channel: str,
        lang: str,
        transcript: Sequence[tuple[str, str, datetime]] = (),
    ) -> BotMessage:
        """Queue the conversation for a person; the honest queue message to send."""
        handoff, _new = self.store.open(conversation_id, channel, lang, transcript=transcript)
        message = self.queue_message(handoff, lang)
        self.store.add_message(handoff.id, "bot", message.text)
        logger.info("handoff %d: %s conversation queued", handoff.id, handoff.channel)
        return message

    def queue_message(self, handoff: Handoff, lang: str) -> BotMessage:
        """Agents online or not, the place in the queue, the wait estimate; a cancel button."""
        cancel = (Button(self._templates.render("button_cancel_handoff", lang), CANCEL_PAYLOAD),)
        if handoff.state == ACTIVE:
            text = self._templates.render("handoff_with_agent", lang)
            return BotMessage(text)
        figures = self.store.figures()
        place = self.store.place(handoff)
        if figures.agents_online == 0:
            return BotMessage(self._templates.render("handoff_queued_offline", lang), cancel)
        seconds = wait_estimate_s(place, figures)
        if seconds is None:
            wait = self._templates.render("handoff_wait_unknown", lang)
        else:
            wait = self._templates.render(
                "handoff_wait_minutes", lang, minutes=max(1, math.ceil(seconds / 60))
            )
        text = self._templates.render(
            "handoff_queued", lang, agents=figures.agents_online, place=place, wait=wait
        )
        return BotMessage(text, cancel)

    def cancel(self, conversation_id: str, lang: str) -> BotMessage:
        """The customer no longer wants a person: out of the queue, back to the bot."""
        handoff = self.store.current(conversation_id)
        if handoff is None or handoff.state != WAITING:
            return BotMessage(self._templates.render("handoff_not_queued", lang))
        self.store.end(handoff.id, "customer", "cancelled", holder=None)
        logger.info("handoff %d: cancelled by the customer", handoff.id)
        return BotMessage(self._templates.render("handoff_cancelled", lang))

    def current(self, conversation_id: str) -> Handoff | None:
        """The conversation's open handoff (the bot holds its replies back while there is one)."""
        return self.store.current(conversation_id)

    def customer_said(self, handoff: Handoff, text: str) -> None:
        """A customer's message during the handoff, for the agent."""
        self.store.add_message(handoff.id, "user", text)

    # -- the agent's side (staff API and inbox) ---------------------------------

    def get(self, handoff_id: int) -> Handoff:
        """One handoff (raises :class:`HandoffNotFound`)."""
        handoff = self.store.get(handoff_id)
        if handoff is None:
            raise HandoffNotFound(f"no handoff with id {handoff_id}")
        return handoff

    def in_state(self, state: str) -> list[tuple[Handoff, list[HandoffMessage]]]:
        """Handoffs in ``state`` (waiting, active, closed) with their transcripts."""
        found = self.store.in_state(state)
        transcripts = self.store.transcripts([h.id for h in found])
        return [(h, transcripts[h.id]) for h in found]

    async def claim(self, handoff_id: int, agent: str) -> Handoff:
        """Take a waiting handoff (atomic across replicas); tells the customer who joined."""
        await asyncio.to_thread(self.store.seen, agent)
        if not await asyncio.to_thread(self.store.claim, handoff_id, agent):
            handoff = await asyncio.to_thread(self.get, handoff_id)
            if handoff.state == ACTIVE:
                raise HandoffConflict(f"handoff {handoff_id} is already claimed by another agent")
            raise HandoffConflict(f"handoff {handoff_id} is closed")
        handoff = await asyncio.to_thread(self.get, handoff_id)
        # an integration's agent ("chatwoot:Lucía") is shown by name
        await self._notify(handoff, "handoff_claimed", agent=agent.rpartition(":")[2] or agent)
        return handoff

    async def reply(self, handoff_id: int, agent: str, text: object) -> ReplyOutcome:
        """Send an agent's reply through the customer's channel; a failure keeps its reason."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidReply("text must be a non-empty string")
        text = text.strip()
        if len(text) > self.max_reply_chars:
            raise InvalidReply(f"the reply is too long: at most {self.max_reply_chars} characters")
        await asyncio.to_thread(self.store.seen, agent)
        handoff = await asyncio.to_thread(self.get, handoff_id)
        stored = await asyncio.to_thread(
            self.store.add_message, handoff_id, "agent", text, author=agent, holder=agent
        )
        if stored is None:
            raise HandoffConflict(self._not_yours(handoff, agent, "reply to"))
        error = await self._send(handoff, text, notice=False)
        message = await asyncio.to_thread(self.store.delivered, stored.id, error)
        if error:
            logger.warning("handoff %d: reply not delivered: %s", handoff_id, error)
        return ReplyOutcome(message)

    async def release(self, handoff_id: int, agent: str) -> Handoff:
        """Hand the conversation back to the bot."""
        return await self._end(handoff_id, agent, "released", "handoff_released")

    async def close(self, handoff_id: int, agent: str) -> Handoff:
        """Close the handoff (the bot answers again if the customer writes)."""
        return await self._end(handoff_id, agent, "closed", "handoff_closed")

    def figures(self) -> QueueFigures:
        """Queue length, longest wait, handled today (for supervisors)."""
        return self.store.figures()

    async def _end(self, handoff_id: int, agent: str, outcome: str, notice: str) -> Handoff:
        await asyncio.to_thread(self.store.seen, agent)
        if not await asyncio.to_thread(self.store.end, handoff_id, agent, outcome, holder=agent):
            handoff = await asyncio.to_thread(self.get, handoff_id)
            verb = "release" if outcome == "released" else "close"
            raise HandoffConflict(self._not_yours(handoff, agent, verb))
        handoff = await asyncio.to_thread(self.get, handoff_id)
        await self._notify(handoff, notice)
        return handoff

    def _not_yours(self, handoff: Handoff, agent: str, verb: str) -> str:
        if handoff.state == CLOSED:
            return f"handoff {handoff.id} is closed"
        if handoff.state == WAITING:
            return f"claim handoff {handoff.id} before you {verb} it"
        return f"handoff {handoff.id} is claimed by another agent; you cannot {verb} it"

    async def _notify(self, handoff: Handoff, template: str, **values: object) -> None:
        text = self._templates.render(template, handoff.lang, **values)
        await asyncio.to_thread(self.store.add_message, handoff.id, "bot", text)
        error = await self._send(handoff, text, notice=True)
        if error:
            await asyncio.to_thread(self.store.record, "bot", "notice_failed", handoff.id, error)

    async def _send(self, handoff: Handoff, text: str, *, notice: bool) -> str | None:
        """Deliver on the customer's channel; None when sent, else the reason."""
        channel = self._channels.get(handoff.channel)
        recipient = recipient_for(handoff.conversation_id, handoff.lang)
        if channel is None or recipient is None:
            return f"the {handoff.channel} channel is not running on this server"
        try:
            if notice:
                await channel.notice(recipient.address, text, handoff.lang)
            else:
                await channel.deliver(recipient.address, text, handoff.lang)
        except DeliveryError as exc:
            return str(exc) or type(exc).__name__
        except Exception as exc:  # a bug in a sender must not lose the agent's reply
            logger.exception("handoff %d: sending failed", handoff.id)
            return f"sending failed: {type(exc).__name__}"
        return None


class SameVoice:
    """An :class:`AgentChannel` from a broadcast deliverer: notices go out like replies."""

    def __init__(self, deliverer: _Delivering) -> None:
        self._deliverer = deliverer

    async def deliver(self, address: str, text: str, lang: str) -> None:
        """Send an agent's reply."""
        await self._deliverer.deliver(address, text, lang)

    async def notice(self, address: str, text: str, lang: str) -> None:
        """Send a notice."""
        await self._deliverer.deliver(address, text, lang)


class _Delivering(Protocol):
    async def deliver(self, address: str, text: str, lang: str) -> None: ...
