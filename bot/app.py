"""The ASGI app: web chat, Rasa's action endpoint, health, demo page.

:func:`build_services` does the slow, fail-fast part (validate the FAQ, load
the encoder, build the index) before a server starts; :func:`create_app`
only wires routes, so tests can pass their own services.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import actions
from actions import services as action_services
from actions.ports import StatusService
from bot.action_server import action_route
from bot.admin import admin_routes
from bot.broadcast.compose import Composer
from bot.broadcast.delivery import Deliverer, DeliveryWorker
from bot.broadcast.outbox import Outbox
from bot.broadcast.service import Subscriptions
from bot.broadcast.subscriptions import SubscriptionStore
from bot.broadcast.watcher import Broadcaster
from bot.channels.web import web_channel
from bot.channels.web_push import PushHub
from bot.conversation import Conversation
from bot.db import Database
from bot.dialogue import RasaConversation
from bot.faq_service import FaqReloader, FaqService
from bot.faqdb.store import FaqStore
from bot.rasa_client import RasaClient
from bot.settings import Settings
from bot.store import AppStore
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


class Background(Protocol):
    """Something the app runs alongside requests (a poller, a sender)."""

    async def start(self) -> None:
        """Start working."""
        ...

    async def stop(self) -> None:
        """Stop and release resources."""
        ...


@dataclass(kw_only=True)
class ChannelContext:
    """What a channel gets to build itself: the one interface to the core, and services."""

    settings: Settings
    conversation: Conversation
    services: AppServices


@dataclass(kw_only=True)
class ChannelParts:
    """What a channel adds to the app: routes, and work that runs alongside requests."""

    routes: list[BaseRoute] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)
    # sends broadcast messages on this channel (bot.broadcast.delivery.Deliverer)
    deliverer: Deliverer | None = None


# Each messaging channel: "module:function", the function taking a ChannelContext
# and returning ChannelParts, or None when the channel is not configured (it
# then says so once in the log). The web chat is always on.
CHANNEL_FACTORIES: tuple[str, ...] = (
    "bot.channels.telegram.wiring:telegram_channel",
    "bot.channels.slack:slack_channel",
)


@dataclass(kw_only=True)
class AppServices:
    """Everything the app serves with; built once per process."""

    settings: Settings
    templates: TemplateStore
    store: AppStore
    faq: FaqService
    status: StatusService
    background: list[Background] = field(default_factory=list)
    routes: list[BaseRoute] = field(default_factory=list)
    # set by the web channel: publish(conversation_id or None, BotMessage) to open widgets
    web_push: PushHub | None = None
    # incident updates: who subscribed, what was broadcast, the outbox
    subscriptions: Subscriptions | None = None
    broadcaster: Broadcaster | None = None


def build_services(settings: Settings, *, encoder: Any | None = None) -> AppServices:
    """Load templates, FAQ, encoder and status; raises a clear error on bad input."""
    from bot.status.wiring import build_status
    from faq_index import load_encoder

    templates = TemplateStore.from_paths(settings.template_paths)
    store = AppStore(Database.open(settings.database_url).engine)
    faq_store = FaqStore(store.engine)
    faq = FaqService.from_store(
        faq_store,
        seed_paths=settings.faq_paths,
        encoder=encoder or load_encoder(settings.embedding_model),
        store=store,
        cache_dir=settings.cache_dir / "faq",
    )
    status, status_background, status_routes = build_status(settings, templates)
    subscription_store = SubscriptionStore(store.engine)
    outbox = Outbox(store.engine)
    broadcaster = Broadcaster(
        live=status.live,
        subscriptions=subscription_store,
        outbox=outbox,
        composer=Composer(templates, tz=status.writer.tz),
    )
    background: list[Background] = [
        *status_background,
        FaqReloader(faq, interval_s=settings.faq_poll_interval_s),
    ]
    routes: list[BaseRoute] = [
        *status_routes,
        *admin_routes(
            password=settings.admin_password,
            token=settings.admin_token,
            session_secret=settings.session_secret,
            faq_store=faq_store,
            faq=faq,
            app_store=store,
            broadcaster=broadcaster,
        ),
    ]
    return AppServices(
        settings=settings,
        templates=templates,
        store=store,
        faq=faq,
        status=status,
        background=background,
        routes=routes,
        subscriptions=Subscriptions(
            subscription_store, templates=templates, live=status.live, matcher=status.matcher
        ),
        broadcaster=broadcaster,
    )


def create_app(services: AppServices) -> Starlette:
    """Wire the routes of one app process around ``services``."""
    settings = services.settings
    action_services.configure(
        action_services.Services(
            faq=services.faq,
            status=services.status,
            templates=services.templates,
            subscriptions=services.subscriptions,
        )
    )
    rasa = RasaClient(urls=settings.rasa_urls, timeout_s=settings.rasa_timeout_s)
    conversation = RasaConversation(
        rasa=rasa,
        templates=services.templates,
        max_chars=settings.max_message_chars,
        default_lang=settings.default_lang,
    )

    async def health(request: Request) -> Response:
        rasa_ok = await rasa.healthy()
        body = {
            "app": "ok",
            "rasa": "ok" if rasa_ok else "unreachable",
            "faq_entries": len(services.faq.index.entries),
        }
        return JSONResponse(body, status_code=200 if rasa_ok else 503)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    context = ChannelContext(settings=settings, conversation=conversation, services=services)
    web = web_channel(context)  # always on
    channels = [parts for parts in (_load(f)(context) for f in CHANNEL_FACTORIES) if parts]
    background = [
        *services.background,
        *web.background,
        *(t for c in channels for t in c.background),
    ]
    broadcaster = services.broadcaster
    if broadcaster is not None:
        deliverers = [p.deliverer for p in (web, *channels) if p.deliverer is not None]
        worker = DeliveryWorker(broadcaster.outbox, broadcaster.subscriptions, deliverers)
        broadcaster.on_created = worker.wake
        background.extend([worker, broadcaster])

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for task in background:
            await task.start()
        try:
            yield
        finally:
            for task in reversed(background):
                await task.stop()
            await rasa.aclose()

    routes: Sequence[BaseRoute] = [
        Route("/", index),
        Route("/health", health),
        action_route(actions=actions.ALL_ACTIONS, token=settings.action_token),
        *web.routes,
        *services.routes,
        *(route for c in channels for route in c.routes),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=list(routes), lifespan=lifespan)
    app.state.services = services
    app.state.conversation = conversation
    return app


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)
