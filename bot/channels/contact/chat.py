"""Email and SMS updates asked for in a chat ("email me updates", "avísame por SMS").

The subscribe action asks :class:`ChatContactOffer` first. In the web widget a
request for email or SMS updates (in words, or with an address typed in it) is
answered with the widget's inline form instead of a chat subscription; the
form is prefilled with the typed address when it is a valid one, and it goes
through ``/api/subscribe`` like any other: nothing is subscribed here, nothing
is sent before the double opt-in (email link, SMS code). A typed address that
cannot be used is refused with the form's own message. After a chat
subscription the widget also gets the form's button. Telegram and Slack have no
form: they keep their chat subscription and are pointed at the ``/subscribe`` page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from bot.channels.contact.addresses import AddressError, normalize_email, normalize_phone
from bot.core.messages import BotMessage, Button
from bot.rasa import payloads
from bot.templates import TemplateStore

# Asking for email or SMS in words (English and Spanish, accents optional).
_ASKS = re.compile(
    r"\b(?:e-?mails?|mails?|correos?|sms|texts? messages?|mensajes? de texto|"
    r"by text|por texto|al m[oó]vil|to my (?:phone|mobile))\b",
    re.IGNORECASE,
)
_EMAILISH = re.compile(r"[^\s<>()\[\],;\"']*@[^\s<>()\[\],;\"']*")
_NUMBERISH = re.compile(r"(?<![\w+])\+?\d(?:[\d ().-]{0,24}\d)?(?!\w)")


_SMS_WORDS = re.compile(r"\bsms\b|text|texto|m[oó]vil|phone|tel[eé]fono|n[uú]mero", re.I)


def _phoneish(text: str) -> list[re.Match[str]]:
    """Numbers typed as a phone: with a leading ``+``; six digits and more when the text
    speaks of SMS or a phone (else "notify me about transfer 123456" is no number)."""
    sms = _SMS_WORDS.search(text) is not None
    return [
        m
        for m in _NUMBERISH.finditer(text)
        if m.group(0).startswith("+") or (sms and sum(c.isdigit() for c in m.group(0)) >= 6)
    ]


@dataclass(frozen=True, slots=True)
class Typed:
    """What a chat message asks: email or SMS (or neither), and the address it holds."""

    kind: str | None  # "email" | "sms" | None (in words only, no kind named)
    address: str | None = None  # normalised, when one valid address was typed
    error: str | None = None  # the refusal, in the form's words, when one cannot be used


def read_request(text: str) -> Typed | None:
    """The email/SMS request in ``text``, or None when it asks for neither.

    Several addresses in one message are read as one (from the first to the
    last): the chat folds line breaks into spaces, so ``a@b.c\r\nBcc: d@e.f``
    arrives as ``a@b.c Bcc: d@e.f`` and is refused as the one address it is.
    """
    found = sorted(
        [(m.start(), m.end(), "email") for m in _EMAILISH.finditer(text)]
        + [(m.start(), m.end(), "sms") for m in _phoneish(text)]
    )
    if not found:
        if not _ASKS.search(text):
            return None
        lower = text.lower()
        kind = "email" if re.search(r"mail|correo", lower) else None
        if re.search(r"\bsms\b|text|texto|m[oó]vil|phone", lower):
            kind = "sms" if kind is None else None  # both named: let them choose
        return Typed(kind)
    kind = "email" if any(k == "email" for *_, k in found) else "sms"
    typed = text[found[0][0] : found[-1][1]].rstrip(".")
    try:
        address = normalize_email(typed) if kind == "email" else normalize_phone(typed)
    except AddressError as exc:
        return Typed(kind, error=str(exc))
    return Typed(kind, address)


def form_payload(*, open_now: bool, kind: str | None = None, address: str | None = None) -> str:
    """The button payload the widget renders as its email/SMS form (never sent to Rasa)."""
    data: dict[str, object] = {}
    if open_now:
        data["open"] = True
    if kind:
        data["kind"] = kind
    if address:
        data["phone" if kind == "sms" else "email"] = address
    return payloads.CONTACT_FORM + (json.dumps(data, separators=(",", ":")) if data else "")


class ChatContactOffer:
    """The subscribe action's answer when a chat asks for email or SMS updates."""

    def __init__(
        self, *, channels: Iterable[str], templates: TemplateStore, public_url: str
    ) -> None:
        self.channels = frozenset(c for c in channels if c in ("email", "sms"))
        self._templates = templates
        self._public_url = public_url.rstrip("/")

    def instead(self, conversation_id: str, text: str, lang: str) -> BotMessage | None:
        """The widget's form in reply to an email/SMS request; None: subscribe the chat."""
        if not self.channels or not conversation_id.startswith("web:"):
            return None
        asked = read_request(text)
        if asked is None:
            return None
        kind = asked.kind if asked.kind in self.channels else None
        if asked.kind and kind is None:  # asked for a channel that is off
            off = self._render("contact.error.off", lang)
            offer = self._render("contact.chat.offer", lang)
            return BotMessage(f"{off} {offer}", self._button(lang, True))
        if asked.error is not None:
            return BotMessage(
                f"{self._refusal(asked.error, asked.kind or 'email', lang)} "
                f"{self._render('contact.chat.offer', lang)}",
                self._button(lang, True, kind),
            )
        key = "contact.chat.prefilled" if asked.address else "contact.chat.offer"
        return BotMessage(self._render(key, lang), self._button(lang, True, kind, asked.address))

    def after(self, conversation_id: str, text: str, lang: str, reply: BotMessage) -> BotMessage:
        """``reply`` to a chat subscription, with the way to add email or SMS when they are on."""
        if not self.channels or reply.buttons:
            return reply
        if conversation_id.startswith("web:"):
            return BotMessage(reply.text, self._button(lang, False), reply.status)
        if read_request(text) is None:
            return reply
        link = f"{self._public_url}/subscribe?lang={quote(lang)}"
        return BotMessage(
            f"{reply.text}\n\n{self._render('contact.chat.page', lang, link=link)}",
            reply.buttons,
            reply.status,
        )

    def _button(
        self, lang: str, open_now: bool, kind: str | None = None, address: str | None = None
    ) -> tuple[Button, ...]:
        title = self._render("contact.chat.button", lang)
        return (Button(title, form_payload(open_now=open_now, kind=kind, address=address)),)

    def _refusal(self, error: str, kind: str, lang: str) -> str:
        """The form's message for a typed address (the API's words: details in English)."""
        key = f"contact.error.address_{'email' if kind == 'email' else 'phone'}"
        if lang == "en" or not self._templates.has(key):
            return error[:1].upper() + error[1:] + ("" if error.endswith(".") else ".")
        return self._render(key, lang)

    def _render(self, key: str, lang: str, **values: str) -> str:
        return self._templates.render(key, lang, **values)
