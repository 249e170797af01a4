"""How a channel plugs into the app: what it gets, what it adds.

A channel is a :class:`ChannelSpec` listed once in :data:`bot.wiring.CHANNELS`:
its name, a factory that builds its routes, workers and broadcast sender from
a :class:`ChannelContext` (or returns None when it is not configured), and
how a broadcast text looks on it (for previews, even while it is off).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from bot.broadcast.announce import Rendering
from bot.broadcast.delivery import Deliverer
from bot.channels.web_push import PushHub
from bot.core.messages import Conversation
from bot.handoff.service import AgentChannel
from bot.services import AppServices, Background
from bot.settings import Settings
from bot.templates import TemplateStore


@dataclass(kw_only=True)
class ChannelContext:
    """What a channel gets to build itself: the one interface to the core, and services."""

    settings: Settings
    conversation: Conversation
    services: AppServices
    # publish(conversation_id or None, BotMessage) to open widgets (and their history)
    web_push: PushHub


@dataclass(kw_only=True)
class ChannelParts:
    """What a running channel adds to the app: routes, background work, its sender."""

    routes: list[BaseRoute] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)
    # sends broadcast messages (and agent replies, unless ``agent`` is set) on this channel
    deliverer: Deliverer | None = None
    # sends agent replies and handoff notices, when they differ from broadcasts (web roles)
    agent: AgentChannel | None = None


# A broadcast text as the channel sends it (Telegram HTML parts, Slack mrkdwn blocks, ...).
Renderer = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True, kw_only=True)
class ChannelSpec:
    """One channel, as the wiring registers it."""

    name: str
    build: Callable[[ChannelContext], ChannelParts | None]
    render: Renderer
    # what else a broadcast preview shows on this channel (email: subject and HTML; SMS:
    # segments), from the composed text, its language and the templates; None: nothing more
    detail: Callable[[str, str, TemplateStore], Rendering] | None = None
