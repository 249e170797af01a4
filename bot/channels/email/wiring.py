"""Build the email channel from the app's settings (:data:`EMAIL` in ``bot.wiring``)."""

from __future__ import annotations

import logging

from starlette.routing import BaseRoute

from bot.broadcast.announce import Rendering
from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec
from bot.channels.contact.links import links_for
from bot.channels.contact.store import ContactStore
from bot.channels.email.bounces import BOUNCES_PATH, BounceHandler, bounce_route
from bot.channels.email.render import render_email
from bot.channels.email.sender import EmailDeliverer, SmtpSender, SmtpServer
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)


def email_channel(context: ChannelContext) -> ChannelParts | None:
    """The email deliverer, or None (logged once) when SMTP is not configured."""
    email = context.settings.email
    if not email.enabled or email.host is None or email.sender is None:
        logger.warning("Email updates are off: set FARO_SMTP_URL and FARO_EMAIL_FROM")
        return None
    server = SmtpServer(
        host=email.host,
        port=email.port,
        username=email.username,
        password=email.password,
        tls=email.tls,
    )
    logger.info(
        "email updates through %s:%d (%s)",
        email.host,
        email.port,
        "TLS" if email.tls else "STARTTLS when offered",
    )
    sender = SmtpSender(server, rate_per_s=email.rate_per_s)
    contacts = ContactStore(context.services.store.engine)
    deliverer = EmailDeliverer(
        sender,
        from_address=email.sender,
        templates=context.services.templates,
        links=links_for(context.settings),
        on_gone=lambda address, reason: contacts.log("email", address, "bounced", reason),
    )
    routes: list[BaseRoute] = []
    if email.bounce_token:
        broadcaster = context.services.broadcaster
        handler = BounceHandler(
            subscriptions=broadcaster.subscriptions,
            outbox=broadcaster.outbox,
            contacts=contacts,
            sender=email.sender,
        )
        routes.append(bounce_route(handler=handler, token=email.bounce_token))
        logger.info("email bounces (DSNs) accepted at %s", BOUNCES_PATH)
    else:
        logger.info("later email bounces (DSNs) are not read: set FARO_EMAIL_BOUNCE_TOKEN")
    return ChannelParts(routes=routes, background=[_Closing(sender)], deliverer=deliverer)


class _Closing:
    """Closes the kept SMTP connections when the app stops."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Say QUIT on the kept connections."""
        await self.sender.aclose()


def render_broadcast(text: str) -> tuple[str, ...]:
    """A broadcast as the email's plain-text part shows it (the HTML part has the same lines)."""
    return (text,)


PREVIEW_TO = "subscriber@example.com"
PREVIEW_FROM = "updates@example.com"
PREVIEW_UNSUBSCRIBE = "https://example.com/subscribe/unsubscribe?t=preview"


def broadcast_email(text: str, lang: str, templates: TemplateStore) -> Rendering:
    """A broadcast as the email subscribers get: subject, text part and HTML part."""
    message = render_email(
        text=text,
        lang=lang,
        to=PREVIEW_TO,
        sender=PREVIEW_FROM,
        templates=templates,
        unsubscribe_url=PREVIEW_UNSUBSCRIBE,
        ref="preview",
    )
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return Rendering(
        subject=str(message["Subject"]),
        text=str(plain.get_content()) if plain is not None else "",
        html=str(html.get_content()) if html is not None else "",
    )


EMAIL = ChannelSpec(
    name="email", build=email_channel, render=render_broadcast, detail=broadcast_email
)
