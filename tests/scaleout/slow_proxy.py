"""A forwarding HTTP proxy on loopback between Rasa and the app's action endpoint, which a
test can make slow (every request waits ``delay_s`` before it is forwarded)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from tests.helpers.loopback import LoopbackServer


class SlowProxy(LoopbackServer):
    """Forwards everything to ``target`` (the load balancer), after ``delay_s``."""

    thread_name = "slow-proxy"

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.delay_s = 0.0
        self.forwarded = 0

    @property
    def url(self) -> str:
        """Where Rasa sends its action calls."""
        return f"http://127.0.0.1:{self.port}"

    def _app(self) -> Any:
        client: httpx.AsyncClient | None = None

        async def forward(request: Request) -> Response:
            nonlocal client
            if client is None:
                client = httpx.AsyncClient(timeout=120)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            try:
                body = await request.body()
            except ClientDisconnect:  # Rasa gave up waiting
                return Response(status_code=499)
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            }
            upstream = await client.request(
                request.method,
                self.target + request.url.path,
                params=request.query_params,
                content=body,
                headers=headers,
            )
            self.forwarded += 1
            return Response(
                upstream.content,
                upstream.status_code,
                media_type=upstream.headers.get("content-type"),
            )

        return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
