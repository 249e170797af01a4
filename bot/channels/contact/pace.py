"""Pacing sends to a provider: at most ``rate_per_s`` starts per second, and pauses on 429."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Spaces out the start of each send evenly; ``pause`` holds every send (a 429)."""

    def __init__(self, rate_per_s: float) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.interval = 1.0 / rate_per_s
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next send may start (a pause that came meanwhile is waited out)."""
        while True:
            async with self._lock:
                now = time.monotonic()
                start = max(now, self._next, self._paused_until)
                self._next = start + self.interval
            if start > now:
                await asyncio.sleep(start - now)
            if self._paused_until <= start:
                return

    def pause(self, seconds: float) -> None:
        """No send starts for ``seconds`` (the provider said slow down)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
