"""A loopback stand-in for Rasa's REST channel, served for real on 127.0.0.1.

``FakeRasa`` listens on one port per replica (``replicas=N``), records every
request (with the replica it reached) and answers ``replies``, or what
``respond(request)`` returns: a Starlette response, :data:`HANG_UP` (the
connection is cut mid-answer), or a coroutine giving either (to be slow).

Async use::

    async with FakeRasa(replies=[{"text": "Hi"}]) as rasa:
        client = rasa.client()

Sync use (a TestClient app in this thread)::

    with FakeRasa().running() as rasa:
        ...
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.rasa.client import RasaClient
from tests.helpers.loopback import LoopbackServer

HANG_UP = object()
"""Returned by ``respond``: send the status line and headers, then close the connection."""

Answer = Response | object
Responder = Callable[["RasaRequest"], Answer | Awaitable[Answer]]


@dataclass(frozen=True)
class RasaRequest:
    """One request a fake replica received."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes

    @property
    def host(self) -> str:
        """``host:port`` of the replica that received it."""
        return urlsplit(self.url).netloc

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.content)


class FakeRasa(LoopbackServer):
    """Rasa's REST webhook and root URL on ``replicas`` loopback ports."""

    thread_name = "fake-rasa"

    def __init__(
        self,
        *,
        replies: list[dict[str, Any]] | None = None,
        respond: Responder | None = None,
        replicas: int = 1,
    ) -> None:
        super().__init__()
        self.replies = list(replies or [])
        self.respond = respond
        self.replicas = replicas
        self.requests: list[RasaRequest] = []
        self._sockets: list[socket.socket] = []
        self._urls: tuple[str, ...] = ()
        self._lock = threading.Lock()

    @property
    def urls(self) -> tuple[str, ...]:
        """One base URL per replica (from :meth:`start` on)."""
        if not self._urls:
            raise RuntimeError("server not started")
        return self._urls

    @property
    def url(self) -> str:
        """The first replica's base URL."""
        return self.urls[0]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the POSTs Rasa received, in order."""
        return [r.json() for r in self.requests if r.method == "POST"]

    def client(self, urls: tuple[str, ...] | None = None, *, timeout_s: float = 2.0) -> RasaClient:
        """A :class:`RasaClient` for these replicas (or ``urls``)."""
        return RasaClient(urls=urls or self.urls, timeout_s=timeout_s)

    async def start(self) -> None:
        """Listen on one free loopback port per replica and serve in this event loop."""
        for _ in range(self.replicas):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            self._sockets.append(sock)
        self._socket = self._sockets[0]
        self._urls = tuple(f"http://127.0.0.1:{s.getsockname()[1]}" for s in self._sockets)
        config = uvicorn.Config(self._app(), log_level="critical", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=self._sockets))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving and close every socket."""
        await super().stop()
        for sock in self._sockets:
            sock.close()
        self._sockets = []

    def _app(self) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            content = b""
            while True:
                message = await receive()
                content += message.get("body", b"")
                if not message.get("more_body"):
                    break
            host, port = scope["server"]
            query = scope.get("query_string", b"").decode("latin-1")
            request = RasaRequest(
                method=scope["method"],
                url=f"http://{host}:{port}{scope['path']}" + (f"?{query}" if query else ""),
                headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
                content=content,
            )
            with self._lock:
                self.requests.append(request)
            answer = await self._answer(request)
            if answer is HANG_UP:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [(b"content-length", b"1000")],
                    }
                )
                await send({"type": "http.response.body", "body": b"[{", "more_body": True})
                raise ConnectionAbortedError("FakeRasa hangs up")  # uvicorn closes the socket
            assert isinstance(answer, Response)
            await answer(scope, receive, send)

        return app

    async def _answer(self, request: RasaRequest) -> Answer:
        if self.respond is not None:
            answer = self.respond(request)
            return await answer if inspect.isawaitable(answer) else answer
        if request.method == "GET":
            return PlainTextResponse("Hello from Rasa: 3.6.21")
        sender = request.json()["sender"]
        return JSONResponse([{"recipient_id": sender, **r} for r in self.replies])


def closed_port_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"
