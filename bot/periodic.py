"""One background loop: run an async step every N seconds until stopped, surviving failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class Periodic:
    """Runs ``step`` every ``interval_s`` seconds between ``start()`` and ``stop()``.

    A step that raises is logged and the loop goes on: a background duty (a
    guard, a watch, a purge) must outlive one bad run.
    """

    def __init__(
        self,
        step: Callable[[], Awaitable[object]],
        *,
        interval_s: float,
        name: str,
        first_after_interval: bool = False,
    ) -> None:
        self._step = step
        self._interval_s = interval_s
        self._name = name
        self._first_after_interval = first_after_interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the loop (the first step at once, or after one interval)."""
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        """Stop the loop and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        if self._first_after_interval:
            await asyncio.sleep(self._interval_s)
        while True:
            try:
                await self._step()
            except Exception:
                logger.exception(
                    "%s: a run failed (next one in %g s)", self._name, self._interval_s
                )
            await asyncio.sleep(self._interval_s)
