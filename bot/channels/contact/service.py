"""Subscribe by email or SMS: request, confirm (double opt-in), unsubscribe, all audited.

A request records what was asked and sends a confirmation (a link by email,
a six-digit code by SMS) through the outbox, like every other message: the
channel's sender paces it, retries it and records it. Nothing else is sent to
an address before it is confirmed.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.broadcast.outbox import Broadcast, Delivery, Outbox
from bot.broadcast.subscriptions import Recipient, SubscriptionStore
from bot.channels.contact.addresses import AddressError, mask, normalize_email, normalize_phone
from bot.channels.contact.links import LinkError, Links
from bot.channels.contact.store import (
    MAX_CODE_ATTEMPTS,
    ContactStore,
    TooManyRequests,
    code_digest,
)
from bot.core.languages import LANGUAGES
from bot.status.live import utc_now
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)

MAX_COMPONENTS = 20


class ContactError(ValueError):
    """A request that cannot be done as asked; ``code`` names the case for translated pages."""

    def __init__(self, message: str, *, code: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class Requested:
    """What :meth:`ContactService.request` did."""

    channel: str  # "email" | "sms"
    address: str
    expires_in_s: int


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmed subscription."""

    channel: str
    address: str
    lang: str


def conversation_id(channel: str, address: str) -> str:
    """The subscription's id in the shared tables (``email:<address>``, ``sms:<number>``)."""
    return f"{channel}:{address}"


