"""The Statuspage webhook receiver: a Starlette route guarded by a secret path token."""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.http import HttpError, read_json
from bot.status.errors import WebhookError
from bot.status.live import LiveStatus
from bot.status.webhooks import check_webhook

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/status/webhook/{token}"
MAX_WEBHOOK_BYTES = 1_000_000
MIN_TOKEN_LENGTH = 16


def webhook_route(live: LiveStatus, *, token: str, path: str = WEBHOOK_PATH) -> Route:
    """A POST route applying Statuspage webhooks to ``live``; wrong token 403, garbage 400."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the status webhook token must be at least {MIN_TOKEN_LENGTH} characters")
    if "{token}" not in path:
        raise ValueError("the status webhook path must contain {token}")
    expected = token.encode("utf-8")

    async def receive(request: Request) -> Response:
        given = str(request.path_params.get("token", "")).encode("utf-8")
        if not hmac.compare_digest(given, expected):
            # The path holds the secret: log neither the path nor the token.
            logger.warning("status webhook refused: wrong token from %s", _client(request))
            raise HttpError(403, "forbidden")
        payload = await read_json(request, max_bytes=MAX_WEBHOOK_BYTES)
        try:
            live.apply_webhook(check_webhook(payload))
        except WebhookError as exc:
            logger.warning("status webhook rejected: %s", exc)
            raise HttpError(400, str(exc)) from None
        return JSONResponse({"ok": True})

    return Route(path, receive, methods=["POST"], name="status_webhook")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown client"


class TokenRedactingFilter(logging.Filter):
    """Hides the webhook token in other loggers' lines (install on ``uvicorn.access``)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the token in the record's message and arguments; always keep the record."""
        if isinstance(record.msg, str) and self._token in record.msg:
            record.msg = record.msg.replace(self._token, "<token>")
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.replace(self._token, "<token>") if isinstance(a, str) else a for a in record.args
            )
        return True
