"""``POST /telegram/webhook``: verify Telegram's secret, take the update, answer at once.

Telegram retries any non-2xx answer, so: 403 for a missing or wrong secret
(that is not Telegram), 400 for a body that is not an update (retrying will
not help), 503 when the backlog is full (it will, later), 200 otherwise,
before the turn is processed.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram.channel import BadUpdate, Intake, TelegramChannel
from bot.channels.telegram.store import StoreUnavailable
from bot.http import HttpError, read_json

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 256 * 1024


def webhook_route(*, channel: TelegramChannel, secret: str, path: str = WEBHOOK_PATH) -> Route:
    """The webhook endpoint feeding ``channel``; only requests carrying ``secret`` get in."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            raise HttpError(403, "forbidden")
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        try:
            update = channel.parse(data)
        except BadUpdate as exc:
            raise HttpError(400, str(exc)) from None
        try:
            intake = await channel.accept(update)
        except StoreUnavailable as exc:
            logger.error("Telegram update %s not taken: %s", update.update_id, exc)
            raise HttpError(503, "try again later") from None
        if intake is Intake.FULL:
            raise HttpError(503, "try again later")
        return JSONResponse({"status": intake.value})

    return Route(path, receive, methods=["POST"])
