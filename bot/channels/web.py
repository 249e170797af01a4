"""The website chat channel: a JSON endpoint the demo page (and widget) talk to.

Sessions are issued by the server and signed, so a browser cannot join
another visitor's conversation by naming its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.conversation import BotMessage, Conversation, Turn
from bot.http_body import BadContentLength, BodyTooLarge, read_limited

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024


class SessionSigner:
    """Issues and verifies opaque session tokens: ``<random id>.<mac>``."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"faro-web-session:" + secret.encode()).digest()

    def issue(self) -> str:
        """A new unguessable session token."""
        sid = secrets.token_urlsafe(18)
        return f"{sid}.{self._mac(sid)}"

    def verify(self, token: str) -> str | None:
        """The session id inside ``token``, or None when it was not issued here."""
        sid, _, mac = token.partition(".")
        if not sid or not mac or len(token) > 200 or not token.isascii():
            return None
        return sid if hmac.compare_digest(mac, self._mac(sid)) else None

    def _mac(self, sid: str) -> str:
        digest = hmac.new(self._key, sid.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def chat_routes(*, conversation: Conversation, signer: SessionSigner) -> list[Route]:
    """Routes of the web chat: ``POST /api/chat``."""

    async def chat(request: Request) -> Response:
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return _error(413, "message too large")
        except BadContentLength:
            return _error(400, "invalid Content-Length")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "body must be JSON")
        if not isinstance(data, dict):
            return _error(400, "body must be a JSON object")
        text, payload, lang, token = (data.get(k) for k in ("text", "payload", "lang", "session"))
        if not all(v is None or isinstance(v, str) for v in (text, payload, lang, token)):
            return _error(400, "text, payload, lang and session must be strings")
        sid = signer.verify(token) if token else None
        if sid is None:
            token = signer.issue()
            sid = signer.verify(token)
        turn = Turn(
            conversation_id=f"web:{sid}",
            channel="web",
            text=text or "",
            lang=lang or None,
            payload=payload or None,
        )
        messages = await conversation.handle(turn)
        return JSONResponse({"session": token, "messages": [_render(m) for m in messages]})

    return [Route("/api/chat", chat, methods=["POST"])]


def _render(message: BotMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"text": message.text}
    if message.buttons:
        out["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
    if message.custom:
        out["custom"] = message.custom
    return out


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
