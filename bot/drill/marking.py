"""Everything the bot says during a drill carries the drill marker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.broadcast.compose import Composer, StatusEvent
from bot.core.messages import BotMessage, Conversation, Turn
from bot.core.ports import Templates


class DrillConversation:
    """A ``Conversation`` whose every reply starts with the ``drill.marker`` template."""

    def __init__(self, inner: Conversation, templates: Templates) -> None:
        self._inner = inner
        self._templates = templates

    async def handle(self, turn: Turn) -> list[BotMessage]:
        """The inner replies, each marked as a drill in the turn's language."""
        replies = await self._inner.handle(turn)
        marker = self._templates.render("drill.marker", (turn.lang or "en").split("-")[0])
        return [replace(m, text=f"{marker} {m.text}".strip()) for m in replies]


class DrillComposer(Composer):
    """The broadcast composer of a drill: every message starts with the drill marker."""

    def event_text(
        self, event: StatusEvent, lang: str, channel: str, *, now: datetime, asker: bool = False
    ) -> str:
        """The event's message, marked as a drill."""
        text = super().event_text(event, lang, channel, now=now, asker=asker)
        return f"{self._templates.render('drill.marker', lang)}\n{text}"

    def announcement_text(self, texts: Mapping[str, str], lang: str, channel: str) -> str:
        """The announcement, marked as a drill."""
        text = super().announcement_text(texts, lang, channel)
        return f"{self._templates.render('drill.marker', lang)}\n{text}"
