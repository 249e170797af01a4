"""``faro telegram``: register the webhook with Telegram, or long-poll for development."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from bot.cli.errors import UserError
from bot.cli.serving import load_settings

if TYPE_CHECKING:
    from bot.db import Database
    from bot.settings import Settings


@click.group()
def telegram() -> None:
    """Telegram channel: register the webhook, or long-poll without a public URL."""


@telegram.command("set-webhook")
@click.argument("url")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram holds for the bot.")
def set_webhook(url: str, drop_pending: bool) -> None:
    """Tell Telegram to deliver updates to URL with FARO_TELEGRAM_SECRET.

    URL is the app's public HTTPS address; /telegram/webhook is added when
    it has no path.
    """
    from bot.channels.telegram.polling import ALLOWED_UPDATES
    from bot.channels.telegram.webhook import WEBHOOK_PATH

    settings = _settings(need_secret=True)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise UserError(f"Telegram delivers webhooks only to https:// URLs, got {url!r}")
    if parts.path in ("", "/"):
        url = url.rstrip("/") + WEBHOOK_PATH

    async def register(bot: Any) -> None:
        await bot.set_webhook(
            url=url,
            secret_token=settings.telegram.secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=drop_pending,
        )

    _run_with_bot(settings, register)
    click.echo(f"Webhook set: Telegram will POST updates to {url}")


@telegram.command("delete-webhook")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram holds for the bot.")
def delete_webhook(drop_pending: bool) -> None:
    """Stop webhook delivery (needed before 'faro telegram poll')."""
    settings = _settings(need_secret=False)

    async def remove(bot: Any) -> None:
        await bot.delete_webhook(drop_pending_updates=drop_pending)

    _run_with_bot(settings, remove)
    click.echo("Webhook deleted: use 'faro telegram poll' or set a new one")


@telegram.command()
@click.option(
    "--timeout",
    type=click.IntRange(1, 50),
    default=30,
    show_default=True,
    help="Seconds each getUpdates request waits for new updates.",
)
def poll(timeout: int) -> None:
    """Fetch updates with getUpdates and answer them; Ctrl-C stops.

    For development without a public URL. Rasa and the app must be running
    (faro up): Rasa calls the app's action endpoint.
    """
    settings = _settings(need_secret=False)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the handler is set
        asyncio.run(_poll(settings, timeout))


async def _poll(settings: Any, timeout: int) -> None:
    from bot import wiring
    from bot.channels.telegram.polling import LongPoller, PollingError
    from bot.channels.telegram.store import TelegramStore
    from bot.channels.telegram.wiring import build_channel
    from bot.templates import TemplateError

    try:
        templates = wiring.load_templates(settings)
    except TemplateError as exc:
        raise UserError(str(exc)) from None
    conversation, rasa = wiring.build_conversation(settings, templates)
    store = TelegramStore(_database(settings).engine)
    channel = build_channel(settings.telegram, conversation, store=store, poll_timeout_s=timeout)
    poller = LongPoller(channel, timeout_s=timeout)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows
        loop.add_signal_handler(signal.SIGINT, poller.stop)
        loop.add_signal_handler(signal.SIGTERM, poller.stop)
    await channel.start()
    rasa_at = ", ".join(settings.rasa.urls)
    click.echo(f"Polling Telegram for updates (Rasa at {rasa_at}); Ctrl-C stops")
    try:
        await poller.run()
    except PollingError as exc:
        raise UserError(str(exc)) from None
    finally:
        await channel.stop()
        await rasa.aclose()


def _database(settings: Settings) -> Database:
    """The app database, migrated; a failure becomes one line."""
    from bot import wiring
    from bot.db import StorageError

    try:
        return wiring.open_database(settings)
    except StorageError as exc:
        raise UserError(str(exc)) from None


def _settings(*, need_secret: bool) -> Any:
    settings = load_settings(secrets=False)
    if not settings.telegram.token:
        raise UserError("FARO_TELEGRAM_TOKEN is not set: get a token from @BotFather")
    if need_secret and not settings.telegram.secret:
        raise UserError(
            "FARO_TELEGRAM_SECRET is not set: choose 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    return settings


def _run_with_bot(settings: Any, call: Any) -> None:
    """Run ``await call(bot)`` with a bot for ``settings``; Telegram errors become one line."""
    from telegram.error import InvalidToken, TelegramError

    from bot.channels.telegram.errors import redact
    from bot.channels.telegram.wiring import build_bot

    async def run() -> None:
        bot = build_bot(settings.telegram)
        try:
            await call(bot)
        finally:
            await bot.shutdown()

    try:
        asyncio.run(run())
    except InvalidToken:
        raise UserError("Telegram refused FARO_TELEGRAM_TOKEN") from None
    except TelegramError as exc:
        message = redact(str(exc), settings.telegram.token, settings.telegram.secret)
        raise UserError(f"Telegram said: {message}") from None


__all__ = ["telegram"]
