"""What one app process serves with, built once by :mod:`bot.wiring`.

Channels, the admin and the action server receive these through their
constructors; nothing looks them up globally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.routing import BaseRoute

from bot.broadcast.service import Subscriptions
from bot.broadcast.watcher import Broadcaster
from bot.faq_service import FaqService
from bot.handoff.service import HandoffService
from bot.rhythm.runtime import CrisisRhythm
from bot.settings import Settings
from bot.status.service import LiveStatusService
from bot.store import AppStore
from bot.templates import TemplateStore


class Background(Protocol):
    """Something the app runs alongside requests (a poller, a sender)."""

    async def start(self) -> None:
        """Start working."""
        ...

    async def stop(self) -> None:
        """Stop and release resources."""
        ...


@dataclass(kw_only=True)
class AppServices:
    """Everything the app serves with; built once per process."""

    settings: Settings
    templates: TemplateStore
    store: AppStore
    faq: FaqService
    status: LiveStatusService
    # incident updates: who subscribed, what was broadcast, the outbox
    subscriptions: Subscriptions
    broadcaster: Broadcaster
    # conversations handed to a person (None: handoffs off, "a person" gets the contact options)
    handoffs: HandoffService | None = None
    # the crisis rhythm: late updates, question surges, the staff alert board
    rhythm: CrisisRhythm | None = None
    background: list[Background] = field(default_factory=list)
    routes: list[BaseRoute] = field(default_factory=list)
    # the staff console's first start: the one-time sign-in URL of the first admin (else None)
    console_link: str | None = None
