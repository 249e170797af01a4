"""The messages between channels and the dialogue core, and the one interface between them.

A channel turns a platform event into a :class:`Turn`, awaits
:meth:`Conversation.handle`, and renders the :class:`BotMessage` list for its
platform. Channels know nothing of Rasa.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Phase(StrEnum):
    """What a status answer was about (the phases ``bot.status.answers`` produces)."""

    UNAVAILABLE = "unavailable"
    ALL_OPERATIONAL = "all_operational"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    UNKNOWN = "unknown"
    MAINTENANCE_IN_PROGRESS = "maintenance_in_progress"
    MAINTENANCE_COMPLETED = "maintenance_completed"
    COMPONENT = "component"


@dataclass(frozen=True, slots=True)
class StatusCard:
    """The facts behind a status answer, for channels that show more than its text."""

    phase: Phase
    incident_id: str | None = None
    components: tuple[str, ...] = ()
    as_of: datetime | None = None
    stale: bool = False

    def to_json(self) -> dict[str, Any]:
        """The card as JSON-ready data (``as_of`` in ISO 8601)."""
        return {
            "phase": self.phase.value,
            "incident_id": self.incident_id,
            "components": list(self.components),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "stale": self.stale,
        }

    @classmethod
    def from_json(cls, data: object) -> StatusCard | None:
        """The card in ``data`` (as :meth:`to_json` wrote it), None when it is not one."""
        if not isinstance(data, dict):
            return None
        try:
            phase = Phase(str(data.get("phase")))
        except ValueError:  # a phase this version does not know: no card rather than a wrong one
            logger.debug("status card with unknown phase %r dropped", data.get("phase"))
            return None
        incident_id = data.get("incident_id")
        components = data.get("components")
        return cls(
            phase=phase,
            incident_id=str(incident_id) if incident_id else None,
            components=tuple(str(c) for c in components) if isinstance(components, list) else (),
            as_of=_datetime(data.get("as_of")),
            stale=data.get("stale") is True,
        )


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the user; ``payload`` goes back as :attr:`Turn.payload`."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class BotMessage:
    """One reply from the bot: text, buttons, and the status card when it answers one."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    status: StatusCard | None = None


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
