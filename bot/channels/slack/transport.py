"""How Slack reaches the bolt app: the HTTP Events API route, or Socket Mode."""

from __future__ import annotations

import logging
from typing import Protocol

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.http import HttpError, read_body

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 256 * 1024


def events_route(app: AsyncApp, *, path: str = EVENTS_PATH) -> Route:
    """``POST /slack/events``: events, interactivity and slash commands, through bolt.

    Bolt's Starlette adapter conversions, with the body read under a size cap.
    """

    async def events(request: Request) -> Response:
        raw = await read_body(request, max_bytes=MAX_BODY_BYTES)
        try:
            raw.decode("utf-8")  # bolt decodes it without checking
        except UnicodeDecodeError:
            raise HttpError(400, "body must be UTF-8") from None
        response = await app.async_dispatch(to_async_bolt_request(request, raw))
        return to_starlette_response(response)

    return Route(path, events, methods=["POST"])


class SocketHandler(Protocol):
    """What the runner uses of slack-bolt's (untyped) Socket Mode handler."""

    async def connect_async(self) -> None:
        """Open the connection."""
        ...

    async def close_async(self) -> None:
        """Close the connection."""
        ...


class SocketModeRunner:
    """Keeps a Socket Mode connection open while the app runs (no public URL needed)."""

    def __init__(self, app: AsyncApp, *, app_token: str) -> None:
        self._app = app
        self._app_token = app_token
        self._handler: SocketHandler | None = None

    def make_handler(self) -> SocketHandler:
        """Bolt's Socket Mode handler (needs a running event loop, so made at start)."""
        return AsyncSocketModeHandler(self._app, self._app_token)

    async def start(self) -> None:
        """Open the Socket Mode connection (``apps.connections.open``, then a WebSocket)."""
        self._handler = self.make_handler()
        await self._handler.connect_async()
        logger.info("Slack Socket Mode connected")

    async def stop(self) -> None:
        """Close the connection."""
        if self._handler is not None:
            await self._handler.close_async()
            self._handler = None
