"""A recording agent channel for handoff tests (what would have reached the customer)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.broadcast.delivery import DeliveryError


@dataclass
class RecordingChannel:
    """Records replies and notices; ``fail_with`` makes the next sends fail."""

    sent: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, address, text, lang
    fail_with: DeliveryError | None = None

    async def deliver(self, address: str, text: str, lang: str) -> None:
        """Record an agent reply."""
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(("reply", address, text, lang))

    async def notice(self, address: str, text: str, lang: str) -> None:
        """Record a notice."""
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(("notice", address, text, lang))
