"""Sends update emails over SMTP (aiosmtplib): the outbox's email :class:`Deliverer`.

SMTP replies become the outbox's outcomes: a 5xx on the recipient (unknown
user, mailbox gone) is a hard bounce, ``RecipientGone``, which retires the
address; 4xx replies and connection trouble are temporary; other 5xx replies
are permanent failures. Bounces that arrive later as mail (DSNs) are not read.
"""

from __future__ import annotations

import logging
import ssl
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
    """Hands one message at a time to the SMTP server, paced."""

    def __init__(self, server: SmtpServer, *, rate_per_s: float) -> None:
        self.server = server
        self.pacer = Pacer(rate_per_s)

    async def send(self, message: EmailMessage) -> None:
        """Send ``message``; raises aiosmtplib's errors (mapped by the deliverer)."""
        await self.pacer.wait()
        s = self.server
        await aiosmtplib.send(
            message,
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.tls,
            start_tls=None if not s.tls else False,  # None: upgrade when offered
            timeout=s.timeout_s,
            tls_context=s.tls_context,
        )


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
    ) -> None:
        self.sender = sender
        self.from_address = from_address
        self.templates = templates
        self.links = links
        self.concurrency = concurrency

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
                raise RecipientGone(f"hard bounce: {reason}") from None
            raise TemporaryFailure(f"recipient deferred: {reason}") from None
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"SMTP {exc.code} {exc.message}"[:200]
            if 500 <= exc.code < 600:
                raise PermanentFailure(reason) from None
            raise TemporaryFailure(reason) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {type(exc).__name__}") from None
