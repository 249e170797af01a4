"""A real web channel on 127.0.0.1 (uvicorn in a thread) with a scripted conversation.

Serves the widget and the sample page from bot/static, and the channel's
routes exactly as the app wires them, so the browser talks real HTTP and SSE.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.app import STATIC_DIR
from bot.channels.web import SessionSigner, WebOptions, chat_routes
from bot.channels.web_banner import StatusBanner
from bot.channels.web_guard import OriginPolicy, WebGuard
from bot.channels.web_history import WebHistory
from bot.channels.web_push import PushHub
from bot.core.messages import BotMessage, Button, Phase, StatusCard, Turn
from bot.db import Database

XSS_TEXTS = (
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "<script>window.__pwned=2;alert(2)</script>",
    "[click me](javascript:window.__pwned=3;alert(3))",
    "[data](data:text/html,<script>alert(4)</script>) and **<b onclick=alert(5)>bold</b>**",
)


@dataclass
class ScriptedConversation:
    """Answers by keyword, like the real bot would shape its replies."""

    turns: list[Turn] = field(default_factory=list)

    async def handle(self, turn: Turn) -> list[BotMessage]:
        self.turns.append(turn)
        text = turn.text.lower()
        await asyncio.sleep(0.5)  # long enough to see the typing indicator
        if turn.payload == "/request_human":
            return [BotMessage("You can reach a person at **0800 123 456**.")]
        if "xss" in text:
            first, *rest = XSS_TEXTS
            return [BotMessage(first, buttons=(Button(first, first),)), *map(BotMessage, rest)]
        if "notify" in text:
            return [
                BotMessage(
                    "Would you like a message here when this changes?",
                    buttons=(Button("Yes, notify me", "/subscribe"),),
                )
            ]
        if "card" in text:
            return [
                BotMessage(
                    "Card payments are *failing* for some customers.\n"
                    "Details: https://status.northwind.example/incidents/1 "
                    "or [our status page](https://status.northwind.example)."
                )
            ]
        return [
            BotMessage(
                "I'm not sure I can answer that.",
                buttons=(Button("Talk to a person", "/request_human"),),
            )
        ]


@dataclass
class FakeStatus:
    """The status service port with a settable reply."""

    reply: BotMessage = field(
        default_factory=lambda: BotMessage("All good.", status=StatusCard(Phase.ALL_OPERATIONAL))
    )

    def status_reply(self, text: str, lang: str, *, eta: bool = False) -> BotMessage:
        return self.reply


def incident(text: str, phase: str = "investigating") -> BotMessage:
    """A status reply for an open incident."""
    return BotMessage(text, status=StatusCard(Phase(phase), incident_id="inc1"))


@dataclass
class WidgetServer:
    """Handles on the running server."""

    url: str
    hub: PushHub
    status: FakeStatus
    banner: StatusBanner
    conversation: ScriptedConversation
    loop: asyncio.AbstractEventLoop

    def drop_streams(self) -> None:
        """End every open stream and refuse new ones until :meth:`accept_streams`."""
        asyncio.run_coroutine_threadsafe(self.hub.stop(), self.loop).result(timeout=5)

    def accept_streams(self) -> None:
        """Accept streams again."""
        asyncio.run_coroutine_threadsafe(self.hub.start(), self.loop).result(timeout=5)

    def set_status(self, reply: BotMessage) -> None:
        """Change the status and tell open widgets (what LiveStatus.accept triggers)."""
        self.status.reply = reply
        self.banner.invalidate()
        self.hub.banner_changed()


def _page(title: str, lang: str, attrs: str = "") -> str:
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1>"
        f'<script src="/static/widget.js" data-title="Test Bank" {attrs} defer></script>'
        "</body></html>"
    )


@contextmanager
def widget_server(
    db: Path,
    *,
    session_per_minute: int = 1000,
    ip_per_minute: int = 10_000,
    poll_s: float = 1.0,
) -> Iterator[WidgetServer]:
    """Serve the channel with a scripted conversation on a free loopback port."""
    history = WebHistory(Database.open(f"sqlite:///{db}").engine)
    hub = PushHub(history, poll_s=poll_s)
    status = FakeStatus()
    banner = StatusBanner(status, ttl_s=0.0)
    conversation = ScriptedConversation()

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html")

    async def page(request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        return HTMLResponse(_page("Sample page", lang, request.query_params.get("attrs", "")))

    routes = [
        Route("/", index),
        Route("/page", page),
        *chat_routes(
            conversation=conversation,
            signer=SessionSigner("widget-tests"),
            history=history,
            hub=hub,
            guard=WebGuard(session_per_minute=session_per_minute, ip_per_minute=ip_per_minute),
            origins=OriginPolicy(),
            banner=banner,
            options=WebOptions(),
        ),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        Starlette(routes=routes),
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="widget-server", daemon=True)
    thread.start()
    task = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), loop)
    try:
        while not server.started:
            if task.done():
                task.result()
            threading.Event().wait(0.01)
        yield WidgetServer(f"http://127.0.0.1:{port}", hub, status, banner, conversation, loop)
    finally:
        asyncio.run_coroutine_threadsafe(hub.stop(), loop).result(timeout=5)
        server.should_exit = True
        task.result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        sock.close()
        history.dispose()
