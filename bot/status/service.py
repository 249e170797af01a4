"""The ``StatusService`` port (bot/core/ports.py) implemented on the live status."""

from __future__ import annotations

import logging

from bot.core.messages import BotMessage, Phase, StatusCard
from bot.status.answers import AnswerWriter, StatusAnswer
from bot.status.components import ComponentMatcher
from bot.status.live import LiveStatus

logger = logging.getLogger(__name__)


class LiveStatusService:
    """Answers status questions from :class:`LiveStatus` in the user's language."""

    def __init__(
        self, live: LiveStatus, *, writer: AnswerWriter, matcher: ComponentMatcher | None = None
    ) -> None:
        self.live = live
        self.writer = writer
        self.matcher = matcher or ComponentMatcher()

    def answer(self, text: str, lang: str, *, eta: bool = False) -> StatusAnswer:
        """The answer to ``text`` with what it was about."""
        snapshot = self.live.snapshot
        components = self.matcher.match(text, snapshot) if snapshot else []
        return self.writer.write(
            snapshot,
            components=components,
            lang=lang,
            eta=eta,
            confirmed_at=self.live.confirmed_at,
            now=self.live.now(),
        )

    def status_reply(self, text: str, lang: str, *, eta: bool = False) -> BotMessage:
        """Answer a status question (``eta``: the user asked when it will be fixed)."""
        answer = self.answer(text, lang, eta=eta)
        logger.debug("status answer: phase=%s incident=%s", answer.phase, answer.incident_id)
        card = StatusCard(
            phase=Phase(answer.phase),
            incident_id=answer.incident_id,
            components=tuple(answer.components),
            as_of=answer.as_of,
            stale=answer.stale,
        )
        return BotMessage(text=answer.text, status=card)
