"""Build the SMS channel from the app's settings (:data:`SMS` in ``bot.wiring``)."""

from __future__ import annotations

import logging

from bot.broadcast.announce import Rendering
from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec
from bot.channels.contact.store import ContactStore
from bot.channels.contact.wiring import contact_service
from bot.channels.sms.inbound import INBOUND_PATH, inbound_route
from bot.channels.sms.render import DEFAULT_SEGMENTS, max_segments, render_sms
from bot.channels.sms.segments import count
from bot.channels.sms.sender import SmsDeliverer
from bot.channels.sms.twilio import TwilioClient
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)


class _Closing:
    """Closes the Twilio client's connections when the app stops."""

    def __init__(self, client: TwilioClient) -> None:
        self.client = client

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()


def sms_channel(context: ChannelContext) -> ChannelParts | None:
    """The SMS deliverer and the STOP webhook, or None (logged once) when Twilio is not set."""
    sms = context.settings.sms
    if not sms.enabled or not sms.account_sid or not sms.auth_token or not sms.sender:
        logger.warning(
            "SMS updates are off: set FARO_TWILIO_ACCOUNT_SID, FARO_TWILIO_AUTH_TOKEN "
            "and FARO_TWILIO_FROM"
        )
        return None
    client = TwilioClient(
        account_sid=sms.account_sid,
        auth_token=sms.auth_token,
        sender=sms.sender,
        api_url=sms.api_url,
    )
    contacts = ContactStore(context.services.store.engine)
    deliverer = SmsDeliverer(
        client,
        templates=context.services.templates,
        rate_per_s=sms.rate_per_s,
        on_gone=lambda number, reason: contacts.log("sms", number, "provider_refused", reason),
    )
    logger.info(
        "SMS updates through Twilio at %g/s; replies (STOP) at %s", sms.rate_per_s, INBOUND_PATH
    )
    route = inbound_route(
        contacts=contact_service(context.settings, context.services),
        auth_token=sms.auth_token,
        public_url=context.settings.contact.public_url,
    )
    return ChannelParts(routes=[route], background=[_Closing(client)], deliverer=deliverer)


def render_broadcast(text: str) -> tuple[str, ...]:
    """A broadcast as the SMS gets it (the default segment budget)."""
    return (render_sms(text, segments=DEFAULT_SEGMENTS),)


def broadcast_sms(text: str, lang: str, templates: TemplateStore) -> Rendering:
    """A broadcast as SMS subscribers get it: within the template's budget, its segments."""
    body = render_sms(text, segments=max_segments(templates, lang))
    counted = count(body)
    return Rendering(
        text=body, encoding=counted.encoding, units=counted.units, segments=counted.segments
    )


SMS = ChannelSpec(name="sms", build=sms_channel, render=render_broadcast, detail=broadcast_sms)
