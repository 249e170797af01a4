"""The dialogue core: cleans a turn, picks its language, asks Rasa, maps replies.

Implements :class:`bot.core.messages.Conversation` for every channel; Rasa's payload
syntax and reply dicts are handled by the edge (:mod:`bot.rasa`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections import OrderedDict

from bot.core.languages import LANGUAGES
from bot.core.messages import BotMessage, Turn
from bot.handoff.service import HandoffService
from bot.handoff.store import Handoff
from bot.handoff.tables import WAITING
from bot.language import guess_language
from bot.rasa import payloads
from bot.rasa.client import DialogueError, RasaClient
from bot.rasa.replies import from_rest
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

_LANG_MEMORY = 50_000
# How sure Rasa's NLU must be that a message in the queue means "never mind".
CANCEL_CONFIDENCE = 0.6


def clean_text(text: str) -> str:
    """Drop control and invisible format characters, fold whitespace, strip leading '/'.

    Rasa treats a message starting with '/' as an intent (``/restart``), so
    typed text must never start with one.
    """
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch.isspace():  # \r, \v, \f, NEL are spaces, not dropped
            kept.append(" ")
        elif cat[0] == "C":  # control, format, surrogate, private use, unassigned
            continue
        else:
            kept.append(ch)
    return re.sub(r"\s+", " ", "".join(kept)).strip().lstrip("/ ").strip()


class RasaConversation:
    """Channels' entry to the dialogue: one instance per app process."""

    def __init__(
        self,
        *,
        rasa: RasaClient,
        templates: TemplateStore,
        max_chars: int = 1000,
        default_lang: str = "en",
        handoffs: HandoffService | None = None,
    ) -> None:
        self._rasa = rasa
        self._handoffs = handoffs
        self._templates = templates
        self._max_chars = max_chars
        self._default_lang = default_lang
        self._langs: OrderedDict[str, str] = OrderedDict()

    async def handle(self, turn: Turn) -> list[BotMessage]:
        """Process one turn; never raises for bad input or a failed dependency."""
        # Only payloads the bot itself issued go to Rasa as they are; anything
        # else a client sends back as a "button press" is treated as typed text.
        payload = turn.payload if turn.payload and payloads.is_bot_payload(turn.payload) else None
        text = clean_text(turn.text or "")
        lang = self._language(turn, text)
        if payload is None:
            if not text:
                return [BotMessage(self._templates.render("empty_message", lang))]
            if len(text) > self._max_chars:
                return [
                    BotMessage(
                        self._templates.render("message_too_long", lang, limit=self._max_chars)
                    )
                ]
        message = payload or text
        metadata = {"lang": lang, "channel": turn.channel}
        if self._handoffs is not None:
            store = self._handoffs.store
            try:
                handoff, paused = await asyncio.to_thread(store.gate, turn.conversation_id)
            except Exception as exc:  # noqa: BLE001 - its database is down: say so, honestly
                # a person may have this conversation: the bot must not answer over them
                failure = type(exc).__name__
                logger.error("turn for %s: handoff state unreadable (%s)", turn.channel, failure)
                return [BotMessage(self._templates.render("dialogue_unavailable", lang))]
            if handoff is not None:
                if not await self._cancels(handoff, payload, text):
                    await self._hold(handoff, turn, text or message, message, metadata)
                    return []
                message = payloads.CANCEL_HANDOFF
            if handoff is not None or paused:
                await self._resume(turn.conversation_id)
        try:
            replies = await self._rasa.send(
                sender=turn.conversation_id, message=message, metadata=metadata
            )
        except DialogueError as exc:
            logger.error("turn for %s failed: %s", turn.channel, exc)
            return [BotMessage(self._templates.render("dialogue_unavailable", lang))]
        if not replies:
            # Rasa's REST channel answers 200 and nothing when processing failed (its
            # tracker or lock store down): say so rather than leave the customer in silence
            logger.error("turn for %s: Rasa answered nothing (see its log)", turn.channel)
            return [BotMessage(self._templates.render("dialogue_unavailable", lang))]
        return from_rest(replies)

    async def _cancels(self, handoff: Handoff, payload: str | None, text: str) -> bool:
        """True when a customer waiting for a person says "never mind" (button or words)."""
        if handoff.state != WAITING:
            return False  # with a person, "never mind" is said to the person
        if payload is not None:
            return payload == payloads.CANCEL_HANDOFF
        try:
            intent, confidence = await self._rasa.parse(text)
        except DialogueError as exc:
            logger.warning("cannot read a queued message with Rasa: %s", exc)
            return False
        return intent == "cancel_handoff" and confidence >= CANCEL_CONFIDENCE

    async def _hold(
        self, handoff: Handoff, turn: Turn, said: str, message: str, metadata: dict[str, str]
    ) -> None:
        """A turn while a person has the conversation: to the agent, and to Rasa's tracker."""
        assert self._handoffs is not None
        await asyncio.to_thread(self._handoffs.customer_said, handoff, said)
        try:
            replies = await self._rasa.send(
                sender=turn.conversation_id, message=message, metadata=metadata
            )
        except DialogueError as exc:  # the agent has the message; the tracker misses a turn
            logger.warning("turn held for a person not logged in Rasa: %s", exc)
            return
        if replies:
            # Rasa answered, so its tracker is not paused (a new session resets the
            # pause): hold the replies back and pause it again.
            logger.info("handoff %d: %d bot replies held back", handoff.id, len(replies))
            await self._pause(turn.conversation_id)

    async def _pause(self, conversation_id: str) -> None:
        try:
            await self._rasa.pause(conversation_id)
        except DialogueError as exc:
            logger.warning("cannot pause the conversation in Rasa: %s", exc)

    async def _resume(self, conversation_id: str) -> None:
        """Resume Rasa's tracker (a handoff ended, or the customer left the queue)."""
        assert self._handoffs is not None
        try:
            await self._rasa.resume(conversation_id)
        except DialogueError as exc:
            logger.warning("cannot resume the conversation in Rasa: %s", exc)
            return
        await asyncio.to_thread(self._handoffs.store.resumed, conversation_id)

    def _language(self, turn: Turn, text: str) -> str:
        """The channel's language if known, else a guess that sticks to the conversation."""
        if turn.lang:
            lang = turn.lang.split("-")[0].lower()
            lang = lang if lang in LANGUAGES else self._default_lang
        else:
            previous = self._langs.get(turn.conversation_id, self._default_lang)
            lang = guess_language(text, default=previous) if text else previous
        self._langs[turn.conversation_id] = lang
        self._langs.move_to_end(turn.conversation_id)
        while len(self._langs) > _LANG_MEMORY:
            self._langs.popitem(last=False)
        return lang
