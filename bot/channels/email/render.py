"""A composed broadcast text as an email: multipart text + HTML from the templates.

Every header value goes through ``email.policy.SMTP``, which refuses CR and LF
in a header, and every address is checked again here: a subscriber's address
cannot add a header or a recipient.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from bot.channels.contact.addresses import AddressError, normalize_email
from bot.templates import TemplateStore

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
# Leading pictographs of a headline (🔔, ✅, 📣): kept in the body, not in the subject.
_LEADING_SYMBOLS = re.compile(r"^[^\w¡¿\"'(\[]+", re.UNICODE)
_URL = re.compile(r"https?://[^\s<>\"]+")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class RenderError(ValueError):
    """A message that must not be sent as asked (an address that could inject a header)."""


@dataclass(frozen=True, slots=True)
class Branding:
    """The organisation's name and colour, from the templates, in one language."""

    org: str
    color: str


def branding(templates: TemplateStore, lang: str) -> Branding:
    """The organisation's name and colour for ``lang`` (colour falls back to a safe blue)."""
    color = templates.render("contact.color", lang).strip()
    return Branding(
        org=templates.render("contact.org", lang).strip(),
        color=color if _COLOR.fullmatch(color) else "#14324f",
    )


def subject_line(templates: TemplateStore, lang: str, headline: str) -> str:
    """The subject: the template ``email.subject`` around the headline, one line."""
    clean = _LEADING_SYMBOLS.sub("", headline).strip() or headline.strip()
    text = templates.render(
        "email.subject", lang, org=branding(templates, lang).org, headline=clean
    )
    return " ".join(text.split())[:200]


def message_id(ref: str, to: str, sender: str) -> str:
    """A Message-ID that is the same on every retry of one outbox row to one address."""
    digest = hashlib.sha256(f"{ref}\n{to}".encode()).hexdigest()[:24]
    domain = sender.rpartition("@")[2] or "faro.invalid"
    return f"<faro.{digest}@{domain}>"


def render_email(
    *,
    text: str,
    lang: str,
    to: str,
    sender: str,
    templates: TemplateStore,
    unsubscribe_url: str,
    ref: str,
) -> EmailMessage:
    """The MIME message for one recipient; raises :class:`RenderError` on a bad address."""
    try:
        if normalize_email(to) != to:
            raise RenderError("the recipient address is not in normal form")
    except AddressError as exc:
        raise RenderError(f"bad recipient address: {exc}") from None
    lines = [line.rstrip() for line in text.strip().split("\n")]
    headline, body = lines[0], [line for line in lines[1:] if line.strip()]
    brand = branding(templates, lang)
    unsubscribe_label = templates.render("email.unsubscribe", lang)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject_line(templates, lang, headline)
    message["From"] = Address(display_name=brand.org, addr_spec=sender)
    message["To"] = Address(addr_spec=to)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(ref, to, sender)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    plain = "\n\n".join([headline, *body, f"{unsubscribe_label}: {unsubscribe_url}"])
    message.set_content(plain + "\n", subtype="plain", charset="utf-8")
    html = _TEMPLATES.get_template("update.html").render(
        lang=lang,
        org=brand.org,
        color=brand.color,
        headline=_LEADING_SYMBOLS.sub("", headline).strip() or headline,
        paragraphs=[_linkify(p) for p in body],
        unsubscribe_url=unsubscribe_url,
        unsubscribe_label=unsubscribe_label,
    )
    message.add_alternative(html, subtype="html", charset="utf-8")
    message["Content-Language"] = lang  # (set_content drops Content-* headers set before)
    return message


def _linkify(text: str) -> Markup:
    """``text`` escaped, with its http(s) addresses as links."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        url = escape(match.group(0))
        out.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))
