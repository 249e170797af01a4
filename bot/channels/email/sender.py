"""Sends update emails over SMTP (aiosmtplib): the outbox's email :class:`Deliverer`.

SMTP replies become the outbox's outcomes: a 5xx on the recipient (unknown
user, mailbox gone) is a hard bounce, ``RecipientGone``, which retires the
address; 4xx replies and connection trouble are temporary; other 5xx replies
are permanent failures. Bounces that arrive later as mail (DSNs): ``bounces``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

import aiosmtplib

from bot.broadcast.delivery import PermanentFailure, RecipientGone, TemporaryFailure
from bot.channels.contact.addresses import mask
from bot.channels.contact.links import Links
from bot.channels.contact.pace import Pacer
from bot.channels.email.render import RenderError, render_email
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SmtpServer:
    """Where and how to hand mail over."""

    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    tls: bool = False  # implicit TLS (smtps); otherwise STARTTLS when the server offers it
    timeout_s: float = 30.0
    tls_context: ssl.SSLContext | None = field(default=None, repr=False)


class SmtpSender:
    """Hands messages to the SMTP server over a few kept-open connections, paced.

    A connection is reused for the next message (one connect, TLS handshake and
    login for many messages, as providers ask); one that failed is dropped.
    """

    def __init__(
        self,
        server: SmtpServer,
        *,
        rate_per_s: float,
        connections: int = 4,
        max_idle_s: float = 10.0,
    ) -> None:
        self.server = server
        self.pacer = Pacer(rate_per_s)
        # kept connections with when each was last used: servers hang up on idle
        # clients (often silently), so one idle longer than max_idle_s is not reused
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._slots = asyncio.Semaphore(connections)
        self._max_idle_s = max_idle_s

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``; raises aiosmtplib's errors (mapped by the deliverer)."""
        await self.pacer.wait()
        async with self._slots:
            client = await self._kept()
            reused = client is not None
            if client is None:
                client = await self._connect()
            try:
                await client.send_message(message)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                await _close(client)
                if not reused:
                    raise
                # the server closed a kept connection while it was idle: once more, anew
                client = await self._connect()
                try:
                    await client.send_message(message)
                except BaseException:
                    await _close(client)
                    raise
            except BaseException:
                await _close(client)
                raise
            self._idle.append((client, time.monotonic()))

    async def _kept(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            client, used = self._idle.pop()
            if client.is_connected and time.monotonic() - used < self._max_idle_s:
                return client
            await _close(client)
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.server
        client = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            use_tls=s.tls,
            start_tls=None if not s.tls else False,  # None: upgrade when offered
            timeout=s.timeout_s,
            tls_context=s.tls_context,
        )
        await client.connect()
        if s.username and s.password:
            try:
                await client.login(s.username, s.password)
            except BaseException:
                await _close(client)
                raise
        return client

    async def aclose(self) -> None:
        """Say QUIT on the kept connections."""
        idle, self._idle = self._idle, []
        for client, _used in idle:
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):
        if client.is_connected:
            await client.quit()
    with contextlib.suppress(Exception):
        client.close()


class EmailDeliverer:
    """Renders a broadcast text as an email for one address and sends it."""

    channel = "email"

    def __init__(
        self,
        sender: SmtpSender,
        *,
        from_address: str,
        templates: TemplateStore,
        links: Links,
        concurrency: int = 4,
        on_gone: Callable[[str, str], None] | None = None,
    ) -> None:
        self.sender = sender
        self.from_address = from_address
        self.templates = templates
        self.links = links
        self.concurrency = concurrency
        self.on_gone = on_gone  # (address, reason): a hard bounce, for the subscribe audit

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Send ``text`` to ``address``; raises the outbox's failure for SMTP's answer."""
        try:
            message = render_email(
                text=text,
                lang=lang,
                to=address,
                sender=self.from_address,
                templates=self.templates,
                unsubscribe_url=self.links.unsubscribe_url("email", address),
                ref=ref or text,
            )
        except (RenderError, ValueError) as exc:
            raise PermanentFailure(f"not sendable: {exc}") from None
        try:
            await self.sender.send(message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [err.code for err in exc.recipients]
            reason = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)[:200]
            if codes and all(500 <= c < 600 for c in codes):
                logger.info("email to %s bounced: %s", mask(address), reason)
                await _tell(self.on_gone, address, f"hard bounce: {reason}")
                raise RecipientGone(f"hard bounce: {reason}") from None
            raise TemporaryFailure(f"recipient deferred: {reason}") from None
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.code} {exc.message}"[:200]
            if 500 <= exc.code < 600:
                raise PermanentFailure(reason) from None
            raise TemporaryFailure(reason) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {type(exc).__name__}") from None


async def _tell(on_gone: Callable[[str, str], None] | None, address: str, reason: str) -> None:
    """Record that ``address`` is gone (the subscribe audit); a failure there is only logged."""
    if on_gone is None:
        return
    try:
        await asyncio.to_thread(on_gone, address, reason)
    except Exception:  # the row is still retired by the delivery worker
        logger.exception("could not record that %s is gone", mask(address))
