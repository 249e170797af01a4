"""Bounces that come back later, as mail: delivery status notifications (RFC 3464).

Many SMTP relays accept a message and only later find the mailbox gone; they
then mail a DSN to the envelope sender. Point that mailbox's delivery at
``POST /email/bounces`` (a pipe to curl, or a provider's inbound-mail webhook
that posts the raw message), with ``Authorization: Bearer
<FARO_EMAIL_BOUNCE_TOKEN>``. A permanent failure (``Action: failed`` with a
``5.x.x`` status) retires the address, as a 5xx at send time does; it is
recorded in the subscriber's audit and, when the DSN returns the update's
``Message-ID``, on that delivery's outbox row (so the broadcast's audit shows
it). Delays and temporary failures (``4.x.x``) change nothing.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import logging
from dataclasses import dataclass
from email.message import EmailMessage, Message

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.broadcast.outbox import Outbox
from bot.broadcast.subscriptions import SubscriptionStore
from bot.channels.contact.addresses import AddressError, mask, normalize_email
from bot.channels.contact.store import ContactStore
from bot.channels.email.render import message_id
from bot.http import HttpError, read_body

logger = logging.getLogger(__name__)

BOUNCES_PATH = "/email/bounces"
MAX_DSN_BYTES = 512 * 1024


class DsnError(ValueError):
    """A body that is not a delivery status notification."""


@dataclass(frozen=True, slots=True)
class Bounce:
    """One recipient's line of a DSN."""

    address: str  # as the DSN spells it (checked by the caller)
    action: str  # failed | delayed | delivered | relayed | expanded
    status: str  # "5.1.1"
    diagnostic: str  # "smtp; 550 5.1.1 User unknown"

    @property
    def hard(self) -> bool:
        """A permanent failure: the address does not work."""
        return self.action == "failed" and self.status.startswith("5.")


def read_dsn(raw: bytes) -> tuple[list[Bounce], str | None]:
    """The recipients a DSN reports on, and the returned message's Message-ID (if any)."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    report: Message | None = None
    original: str | None = None
    for part in parsed.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status" and report is None:
            report = part
        elif kind == "text/rfc822-headers" and original is None:
            headers = email.message_from_string(_text(part), policy=email.policy.default)
            original = _header(headers, "Message-ID")
        elif kind == "message/rfc822" and original is None:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                original = _header(inner[0], "Message-ID")
    if report is None:
        raise DsnError("not a delivery status notification (no message/delivery-status part)")
    blocks = report.get_payload()
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise DsnError("the delivery status part names no recipient")
    bounces = []
    for block in blocks[1:]:  # the first block is about the message, the others one recipient
        if not isinstance(block, Message):
            continue
        recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
        if not recipient:
            continue
        _, _, address = recipient.partition(";")
        status = (_header(block, "Status") or "").split()
        bounces.append(
            Bounce(
                address=(address or recipient).strip().strip("<>"),
                action=(_header(block, "Action") or "").lower(),
                status=status[0] if status else "",
                diagnostic=(_header(block, "Diagnostic-Code") or "")[:200],
            )
        )
    return bounces, original


def _header(message: Message, name: str) -> str | None:
    value = message.get(name)
    return " ".join(str(value).split()) if value is not None else None


def _text(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            return str(part.get_content())
        except (KeyError, LookupError):
            pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)


class BounceHandler:
    """Applies the hard bounces of a DSN: retire the subscription, audit, mark the row."""

    def __init__(
        self,
        *,
        subscriptions: SubscriptionStore,
        outbox: Outbox,
        contacts: ContactStore,
        sender: str,
    ) -> None:
        self.subscriptions = subscriptions
        self.outbox = outbox
        self.contacts = contacts
        self.sender = sender

    def apply(self, bounces: list[Bounce], original_id: str | None) -> list[str]:
        """Retire the hard-bounced addresses; returns them (normalised)."""
        retired = []
        for bounce in bounces:
            if not bounce.hard:
                continue
            try:
                address = normalize_email(bounce.address)
            except AddressError:
                logger.info("DSN for an address that is not one; ignored")
                continue
            reason = f"hard bounce (DSN): {bounce.status} {bounce.diagnostic}".strip()[:200]
            conversation = f"email:{address}"
            left = self.subscriptions.unsubscribe(conversation, reason=reason)
            self.contacts.log("email", address, "bounced", reason)
            if original_id:
                for row in self.outbox.audit(conversation_id=conversation, states=("sent",)):
                    if message_id(f"outbox-{row.outbox_id}", address, self.sender) == original_id:
                        self.outbox.retired(row.outbox_id, reason)
                        break
            logger.info("email to %s bounced later (DSN %s)", mask(address), bounce.status)
            if left:
                retired.append(address)
        return retired


def bounce_route(*, handler: BounceHandler, token: str) -> Route:
    """``POST /email/bounces``: a raw DSN message, bearer-authenticated."""
    expected = f"Bearer {token}"

    async def bounces(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise HttpError(403, "missing or wrong bearer token")
        raw = await read_body(request, max_bytes=MAX_DSN_BYTES)
        try:
            found, original = read_dsn(raw)
        except DsnError as exc:
            raise HttpError(400, str(exc)) from None
        retired = await run_in_threadpool(handler.apply, found, original)
        return JSONResponse(
            {"hard_bounces": sum(1 for b in found if b.hard), "retired": len(retired)}
        )

    return Route(BOUNCES_PATH, bounces, methods=["POST"])
