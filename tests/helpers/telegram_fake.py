"""A loopback fake of the Telegram Bot API, so python-telegram-bot runs unmodified against it.

Serves ``/bot<token>/<method>`` on 127.0.0.1 (uvicorn + Starlette) the way
api.telegram.org does: form or JSON parameters in, ``{"ok": ..., "result"
| "error_code", "description", "parameters"}`` out. Implements getMe,
setWebhook, deleteWebhook, getWebhookInfo, getUpdates (long polling),
sendMessage (HTML entities checked, 4096-unit and 64-byte callback data
limits enforced as Telegram does), editMessageReplyMarkup and
answerCallbackQuery. Every call is logged with its arrival time; failures
can be scripted (429 with ``retry_after``, 5xx) and chats blocked (403).

Builders of the updates Telegram sends are in ``telegram_builders``.
Async use: ``async with FakeBotApi() as api: ...``; sync use (beside a
stack in other processes): ``with FakeBotApi().running() as api: ...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.loopback import LoopbackServer

TOKEN = "123456789:AAFakeTokenForTestsOnly-x1y2z3"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Faro",
    "username": "faro_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_TAGS = "b|strong|i|em|u|ins|s|strike|del|a|code|pre|tg-spoiler|span|blockquote|tg-emoji"
_TAG = re.compile(rf"</?({_TAGS})(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class ApiCall:
    """One request the fake answered."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int


@dataclass(frozen=True)
class Failure:
    """A scripted error answer."""

    status: int = 429
    retry_after: int | None = 1
    description: str | None = None


class ApiError(Exception):
    """An error answer (Telegram's JSON error shape)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class FakeBotApi(LoopbackServer):
    """The Bot API of one bot (``token``), in memory, over real HTTP."""

    thread_name = "fake-bot-api"

    def __init__(self, token: str = TOKEN, *, enforce_retry_after: bool = False) -> None:
        super().__init__()
        self.token = token
        # Like Telegram: after a 429, sendMessage keeps answering 429 until retry_after passed.
        self.enforce_retry_after = enforce_retry_after
        self._paused_until = 0.0
        self.calls: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._script: dict[str, deque[Failure]] = defaultdict(deque)
        self._next_message_id = 1
        self._lock = threading.Lock()

    # --- scripting and inspection ------------------------------------------------
    def fail_next(self, method: str, times: int = 1, failure: Failure | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with ``failure`` (default: 429, 1 s)."""
        with self._lock:
            self._script[method].extend([failure or Failure()] * times)

    def block(self, chat_id: int) -> None:
        """Behave as if the user of ``chat_id`` blocked the bot."""
        self.blocked.add(chat_id)

    def push_update(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to getUpdates."""
        with self._lock:
            self._updates.append(update)

    def calls_of(self, method: str, *, ok: bool | None = None) -> list[ApiCall]:
        """Logged calls of ``method`` (only answered 200 when ``ok``, only failed when not)."""
        with self._lock:
            calls = [c for c in self.calls if c.method == method]
        if ok is None:
            return calls
        return [c for c in calls if (c.status == 200) == ok]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages delivered (sendMessage answered 200), oldest first, as Telegram stored them."""
        return [
            c.params
            for c in self.calls_of("sendMessage", ok=True)
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def shown(self, chat_id: int) -> list[str]:
        """What the user of ``chat_id`` sees, oldest first (entities parsed, as Telegram shows)."""
        with self._lock:
            kept = sorted((mid, m) for (cid, mid), m in self.messages.items() if cid == chat_id)
        return [m["text"] for _, m in kept]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """Block until ``predicate()`` holds; AssertionError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the fake Bot API never saw what the test waited for")
            time.sleep(0.02)

    async def wait_for_async(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        """:meth:`wait_for` for async tests (does not block the loop)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the fake Bot API never saw what the test waited for")
            await asyncio.sleep(0.02)

    @property
    def url(self) -> str:
        """The API server's base URL (what FARO_TELEGRAM_API_URL is set to)."""
        if self._socket is None:
            raise RuntimeError("the fake is not running")
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    # --- HTTP -------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        at = time.monotonic()
        method = request.path_params["method"]
        params: dict[str, Any] = {}
        status, body = 200, {}
        try:
            params = await _params(request)
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            with self._lock:
                scripted = self._script[method].popleft() if self._script[method] else None
            if (
                self.enforce_retry_after
                and method == "sendMessage"
                and scripted is None
                and at < self._paused_until
            ):
                raise ApiError(
                    429, "Too Many Requests: retry later", max(1, round(self._paused_until - at))
                )
            if scripted is not None:
                if scripted.status == 429 and scripted.retry_after:
                    self._paused_until = max(self._paused_until, at + scripted.retry_after)
                raise ApiError(
                    scripted.status,
                    scripted.description or _default_description(scripted),
                    scripted.retry_after,
                )
            handler = getattr(self, "_m_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            body = {"ok": True, "result": result}
        except ApiError as exc:
            status = exc.status
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
        with self._lock:
            self.calls.append(ApiCall(method=method, params=params, at=at, status=status))
        return JSONResponse(body, status_code=status)

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(BOT_USER)

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not str(params.get("url", "")).startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = {
            "url": params["url"],
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
        }
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if _flag(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )  # fmt: skip
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 10.0)
        while True:
            with self._lock:
                # Asking from an offset confirms (forgets) every earlier update.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        text = str(params.get("text", ""))
        visible = _visible(text) if params.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(visible.encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        _check_markup(markup)
        with self._lock:
            message_id = self._next_message_id
            self._next_message_id += 1
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "from": dict(BOT_USER),
            "chat": chat_object(chat_id),
            "text": visible,
        }
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message_id)] = message
        return message

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        _check_markup(markup)
        if markup == message.get("reply_markup") or (not markup and "reply_markup" not in message):
            raise ApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old or query ID is invalid")
        return True

    # --- serving ----------------------------------------------------------------
    def _app(self) -> Starlette:
        return Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )


# --- internals -------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            params.update(json.loads(await request.body() or b"{}"))
        elif kind.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        elif kind:  # multipart: only file uploads use it, which the bot never does
            raise ApiError(400, f"Bad Request: the fake does not take {kind.split(';')[0]}")
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _visible(text: str) -> str:
    """The text Telegram shows for HTML ``text``; ApiError where Telegram would refuse it."""
    for match in re.finditer(r"[<&]", text):
        rest = text[match.start() :]
        pattern = _TAG if match.group() == "<" else _ENTITY
        if not pattern.match(rest):
            raise ApiError(
                400, f"Bad Request: can't parse entities: bad {match.group()!r} at {match.start()}"
            )
    return html.unescape(_TAG.sub("", text))


def _check_markup(markup: Any) -> None:
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def chat_object(chat_id: int) -> dict[str, Any]:
    """A Telegram chat object: private for positive ids, a group otherwise."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
    return {"id": chat_id, "type": "group", "title": f"Group{chat_id}"}


def _flag(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _default_description(failure: Failure) -> str:
    if failure.status == 429:
        return f"Too Many Requests: retry after {failure.retry_after}"
    return {403: "Forbidden: bot was blocked by the user", 502: "Bad Gateway"}.get(
        failure.status, "Internal Server Error"
    )
