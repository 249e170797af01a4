"""Everything the bot says during a drill carries the drill marker."""

from __future__ import annotations

from dataclasses import replace

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
