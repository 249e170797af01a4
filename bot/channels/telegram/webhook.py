"""``POST /telegram/webhook``: verify Telegram's secret, take the update, answer at once.

Telegram retries any non-2xx answer, so: 403 for a missing or wrong secret
(that is not Telegram), 400 for a body that is not an update (retrying will
not help), 503 when the backlog is full (it will, later), 200 otherwise,
before the turn is processed.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram.channel import BadUpdate, Intake, TelegramChannel
from bot.channels.telegram.store import StoreUnavailable
from bot.http_body import BadContentLength, BodyTooLarge, read_limited

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
            return _answer(403, "forbidden")
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
            update = channel.parse(json.loads(body))
        except BodyTooLarge:
            return _answer(413, "update too large")
        except (BadContentLength, ValueError, UnicodeDecodeError):
            return _answer(400, "body must be JSON")
        except BadUpdate as exc:
            return _answer(400, str(exc))
        try:
            intake = await channel.accept(update)
        except StoreUnavailable as exc:
            logger.error("Telegram update %s not taken: %s", update.update_id, exc)
            return _answer(503, "try again later")
        if intake is Intake.FULL:
            return _answer(503, "try again later")
        return _answer(200, intake.value)

    return Route(path, receive, methods=["POST"])


def _answer(status: int, message: str) -> Response:
    key = "status" if status == 200 else "error"
    return JSONResponse({key: message}, status_code=status)