class ContactService:
    """Email and SMS subscriptions on top of the subscription store and the outbox."""

    def __init__(
        self,
        *,
        store: ContactStore,
        subscriptions: SubscriptionStore,
        outbox: Outbox,
        templates: TemplateStore,
        links: Links,
        code_key: str,
        channels: Iterable[str],
        per_address_per_hour: int = 3,
        components: Callable[[], Sequence[str]] = lambda: (),
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.subscriptions = subscriptions
        self.outbox = outbox
        self.templates = templates
        self.links = links
        self._code_key = code_key
        self.channels = frozenset(channels)
        self._per_hour = per_address_per_hour
        self._components = components
        self.on_queued = on_queued  # wakes the delivery worker

    def component_names(self) -> list[str]:
        """The status page's components a subscription can be limited to (page order)."""
        return list(self._components())

    def request(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        lang: str = "en",
        components: Sequence[str] = (),
    ) -> Requested:
        """Record a subscribe request and queue its confirmation; raises ContactError."""
        if (email is None) == (phone is None):
            raise ContactError("give either an email address or a phone number", code="one_of")
        if lang not in LANGUAGES:
            raise ContactError(f"lang must be one of {', '.join(LANGUAGES)}", code="lang")
        channel = "email" if email is not None else "sms"
        if channel not in self.channels:
            what = "email" if channel == "email" else "text message (SMS)"
            raise ContactError(f"{what} updates are not available here", code="off", status=400)
        try:
            address = normalize_email(email) if email is not None else normalize_phone(phone or "")
        except AddressError as exc:
            raise ContactError(str(exc), code="address") from None
        names = self._check_components(components)
        nonce = uuid.uuid4().hex
        code = f"{secrets.randbelow(1_000_000):06d}"
        secret = (
            nonce if channel == "email" else f"{nonce}${code_digest(self._code_key, nonce, code)}"
        )
        try:
            request_id = self.store.add_request(
                channel=channel,
                address=address,
                lang=lang,
                components=names,
                secret=secret,
                ttl_s=self.links.ttl_s,
                per_hour=self._per_hour,
            )
        except TooManyRequests:
            raise ContactError(
                "too many confirmations were sent to this address; try again in an hour",
                code="address_limit",
                status=429,
            ) from None
        org = self.templates.render("contact.org", lang)
        hours = max(1, round(self.links.ttl_s / 3600))
        if channel == "email":
            text = self.templates.render(
                "contact.confirm.email",
                lang,
                org=org,
                link=self.links.confirm_url(request_id, nonce),
                hours=hours,
            )
        else:
            minutes = max(1, round(self.links.ttl_s / 60))
            text = self.templates.render(
                "contact.confirm.sms", lang, org=org, code=code, minutes=minutes
            )
        self.outbox.enqueue(
            Broadcast(key=f"confirm:{channel}:{request_id}", kind="confirmation", title=channel),
            [
                Delivery(
                    conversation_id=conversation_id(channel, address),
                    channel=channel,
                    address=address,
                    lang=lang,
                    text=text,
                )
            ],
        )
        self.on_queued()
        logger.info("subscribe request %d (%s, %s)", request_id, channel, mask(address))
        return Requested(channel, address, int(self.links.ttl_s))

    def confirm_email(self, token: str) -> Confirmed:
        """Confirm an email subscription from its link; raises ContactError (forged, expired)."""
        try:
            request_id, nonce = self.links.read_confirm(token)
        except LinkError as exc:
            raise ContactError(str(exc), code=exc.code) from None
        pending = self.store.get(request_id)
        if pending is None or pending.channel != "email" or pending.secret != nonce:
            raise ContactError("this confirmation link is not valid", code="forged")
        if pending.expires_at <= utc_now():
            raise ContactError("this confirmation link has expired", code="expired")
        if pending.confirmed_at is not None:  # a second click (or a mail scanner's) changes nothing
            return Confirmed(pending.channel, pending.address, pending.lang)
        return self._subscribe(
            pending.id, pending.channel, pending.address, pending.lang, pending.components
        )

    def confirm_sms(self, phone: str, code: str) -> Confirmed:
        """Confirm an SMS subscription with the code texted to it; raises ContactError."""
        try:
            address = normalize_phone(phone)
        except AddressError as exc:
            raise ContactError(str(exc), code="address") from None
        code = "".join((code or "").split())
        if not (code.isdigit() and len(code) == 6):
            raise ContactError("the code has 6 digits", code="code_format")
        pending = self.store.latest("sms", address)
        if pending is None:
            raise ContactError(
                "no code is waiting for this number (or it expired): ask for a new one",
                code="expired",
            )
        if self.store.spend_attempt(pending.id) > MAX_CODE_ATTEMPTS:
            raise ContactError(
                "too many wrong codes: ask for a new one", code="too_many_attempts", status=429
            )
        nonce, _, digest = pending.secret.partition("$")
        if not secrets.compare_digest(code_digest(self._code_key, nonce, code), digest):
            self.store.log("sms", address, "wrong_code")
            raise ContactError("that code is not right", code="wrong_code")
        return self._subscribe(pending.id, "sms", address, pending.lang, pending.components)

    def unsubscribe(self, channel: str, address: str, *, how: str) -> bool:
        """Stop updates to an address (one-click link, STOP by SMS); False: not subscribed."""
        left = self.subscriptions.unsubscribe(conversation_id(channel, address), reason=how)
        self.store.log(channel, address, "unsubscribed" if left else "unsubscribe_again", how)
        logger.info("%s unsubscribe (%s): %s", channel, how, "done" if left else "not subscribed")
        return left

    def unsubscribe_token(self, token: str, *, how: str) -> tuple[str, str]:
        """Unsubscribe the address an unsubscribe link names; raises ContactError when forged."""
        try:
            channel, address = self.links.read_unsubscribe(token)
        except LinkError as exc:
            raise ContactError(str(exc), code=exc.code) from None
        self.unsubscribe(channel, address, how=how)
        return channel, address

    def _subscribe(
        self, request_id: int, channel: str, address: str, lang: str, components: Sequence[str]
    ) -> Confirmed:
        recipient = Recipient(conversation_id(channel, address), channel, address, lang)
        outcome = self.subscriptions.subscribe(recipient, components)
        if self.store.mark_confirmed(request_id):
            self.store.log(channel, address, "confirmed", f"{outcome.value} lang={lang}")
            logger.info("%s subscription confirmed (%s)", channel, mask(address))
        return Confirmed(channel, address, lang)

    def _check_components(self, components: Sequence[str]) -> list[str]:
        if not isinstance(components, list | tuple):
            raise ContactError("components must be a list of names", code="components")
        if len(components) > MAX_COMPONENTS:
            raise ContactError(f"at most {MAX_COMPONENTS} components", code="components")
        known = {c.lower(): c for c in self._components()}
        names: list[str] = []
        for raw in components:
            if not isinstance(raw, str) or not raw.strip() or len(raw) > 100:
                raise ContactError("components must be a list of names", code="components")
            name = " ".join(raw.split())
            if known and name.lower() not in known:
                raise ContactError(
                    f"unknown component {name!r} (components: {', '.join(known.values())})",
                    code="components",
                )
            names.append(name.lower())
        return sorted(set(names))
