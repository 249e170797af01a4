"""Shared steps of ``faro up``/``faro serve``: settings, services, uvicorn."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from bot.cli.errors import UserError

if TYPE_CHECKING:
    from bot.services import AppServices
    from bot.settings import Settings


def load_settings(
    *,
    host: str | None = None,
    port: int | None = None,
    rasa_urls: tuple[str, ...] | None = None,
    secrets: bool = True,
) -> Settings:
    """Settings from the environment, with CLI overrides; one-line error on a bad value.

    ``secrets=False``: for commands that serve nothing (see ``Settings.from_env``).
    """
    from dataclasses import replace

    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(secrets=secrets)
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    server = replace(
        settings.server,
        host=settings.server.host if host is None else host,
        port=settings.server.port if port is None else port,
    )
    rasa = settings.rasa if rasa_urls is None else replace(settings.rasa, urls=rasa_urls)
    return replace(settings, server=server, rasa=rasa)


def build(settings: Settings) -> AppServices:
    """Build the app's services, turning bad input files into one clear line."""
    from bot.db import StorageError
    from bot.templates import TemplateError
    from bot.wiring import build_services
    from faq_index import FaqIndexError

    with spinner("Loading the FAQ, templates and embedding model"):
        try:
            services = build_services(settings)
        except (FaqIndexError, TemplateError, StorageError, OSError) as exc:
            raise UserError(str(exc)) from None
    release_free_memory()
    return services


def release_free_memory() -> bool:
    """Give the allocator's free pages back to the system; True if some were.

    Embedding the FAQ at start leaves the encoder's batch buffers freed but kept by
    glibc's malloc: 0.3-0.4 GB of ~1 GB after embedding 1,000 entries
    (bench/README.md, "Memory and deployment"). glibc only; elsewhere a no-op.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return False
    return bool(trim(0))


@contextmanager
def spinner(label: str) -> Iterator[Callable[[float], None]]:
    """Show ``label`` with elapsed seconds on stderr while the block runs."""
    started = time.monotonic()
    tty = sys.stderr.isatty()
    stop = threading.Event()

    def tick(elapsed: float | None = None) -> None:
        if tty:
            spent = time.monotonic() - started if elapsed is None else elapsed
            click.echo(f"\r{label}... {spent:4.0f} s", nl=False, err=True)

    def loop() -> None:
        while not stop.wait(0.5):
            tick()

    if not tty:
        click.echo(f"{label}...", err=True)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield tick
    finally:
        stop.set()
        thread.join()
        spent = time.monotonic() - started
        click.echo(f"{chr(13) if tty else ''}{label}: done in {spent:.0f} s", err=True)


def run_uvicorn(app: Any, *, host: str, port: int, on_started: Callable[[], None] | None) -> None:
    """Serve ``app`` until Ctrl-C; ``on_started`` runs once the socket listens."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        lifespan="on",
        # X-Forwarded-* are believed only from FARO_TRUSTED_PROXIES (bot.app), never from
        # uvicorn's default of any local process
        proxy_headers=False,
        # open widgets hold event streams: end them on Ctrl-C instead of waiting for them
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    if on_started is not None:

        def watch() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.1)
            if server.started:
                on_started()

        threading.Thread(target=watch, daemon=True).start()
    server.run()
