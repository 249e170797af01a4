"""The website chat channel: the JSON and event-stream API the widget talks to.

Sessions are issued by the server and signed, so a browser cannot join
another visitor's conversation (or read its history) by naming its id.
Every route checks the page's ``Origin`` against the allow-list and answers
CORS for allowed sites; turns are rate-limited per session and per IP.

Routes: ``POST /api/session``, ``POST /api/chat``, ``POST /api/history`` (``GET``
with ``?session=`` still answers, for widgets loaded before), ``POST
/api/stream-ticket``, ``GET /api/events?ticket=`` (server-sent events),
``GET /api/status-banner``.

Sessions end after :attr:`WebOptions.session_idle` without use (rolling). The
session token never travels in a URL: the event stream (which ``EventSource``
can only open by URL) takes a ticket that names the session for a minute.
The app holds at most :attr:`WebOptions.max_streams` open streams.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec
from bot.channels.web_banner import StatusBanner
from bot.channels.web_guard import OriginPolicy, Refusal, WebGuard, cross_origin
from bot.channels.web_history import HistoryError, StoredMessage, WebHistory
from bot.channels.web_push import PushHub, WebAgentChannel, WebDeliverer, event_stream
from bot.core.messages import BotMessage, Conversation, Turn
from bot.db import Database
from bot.http import HttpError, read_json

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
Handler = Callable[[Request], Awaitable[Response]]


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

    def ticket(self, sid: str, *, ttl: timedelta) -> str:
        """A stream ticket for ``sid``, good for ``ttl`` (not a session token: other MAC)."""
        expires = int(time.time() + ttl.total_seconds())
        body = f"{sid}.{expires}"
        return f"{body}.{self._mac('ticket:' + body)}"

    def redeem(self, ticket: str) -> str | None:
        """The session id of a ticket issued here and not expired, else None."""
        if len(ticket) > 200 or not ticket.isascii() or ticket.count(".") != 2:
            return None
        sid, expires, mac = ticket.split(".")
        if not hmac.compare_digest(mac, self._mac(f"ticket:{sid}.{expires}")):
            return None
        return sid if expires.isdigit() and int(expires) >= time.time() else None

    def _mac(self, sid: str) -> str:
        digest = hmac.new(self._key, sid.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(kw_only=True)
class WebOptions:
    """Tunables of the web channel (from Settings in the app)."""

    max_streams_per_session: int = 4
    max_streams: int = 2000  # open event streams in this process, all sessions together
    session_idle: timedelta = timedelta(days=30)  # a session unused this long has ended
    ticket_ttl: timedelta = timedelta(seconds=60)  # how long a stream ticket opens a stream


def chat_routes(
    *,
    conversation: Conversation,
    signer: SessionSigner,
    history: WebHistory | None = None,
    hub: PushHub | None = None,
    guard: WebGuard | None = None,
    origins: OriginPolicy | None = None,
    banner: StatusBanner | None = None,
    options: WebOptions | None = None,
) -> list[Route]:
    """Routes of the web chat; unset parts get defaults (an in-memory history, default limits)."""
    history = history or (hub.history if hub else WebHistory(Database.open("sqlite://").engine))
    hub = hub or PushHub(history)
    guard = guard or WebGuard()
    origins = origins or OriginPolicy()
    options = options or WebOptions()

    def session_of(token: object) -> str | None:
        return signer.verify(token) if isinstance(token, str) and token else None

    async def start(sid: str) -> int:
        return int(await asyncio.to_thread(history.start_session, sid))

    async def resume(sid: str) -> int | None:
        """The session's start id, or None when it has expired (idle too long)."""
        found = await asyncio.to_thread(history.resume_session, sid, idle=options.session_idle)
        return None if found is None else int(found)

    async def live_session(token: object) -> tuple[str, int]:
        """A session that exists and has not expired: ``(sid, start_id)``; else 401."""
        sid = session_of(token)
        if sid is None:
            raise HttpError(401, "unknown session: start a new one with POST /api/session")
        start_id = await resume(sid)
        if start_id is None:
            raise HttpError(401, "session expired: start a new one with POST /api/session")
        return sid, start_id

    async def new_session() -> tuple[str, str]:
        token = signer.issue()
        sid = signer.verify(token)
        assert sid is not None
        await start(sid)
        return token, sid

    def limit(request: Request, sid: str | None = None) -> None:
        refusal = guard.check_session(sid) if sid else guard.check_ip(_ip(request))
        if refusal is not None:
            logger.info("web: rate limit hit (%s)", "session" if sid else "ip")
            raise _refused(refusal)

    async def session(request: Request) -> Response:
        limit(request)
        data = await read_json(request, max_bytes=MAX_BODY_BYTES, required=False)
        sid = session_of(data.get("session"))
        if sid is None or await resume(sid) is None:
            token, sid = await new_session()
        else:
            token = str(data["session"])
        return JSONResponse({"session": token})

    async def chat(request: Request) -> Response:
        limit(request)
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        text, payload, lang, token = (data.get(k) for k in ("text", "payload", "lang", "session"))
        if not all(v is None or isinstance(v, str) for v in (text, payload, lang, token)):
            raise HttpError(400, "text, payload, lang and session must be strings")
        sid = session_of(token)
        if sid is None or await resume(sid) is None:
            token, sid = await new_session()
        limit(request, sid)
        conversation_id = f"web:{sid}"
        asked = [BotMessage(text)] if text else []
        asked_at = datetime.now(UTC)
        turn = Turn(
            conversation_id=conversation_id,
            channel="web",
            text=text or "",
            lang=lang or None,
            payload=payload or None,
        )
        try:
            replies = await conversation.handle(turn)
        except BaseException:  # handle() does not raise; should it, the question is kept
            await _store(history, conversation_id, "user", asked)
            raise
        # one transaction for the turn: the user's message, then the replies
        user, stored = await _store_turn(history, conversation_id, asked, replies, asked_at)
        rendered = [s.to_json() for s in stored] if stored else [_render(m) for m in replies]
        body: dict[str, Any] = {"session": token, "messages": rendered}
        body["user"] = user[0].to_json() if user else None
        # a question and no reply: a person has (or will take) the conversation, and the
        # message went to them (the bot said so when the customer asked for a person)
        body["held"] = bool(asked) and not replies
        return JSONResponse(body)

    async def read_history(request: Request) -> Response:
        limit(request)
        if request.method == "POST":
            data = await read_json(request, max_bytes=MAX_BODY_BYTES)
            sid, start_id = await live_session(data.get("session"))
        else:  # widgets loaded before stream tickets: the token in the query string
            sid, start_id = await live_session(request.query_params.get("session"))
        try:
            rows = await asyncio.to_thread(history.history, f"web:{sid}", start_id=start_id)
        except HistoryError as exc:
            logger.error("web history: %s", exc)
            raise HttpError(503, "the conversation history is unavailable right now") from None
        last = max((r.id for r in rows), default=start_id)
        return JSONResponse({"messages": [r.to_json() for r in rows], "last_id": last})

    async def stream_ticket(request: Request) -> Response:
        limit(request)
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        sid, _ = await live_session(data.get("session"))
        ttl = options.ticket_ttl
        return JSONResponse(
            {"ticket": signer.ticket(sid, ttl=ttl), "expires_in": int(ttl.total_seconds())}
        )

    async def events(request: Request) -> Response:
        limit(request)
        if "session" in request.query_params:
            raise HttpError(
                400, "open the stream with a ticket from POST /api/stream-ticket, not the session"
            )
        sid = signer.redeem(request.query_params.get("ticket") or "")
        if sid is None:
            raise HttpError(
                401, "stream ticket unknown or expired: get one from /api/stream-ticket"
            )
        conversation_id = f"web:{sid}"
        if hub.streams() >= options.max_streams:
            logger.warning("web: refused a live stream: %d open (the cap)", options.max_streams)
            message = "too many people are connected right now: live updates resume shortly"
            raise _refused(Refusal(503, message, 30))
        if hub.streams(conversation_id) >= options.max_streams_per_session:
            raise _refused(Refusal(429, "too many open chat windows for this session", 10))
        after = _cursor(request)
        if after is None:
            raise HttpError(400, "after and Last-Event-ID must be whole numbers")
        start_id = await resume(sid)
        if start_id is None:
            raise HttpError(401, "session expired: start a new one with POST /api/session")
        lang = request.query_params.get("lang")
        sub = hub.subscribe(conversation_id)
        stream = event_stream(
            hub,
            sub,
            after=after,
            start_id=start_id,
            banner=(lambda: banner.current(lang)) if banner else None,
        )
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    async def status_banner(request: Request) -> Response:
        limit(request)
        body = banner.current(request.query_params.get("lang")) if banner else {"active": False}
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(path, _guarded(handler, origins), methods=[method, "OPTIONS"])

    return [
        route("/api/session", session, "POST"),
        route("/api/chat", chat, "POST"),
        route("/api/history", read_history, "POST"),
        route("/api/history", read_history, "GET"),
        route("/api/stream-ticket", stream_ticket, "POST"),
        route("/api/events", events, "GET"),
        route("/api/status-banner", status_banner, "GET"),
    ]


