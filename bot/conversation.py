"""The one interface between channels and the dialogue core.

A channel turns a platform event into a :class:`Turn`, awaits
:meth:`Conversation.handle`, and renders the :class:`BotMessage` list for its
platform. Channels know nothing of Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the user; ``payload`` goes back as :attr:`Turn.payload`."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One reply from the bot."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    custom: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Turn:
    """One user turn from any channel.

    ``conversation_id`` is namespaced per channel (``web:<session>``,
    ``telegram:<chat id>``, ``slack:<team>:<user>``). ``payload`` is set when
    the user pressed a button (the button's payload, as the bot issued it);
    ``text`` is what the user typed (or the button title). ``lang`` is the
    channel's idea of the user's language (``None``: unknown, detect it).
    """

    conversation_id: str
    channel: str
    text: str
    lang: str | None = None
    payload: str | None = None


class Conversation(Protocol):
    """The dialogue core as channels see it."""

    async def handle(self, turn: Turn) -> list[BotMessage]:
        """Process one turn and return the bot's replies (raises ``DialogueError``)."""
        ...
