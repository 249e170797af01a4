"""A loopback Slack: a mock Web API server and requests signed as Slack signs them.

In the manner of slack-bolt's ``tests/mock_web_api_server``: real HTTP on
127.0.0.1, a log of every call (with the time it arrived), and scripted
failures (a 429 with ``Retry-After``, an ``ok: false`` error, a 503).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_TOKEN = "xoxb-1111-2222-faketesttoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APP_TOKEN = "xapp-1-A111-2222-faketestapptoken"
TEAM_ID = "T0NORTHWD"
BOT_USER_ID = "U0FAROBOT"
BOT_ID = "B0FAROBOT"


@dataclass(frozen=True)
class Call:
    """One request the mock received."""

    at: float  # time.monotonic() on arrival
    method: str  # "chat.postMessage", or "response_url" for responses to slash commands
    body: dict[str, Any]
    authorization: str | None
    status: int


@dataclass
class Script:
    """How the next ``times`` calls of one method fail."""

    status: int = 429
    retry_after: int | None = 1
    error: str | None = None
    times: int = 1


@dataclass
class MockSlackApi:
    """The Slack Web API on loopback (start with :func:`running_slack_api`)."""

    token: str = BOT_TOKEN
    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, list[Script]] = field(default_factory=dict)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        """The Web API base URL (what FARO_SLACK_API_URL is set to)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        """A ``response_url`` for slash commands and button presses that lands here."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def fail(self, method: str, script: Script) -> None:
        """Make the next ``script.times`` calls of ``method`` fail as scripted."""
        with self._lock:
            self.scripts.setdefault(method, []).append(script)

    def of(self, method: str) -> list[Call]:
        """Calls of one method, in order of arrival."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout_s: float = 15.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` arrived; return them."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = [c for c in self.of(method) if c.status == 200]
            if len(done) >= count:
                return done
            time.sleep(0.02)
        raise AssertionError(f"{method}: wanted {count} calls, got {self.of(method)}")

    # --- request handling (server threads) ----------------------------------------

    def handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """Answer one request like Slack does."""
        auth = headers.get("Authorization")
        body = _parse(headers.get("Content-Type", ""), raw)
        if path.startswith("/response/"):
            return self._log("response_url", body, auth, 200, {"ok": True})
        method = path.split("?")[0].removeprefix("/api/")
        with self._lock:
            queue = self.scripts.get(method) or []
            script = queue[0] if queue else None
            if script is not None:
                script.times -= 1
                if script.times <= 0:
                    queue.pop(0)
        if script is not None:
            extra = {"Retry-After": str(script.retry_after)} if script.retry_after else {}
            error = script.error or ("ratelimited" if script.status == 429 else "fatal_error")
            return self._log(
                method, body, auth, script.status, {"ok": False, "error": error}, extra
            )
        if auth != f"Bearer {self.token}":
            return self._log(method, body, auth, 200, {"ok": False, "error": "invalid_auth"})
        return self._log(method, body, auth, 200, self._answer(method, body))

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://northwind.slack.com/",
                "team": "Northwind",
                "user": "faro",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = body.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            message = {k: body[k] for k in ("text", "blocks") if k in body}
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": body.get("channel"), "is_im": True}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
        if method.startswith("views."):
            return {"ok": True, "view": {"id": "V0001"}}
        return {"ok": False, "error": "unknown_method"}

    def _log(
        self,
        method: str,
        body: dict[str, Any],
        auth: str | None,
        status: int,
        answer: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.calls.append(Call(time.monotonic(), method, body, auth, status))
        return (
            status,
            {"Content-Type": "application/json", **(headers or {})},
            json.dumps(answer).encode(),
        )


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return dict(json.loads(raw))
    return {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}


@contextmanager
def running_slack_api(token: str = BOT_TOKEN) -> Iterator[MockSlackApi]:
    """A :class:`MockSlackApi` serving on a free loopback port for the block's duration."""
    api = MockSlackApi(token=token)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, payload = api.handle(self.path, self.headers, raw)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


# --- requests as Slack sends them -----------------------------------------------------


def signature(body: bytes, *, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``, as Slack computes it."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes,
    *,
    content_type: str = "application/json",
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    retry_num: int | None = None,
) -> dict[str, str]:
    """The headers Slack sends with ``body`` (and a retry's ``X-Slack-Retry-*``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, timestamp=ts, secret=secret),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


_event_ids = itertools.count(1)


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> bytes:
    """An Events API ``event_callback`` envelope around ``event``."""
    return json.dumps(
        {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "api_app_id": "A0FARO",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    ).encode()


def dm(text: str, *, user: str = "U0CUSTOMER", channel: str = "D0CUSTOMER", **extra: Any) -> bytes:
    """A ``message.im`` event from a person."""
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        "channel": channel,
        "team": TEAM_ID,
        "event_ts": f"{time.time():.6f}",
        **extra,
    }
    return event_callback({k: v for k, v in event.items() if v is not None})


def mention(text: str, *, user: str = "U0CUSTOMER", channel: str = "C0GENERAL") -> bytes:
    """An ``app_mention`` event in a channel (``text`` starts with the bot's mention)."""
    ts = f"{time.time():.6f}"
    return event_callback(
        {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "team": TEAM_ID,
            "event_ts": ts,
        }
    )


def slash_command(text: str, *, response_url: str, user: str = "U0STAFF") -> bytes:
    """A ``/faro`` slash command as Slack posts it (form-encoded)."""
    return urllib.parse.urlencode(
        {
            "token": "verification-token-unused",
            "team_id": TEAM_ID,
            "team_domain": "northwind",
            "channel_id": "C0STAFF",
            "channel_name": "outage-room",
            "user_id": user,
            "user_name": "staffer",
            "command": "/faro",
            "text": text,
            "api_app_id": "A0FARO",
            "response_url": response_url,
            "trigger_id": "1111.2222.abcd",
        }
    ).encode()


def button_press(
    *, value: str, title: str, message: dict[str, Any], response_url: str,
    user: str = "U0CUSTOMER", channel: str = "D0CUSTOMER", action_id: str = "faro_choice:0",
) -> bytes:  # fmt: skip
    """A ``block_actions`` payload for a press of one of the bot's buttons (form-encoded)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0FARO",
        "team": {"id": TEAM_ID, "domain": "northwind"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel},
        "trigger_id": "1111.2222.efgh",
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": title},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def post_signed(client: Any, body: bytes, *, form: bool = False, **header_options: Any) -> Any:
    """POST ``body`` to ``/slack/events`` with Slack's signature headers."""
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = signed_headers(body, content_type=content_type, **header_options)
    return client.post("/slack/events", content=body, headers=headers)
