"""Build the subscription service and routes from the app's settings and services."""

from __future__ import annotations

import hashlib

from starlette.routing import BaseRoute

from bot.channels.contact.chat import ChatContactOffer
from bot.channels.contact.links import links_for
from bot.channels.contact.routes import contact_routes
from bot.channels.contact.service import ContactService
from bot.channels.contact.store import ContactStore
from bot.channels.web_guard import OriginPolicy
from bot.services import AppServices
from bot.settings import Settings
from bot.templates import TemplateStore


def chat_contact_offer(settings: Settings, templates: TemplateStore) -> ChatContactOffer:
    """What the subscribe action says when a chat asks for email or SMS updates."""
    return ChatContactOffer(
        channels=_channels(settings), templates=templates, public_url=settings.contact.public_url
    )


def _channels(settings: Settings) -> list[str]:
    on = (("email", settings.email.enabled), ("sms", settings.sms.enabled))
    return [name for name, enabled in on if enabled]


def contact_service(settings: Settings, services: AppServices) -> ContactService:
    """Email and SMS subscriptions over the app database (channels that are on only)."""
    broadcaster = services.broadcaster
    channels = [
        name
        for name, on in (("email", settings.email.enabled), ("sms", settings.sms.enabled))
        if on
    ]
    live = broadcaster.live

    def components() -> list[str]:
        snapshot = live.snapshot
        return [c.name for c in snapshot.leaf_components()] if snapshot else []

    # codes are hashed with a key of their own, derived from the session secret
    code_key = hashlib.sha256(b"faro.sms.code\0" + settings.web.session_secret.encode()).hexdigest()
    return ContactService(
        store=ContactStore(services.store.engine),
        subscriptions=broadcaster.subscriptions,
        outbox=broadcaster.outbox,
        templates=services.templates,
        links=links_for(settings),
        code_key=code_key,
        channels=channels,
        per_address_per_hour=settings.contact.rate_per_address,
        components=components,
        on_queued=lambda: broadcaster.on_created(),
    )


def subscribe_routes(settings: Settings, services: AppServices) -> list[BaseRoute]:
    """``POST /api/subscribe`` and the hosted ``/subscribe`` pages."""
    return contact_routes(
        contacts=contact_service(settings, services),
        templates=services.templates,
        rate_per_ip=settings.contact.rate_per_ip,
        # the widget's inline subscribe form may ask from the sites the chat is allowed on
        origins=OriginPolicy(
            settings.web.allowed_origins, public_origin=settings.server.public_origin
        ),
    )
