"""Build the Telegram channel from the app's settings (:data:`TELEGRAM` in ``bot.wiring``)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.base import ChannelContext, ChannelParts, ChannelSpec
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.push import TelegramDeliverer
from bot.channels.telegram.render import render_html, split_text
from bot.channels.telegram.store import TelegramStore
from bot.channels.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.core.messages import Conversation
from bot.settings import TelegramSettings

logger = logging.getLogger(__name__)

# Loggers that would write request URLs, which carry the bot token.
_URL_LOGGERS = ("httpx", "httpcore", "telegram")


def quiet_url_logging() -> None:
    """Keep request logging of httpx and python-telegram-bot at WARNING (token in URLs)."""
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def build_bot(settings: TelegramSettings, *, poll_timeout_s: int = 30) -> Bot:
    """A python-telegram-bot ``Bot`` for the configured token and API server."""
    if not settings.token:
        raise ValueError("FARO_TELEGRAM_TOKEN is not set")
    quiet_url_logging()
    api = settings.api_url.rstrip("/")
    return Bot(
        settings.token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        # PTB's default is one connection: replies to different chats would queue on it.
        request=HTTPXRequest(connection_pool_size=32, pool_timeout=30.0),
        get_updates_request=HTTPXRequest(read_timeout=poll_timeout_s + 10.0),
    )


def build_channel(
    settings: TelegramSettings,
    conversation: Conversation,
    *,
    store: TelegramStore,
    poll_timeout_s: int = 30,
) -> TelegramChannel:
    """The channel runtime: bot, store (on the app database ``engine``), sender, dispatcher."""
    return TelegramChannel(
        bot=build_bot(settings, poll_timeout_s=poll_timeout_s),
        conversation=conversation,
        store=store,
    )


def telegram_channel(context: ChannelContext) -> ChannelParts | None:
    """The webhook route and background worker, or None (logged once) when not configured."""
    settings = context.settings.telegram
    if not settings.token:
        logger.warning("Telegram is off: FARO_TELEGRAM_TOKEN is not set")
        return None
    store = TelegramStore(context.services.store.engine)
    channel = build_channel(settings, context.conversation, store=store)
    deliverer = TelegramDeliverer(channel.sender)
    if not settings.secret:
        logger.warning(
            "Telegram webhook is off: FARO_TELEGRAM_SECRET is not set "
            "('faro telegram poll' works without it); broadcasts are still sent"
        )
        return ChannelParts(background=[channel], deliverer=deliverer)
    logger.info("Telegram webhook at %s", WEBHOOK_PATH)
    return ChannelParts(
        routes=[webhook_route(channel=channel, secret=settings.secret)],
        background=[channel],
        deliverer=deliverer,
    )


def render_broadcast(text: str) -> tuple[str, ...]:
    """A broadcast as Telegram gets it: HTML parts of at most 4096 characters."""
    return tuple(render_html(part) for part in split_text(text))


TELEGRAM = ChannelSpec(name="telegram", build=telegram_channel, render=render_broadcast)
