"""Build the status service, poller and webhook route (``bot.wiring`` passes the settings)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from starlette.routing import BaseRoute

from bot.status.answers import AnswerWriter, TemplateSource
from bot.status.components import ComponentMatcher, load_aliases
from bot.status.live import LiveStatus
from bot.status.overdue import Rhythm
from bot.status.poller import StatusPoller
from bot.status.receiver import TokenRedactingFilter, webhook_route
from bot.status.service import LiveStatusService
from bot.status.sources import DEFAULT_TIMEOUT, StatusSource, source_for
from bot.status.store import StateStore
from bot.status.times import zone_named

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_FEED = PROJECT_DIR / "data" / "status" / "sample.json"
DEFAULT_ALIASES = PROJECT_DIR / "data" / "status" / "aliases.yml"
STATE_FILE = "status.json"


@dataclass(kw_only=True)
class StatusRuntime:
    """The status feed of one app process: service for actions, poller, optional webhook."""

    live: LiveStatus
    service: LiveStatusService
    poller: StatusPoller
    routes: list[BaseRoute] = field(default_factory=list)

    async def start(self) -> None:
        """Start polling (the restored state is served until the first poll succeeds)."""
        self.poller.start()

    async def stop(self) -> None:
        """Stop polling and close connections."""
        await self.poller.stop()


def build_runtime(
    *,
    feed: str | Path = DEFAULT_FEED,
    templates: TemplateSource,
    state_dir: Path | None = None,
    poll_interval_s: float = 30.0,
    max_backoff_s: float = 600.0,
    timeout_s: float = DEFAULT_TIMEOUT,
    webhook_token: str | None = None,
    display_timezone: str = "UTC",
    stale_after: timedelta | None = None,
    aliases_path: Path | None = DEFAULT_ALIASES,
    source: StatusSource | None = None,
    client: httpx.AsyncClient | None = None,
    rhythm: Rhythm | None = None,
) -> StatusRuntime:
    """Wire source, live state (restored from ``state_dir``), poller, answers and webhook route."""
    store = StateStore(state_dir / STATE_FILE) if state_dir else None
    live = LiveStatus(store=store)
    live.restore()
    source = source or source_for(str(feed), client=client, timeout=timeout_s)
    poller = StatusPoller(
        source, live, interval=poll_interval_s, max_backoff=max(max_backoff_s, poll_interval_s)
    )
    aliases = load_aliases(aliases_path) if aliases_path and Path(aliases_path).exists() else {}
    writer = AnswerWriter(
        templates,
        tz=zone_named(display_timezone),
        stale_after=stale_after or timedelta(seconds=max(600.0, 3 * poll_interval_s)),
        rhythm=rhythm,
    )
    service = LiveStatusService(live, writer=writer, matcher=ComponentMatcher(aliases))
    routes: list[BaseRoute] = []
    if webhook_token:
        routes.append(webhook_route(live, token=webhook_token))
        logging.getLogger("uvicorn.access").addFilter(TokenRedactingFilter(webhook_token))
    return StatusRuntime(live=live, service=service, poller=poller, routes=routes)
