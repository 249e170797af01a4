"""A loopback fake of Twilio's Messages API, speaking its real request format and errors.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded ``To``,
``From``, ``Body``, HTTP basic auth (account SID, auth token). Answers 201 with
a message resource; errors as Twilio sends them: ``{"code", "message",
"more_info", "status"}`` (401 code 20003 bad credentials, 400 code 21211
invalid To, 400 code 21610 unsubscribed recipient, 429 code 20429 too many
requests). It can enforce a rate (``max_per_s``: a 429 for a request that would
make more than ``max_per_s`` accepted in the last second).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.loopback import LoopbackServer

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "twilio-test-auth-token-0123456789"
FROM = "+15005550006"


@dataclass(frozen=True)
class SmsCall:
    """One request the fake received."""

    at: float
    status: int
    to: str
    sender: str
    body: str
    code: int | None = None


class FakeTwilio(LoopbackServer):
    """Twilio's Messages API on a loopback port."""

    thread_name = "twilio-fake"

    def __init__(
        self,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str = AUTH_TOKEN,
        max_per_s: float | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.max_per_s = max_per_s
        self.calls: list[SmsCall] = []
        self.stopped: set[str] = set()  # numbers that replied STOP (21610)
        self.fail_next_429 = 0
        self._recent: deque[float] = deque()  # times of the last second's accepted requests

    @property
    def url(self) -> str:
        """What FARO_TWILIO_API_URL should be."""
        return f"http://127.0.0.1:{self.port}"

    def accepted(self, to: str | None = None) -> list[SmsCall]:
        """Messages accepted (201), to one number or all."""
        return [c for c in self.calls if c.status == 201 and (to is None or c.to == to)]

    def wait_for(self, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """Block until ``check()`` is true."""
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls: {self.calls[-5:]}")
            time.sleep(0.05)

    def _error(
        self, status: int, code: int, message: str, call: dict[str, Any], **headers: str
    ) -> Response:
        self.calls.append(SmsCall(time.monotonic(), status, code=code, **call))
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return JSONResponse(body, status_code=status, headers=headers or None)

    async def _messages(self, request: Request) -> Response:
        sid = request.path_params["sid"]
        auth = request.headers.get("authorization", "")
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        form = dict(parse_qsl((await request.body()).decode("utf-8")))
        call: dict[str, Any] = {
            "to": form.get("To", ""),
            "sender": form.get("From", ""),
            "body": form.get("Body", ""),
        }
        if sid != self.account_sid or auth != expected:
            return self._error(401, 20003, "Authentication Error - invalid username", call)
        if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return self._error(400, 20001, "Content-Type must be form-encoded", call)
        if not call["body"]:
            return self._error(400, 21602, "Message body is required.", call)
        if not call["to"].startswith("+") or not call["to"][1:].isdigit():
            return self._error(400, 21211, f"The 'To' number {call['to']} is not valid.", call)
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        too_soon = self.max_per_s is not None and len(self._recent) >= self.max_per_s
        if self.fail_next_429 > 0 or too_soon:
            self.fail_next_429 = max(0, self.fail_next_429 - 1)
            return self._error(429, 20429, "Too Many Requests", call)
        if call["to"] in self.stopped:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient", call)
        self._recent.append(now)
        self.calls.append(SmsCall(now, 201, **call))
        return JSONResponse(
            {
                "sid": "SM" + uuid.uuid4().hex,
                "account_sid": self.account_sid,
                "to": call["to"],
                "from": call["sender"],
                "body": call["body"],
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": None,
                "error_message": None,
            },
            status_code=201,
        )

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._messages, methods=["POST"])
            ]
        )
