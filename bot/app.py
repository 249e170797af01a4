"""The ASGI app: web chat, Rasa's action endpoint, health, demo page.

:func:`bot.wiring.build_services` does the slow, fail-fast part (validate
the FAQ, load the encoder, build the index) before a server starts;
:func:`create_app` only assembles routes and background work around those
services, so tests can pass their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.broadcast.delivery import DeliveryWorker
from bot.channels.base import ChannelContext
from bot.core.messages import Conversation
from bot.core.ports import ActionServices, FaqAnswerer, HandoffDesk
from bot.drill.marking import DrillConversation
from bot.http import EXCEPTION_HANDLERS
from bot.rasa.action_server import action_route
from bot.services import AppServices, Background
from bot.wiring import (
    build_channels,
    build_conversation,
    build_web_push,
    change_bus,
    connect_handoffs,
    delivery_worker,
)

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


def create_app(services: AppServices) -> Starlette:
    """Wire the routes of one app process around ``services``."""
    settings = services.settings
    dialogue, rasa = build_conversation(settings, services.templates, services.handoffs)
    conversation: Conversation = dialogue
    faq: FaqAnswerer = services.faq
    handoffs: HandoffDesk | None = services.handoffs
    if services.rhythm is not None:  # the early warning counts what customers ask
        conversation = services.rhythm.watch.observe(conversation)
        faq = services.rhythm.watch.observe_faq(faq)
        if handoffs is not None:  # the question log notes who asked for a person
            handoffs = services.rhythm.watch.observe_handoffs(handoffs)
    if settings.drill.on:  # a drill: everything said is marked as one
        conversation = DrillConversation(conversation, services.templates)
    action_services = ActionServices(
        faq=faq,
        status=services.status,
        templates=services.templates,
        subscriptions=services.subscriptions,
        handoffs=handoffs,
    )

    async def health(request: Request) -> Response:
        rasa_ok = await rasa.healthy()
        body = {
            "app": "ok",
            "rasa": "ok" if rasa_ok else "unreachable",
            "faq_entries": len(services.faq.index.entries),
        }
        if bus is not None:  # how changes reach this replica: pub/sub, or the polls alone
            body["changes"] = "redis" if bus.connected.is_set() else "polling"
        return JSONResponse(body, status_code=200 if rasa_ok else 503)

    # Probes for an orchestrator (deploy/k8s): /healthz (liveness) says the process answers;
    # /readyz (readiness) says it has started and is not stopping. Neither asks Rasa or the
    # database: one replica of those down must not take every app replica out of the load
    # balancer (the app answers "try again in a moment" itself). /health reports them.
    lifecycle = {"ready": False}

    async def healthz(request: Request) -> Response:
        return JSONResponse({"app": "ok"})

    async def readyz(request: Request) -> Response:
        ready = lifecycle["ready"]
        return JSONResponse(
            {"app": "ready" if ready else "starting or stopping"}, status_code=200 if ready else 503
        )

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    web_push = build_web_push(services)
    context = ChannelContext(
        settings=settings, conversation=conversation, services=services, web_push=web_push
    )
    channels = build_channels(context)
    connect_handoffs(services, channels)
    background: list[Background] = [
        *services.background,
        *(task for c in channels for task in c.background),
        delivery_worker(services, channels),
        services.broadcaster,
    ]
    # scale-out: Redis pub/sub wakes the other replicas at once (the polls stay the fallback)
    bus = change_bus(
        services, web_push, next(t for t in background if isinstance(t, DeliveryWorker))
    )
    if bus is not None:
        background.insert(0, bus)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Threads for blocking work (asyncio.to_thread): each FAQ search waits in one for
        # its batch of query embeddings, so a batch can only gather as many questions as
        # there are threads (asyncio's default: 6 on 2 cores), and short database calls
        # queue behind searches meanwhile. Enough for a full batch, and room beside it.
        threads = max(settings.faq.embedding_batch + 8, min(32, (os.cpu_count() or 1) + 4))
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="faro-worker")
        )
        for task in background:
            await task.start()
        lifecycle["ready"] = True
        try:
            yield
        finally:
            lifecycle["ready"] = False
            for task in reversed(background):
                await task.stop()
            await rasa.aclose()

    routes: list[BaseRoute] = [
        Route("/", index),
        Route("/health", health),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        action_route(services=action_services, token=settings.rasa.action_token),
        *services.routes,
        *(route for c in channels for route in c.routes),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS)
    if settings.server.trusted_proxies:
        # The visitor's address and scheme, believed only from these proxies: the rate
        # limits, the sign-in throttle and the Secure cookie flag all read request.client
        # and request.url.scheme. (uvicorn's own proxy handling is off: see run_uvicorn.)
        app.add_middleware(
            ProxyHeadersMiddleware,
            trusted_hosts=list(settings.server.trusted_proxies),
        )
    app.state.services = services
    app.state.conversation = conversation
    app.state.web_push = web_push
    return app
