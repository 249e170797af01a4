"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

It can require AUTH (user and password), refuse recipients with a 550 (a hard
bounce) or defer them with a 451, and is reachable from other processes (the
app started by the end-to-end tests).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

USER = "faro"
PASSWORD = "smtp-test-password"


@dataclass(frozen=True)
class Received:
    """One message the server accepted, parsed."""

    at: float
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, srv: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.server.bounce:
            return "550 5.1.1 User unknown"
        if address.lower() in self.server.defer:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, srv: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.server.lock:
            self.server.received.append(
                Received(
                    time.monotonic(), str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed
                )
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server in a background thread on a free loopback port."""

    def __init__(self, *, auth: bool = True, idle_timeout_s: float = 300.0) -> None:
        self.auth = auth
        self.idle_timeout_s = idle_timeout_s  # the server hangs up on a client idle this long
        self.received: list[Received] = []
        self.logins = 0  # successful AUTHs: one per connection
        self.bounce: set[str] = set()
        self.defer: set[str] = set()
        self.lock = threading.Lock()
        self.port = _free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """What FARO_SMTP_URL should be."""
        if self.auth:
            return f"smtp://{USER}:{PASSWORD}@127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    def _authenticate(
        self, srv: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins += 1
        return AuthResult(success=ok)

    @contextlib.contextmanager
    def running(self) -> Iterator[SmtpServer]:
        """Serve until the block ends."""
        kwargs: dict[str, Any] = {"timeout": self.idle_timeout_s}
        if self.auth:
            kwargs |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._controller.start()
        try:
            yield self
        finally:
            self._controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        """Messages received for ``address``, oldest first."""
        with self.lock:
            return [r.message for r in self.received if address in r.rcpt_tos]

    def wait_for(self, check: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """Block until ``check()`` is true."""
        deadline = time.monotonic() + timeout_s
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for mail")
            time.sleep(0.05)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a message."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    """The HTML part of a message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