def web_channel(ctx: ChannelContext) -> ChannelParts:
    """The web channel of the app: routes, the push hub and the banner wired to the status."""
    settings = ctx.settings
    hub = ctx.web_push
    banner = StatusBanner(ctx.services.status)

    def status_changed(_snapshot: object) -> None:
        banner.invalidate()
        hub.banner_changed()

    ctx.services.broadcaster.live.subscribe(status_changed)
    routes = chat_routes(
        conversation=ctx.conversation,
        signer=SessionSigner(settings.web.session_secret),
        history=hub.history,
        hub=hub,
        guard=WebGuard(
            session_per_minute=settings.web.rate_per_session,
            ip_per_minute=settings.web.rate_per_ip,
        ),
        origins=OriginPolicy(
            settings.web.allowed_origins, public_origin=settings.server.public_origin
        ),
        banner=banner,
        options=WebOptions(
            max_streams=settings.web.max_streams,
            session_idle=timedelta(days=settings.web.session_idle_days),
        ),
    )
    return ChannelParts(
        routes=list(routes),
        background=[hub],
        deliverer=WebDeliverer(hub),
        agent=WebAgentChannel(hub),
    )


def render_broadcast(text: str) -> tuple[str, ...]:
    """A broadcast as the widget shows it: the composed text as is."""
    return (text,)


