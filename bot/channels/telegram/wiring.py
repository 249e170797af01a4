"""Build the Telegram channel from the app's settings (the entry in ``CHANNEL_FACTORIES``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.push import TelegramDeliverer
from bot.channels.telegram.store import TelegramStore
from bot.channels.telegram.webhook import WEBHOOK_PATH, webhook_route
from bot.conversation import Conversation

if TYPE_CHECKING:
    from bot.app import ChannelContext, ChannelParts

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
# Loggers that would write request URLs, which carry the bot token.
_URL_LOGGERS = ("httpx", "httpcore", "telegram")


class TelegramSettings(Protocol):
    """The settings the channel needs (``bot.settings.Settings`` has them)."""

    @property
    def telegram_token(self) -> str | None:
        """The bot token from @BotFather (None: Telegram off)."""
        ...

    @property
    def telegram_secret(self) -> str | None:
        """The webhook secret token Telegram sends back on every request."""
        ...

    @property
    def telegram_api_url(self) -> str:
        """The Bot API server (Telegram's, a local Bot API server, or a test fake)."""
        ...

    @property
    def database_url(self) -> str:
        """The app database (update ids and long button payloads live there)."""
        ...


def quiet_url_logging() -> None:
    """Keep request logging of httpx and python-telegram-bot at WARNING (token in URLs)."""
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def build_bot(settings: TelegramSettings, *, poll_timeout_s: int = 30) -> Bot:
    """A python-telegram-bot ``Bot`` for the configured token and API server."""
    if not settings.telegram_token:
        raise ValueError("FARO_TELEGRAM_TOKEN is not set")
    quiet_url_logging()
    api = settings.telegram_api_url.rstrip("/")
    return Bot(
        settings.telegram_token,
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
    engine: sa.Engine,
    poll_timeout_s: int = 30,
) -> TelegramChannel:
    """The channel runtime: bot, store (on the app database ``engine``), sender, dispatcher."""
    return TelegramChannel(
        bot=build_bot(settings, poll_timeout_s=poll_timeout_s),
        conversation=conversation,
        store=TelegramStore(engine),
    )


def telegram_channel(context: ChannelContext) -> ChannelParts | None:
    """The webhook route and background worker, or None (logged once) when not configured."""
    from bot.app import ChannelParts

    settings = context.settings
    if not settings.telegram_token:
        logger.warning("Telegram is off: FARO_TELEGRAM_TOKEN is not set")
        return None
    channel = build_channel(settings, context.conversation, engine=context.services.store.engine)
    deliverer = TelegramDeliverer(channel.sender)
    if not settings.telegram_secret:
        logger.warning(
            "Telegram webhook is off: FARO_TELEGRAM_SECRET is not set "
            "('faro telegram poll' works without it); broadcasts are still sent"
        )
        return ChannelParts(background=[channel], deliverer=deliverer)
    logger.info("Telegram webhook at %s", WEBHOOK_PATH)
    return ChannelParts(
        routes=[webhook_route(channel=channel, secret=settings.telegram_secret)],
        background=[channel],
        deliverer=deliverer,
    )
