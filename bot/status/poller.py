"""Poll a status source on a rhythm, backing off with jitter while it fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.status.errors import StatusError
from bot.status.live import LiveStatus
from bot.status.sources import StatusSource

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class StatusPoller:
    """Fetches ``source`` every ``interval`` seconds into ``live``; keeps the last good state."""

    def __init__(
        self,
        source: StatusSource,
        live: LiveStatus,
        *,
        interval: float = 60.0,
        max_backoff: float = 600.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if interval <= 0 or max_backoff < interval or not 0 <= jitter <= 1:
            raise ValueError("need interval > 0, max_backoff >= interval, 0 <= jitter <= 1")
        self.source = source
        self.live = live
        self.interval = interval
        self.max_backoff = max_backoff
        self.jitter = jitter
        self.failures = 0
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    async def poll_once(self) -> bool:
        """Fetch once; True on success. Failures log one line and keep the last good state."""
        try:
            snapshot = await self.source.fetch()
        except StatusError as exc:
            self.failures += 1
            self.live.fail(str(exc))
            logger.warning(
                "status feed: %s; %s; next try in %.0fs",
                exc,
                _serving(self.live),
                self.next_delay(),
            )
            logger.debug("status feed failure detail", exc_info=True)
            return False
        if self.failures:
            logger.info(
                "status feed %s: reachable again after %d failed tries",
                self.source.description,
                self.failures,
            )
        self.failures = 0
        if snapshot is None:
            self.live.confirm()
        else:
            self.live.accept(snapshot)
        return True

    def next_delay(self) -> float:
        """Seconds until the next poll: the interval, or a jittered, capped exponential backoff."""
        if self.failures == 0:
            return self.interval
        ceiling = min(self.max_backoff, self.interval * 2 ** min(self.failures - 1, 30))
        return float(ceiling * (1 - self.jitter * self._rng.random()))

    async def run(self) -> None:
        """Poll until cancelled; never dies of a bad feed or a bug in a parser."""
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                logger.exception("status feed %s: unexpected error", self.source.description)
            await self._sleep(self.next_delay())

    def start(self) -> asyncio.Task[None]:
        """Start polling in the background (call from the app's startup)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="faro-status-poller")
        return self._task

    async def stop(self) -> None:
        """Stop polling and close the source (call from the app's shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.source.aclose()


def _serving(live: LiveStatus) -> str:
    age = live.age()
    if live.snapshot is None or age is None:
        return "no state to serve yet"
    return f"serving the state confirmed {describe_age(age)} ago"


def describe_age(age: timedelta) -> str:
    """A short English age for logs: '45s', '6 min', '2 h 5 min'."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