WEB = ChannelSpec(name="web", build=web_channel, render=render_broadcast)


def _guarded(handler: Handler, origins: OriginPolicy) -> Handler:
    """A widget route behind :func:`cross_origin`; a history store failure is a 503."""

    async def translated(request: Request) -> Response:
        try:
            return await handler(request)
        except HistoryError as exc:
            logger.error("web history: %s", exc)
            message = "the chat is unavailable right now: try again in a minute"
            raise HttpError(503, message) from None

    return cross_origin(translated, origins, allow_headers="Content-Type, Last-Event-ID")


def _refused(refusal: Refusal) -> HttpError:
    if not refusal.retry_after:
        return HttpError(refusal.status, refusal.message)
    retry = refusal.retry_after
    return HttpError(
        refusal.status, refusal.message, headers={"Retry-After": str(retry)}, retry_after=retry
    )


async def _store(
    history: WebHistory, conversation_id: str, role: str, messages: list[BotMessage]
) -> list[StoredMessage]:
    if not messages:
        return []
    try:
        return list(await asyncio.to_thread(history.append, conversation_id, role, messages))
    except HistoryError as exc:  # the chat still answers; only the reload loses this turn
        logger.error("web history: %s", exc)
        return []


async def _store_turn(
    history: WebHistory,
    conversation_id: str,
    asked: list[BotMessage],
    replies: list[BotMessage],
    asked_at: datetime,
) -> tuple[list[StoredMessage], list[StoredMessage]]:
    if not asked and not replies:
        return [], []
    try:
        return await asyncio.to_thread(
            history.append_turn, conversation_id, asked, replies, asked_at=asked_at
        )
    except HistoryError as exc:  # the chat still answers; only the reload loses this turn
        logger.error("web history: %s", exc)
        return [], []


def _cursor(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _render(message: BotMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "bot", "text": message.text}
    if message.buttons:
        out["buttons"] = [{"title": b.title, "payload": b.payload} for b in message.buttons]
    if message.status is not None:
        out["status"] = message.status.to_json()
    return out
