"""Send slots that honour Telegram's flood limits.

Telegram allows about one message per second in a chat, 20 per minute in a
group and 30 per second overall, and answers 429 with ``retry_after`` when a
bot goes faster. :class:`RateLimiter` hands out start times ("slots") so
that, for every send that goes through it:

- two sends to one chat start at least ``chat_interval_s`` apart (three
  seconds in groups, whose ids are negative), plus 5 %;
- two sends to any chats start at least ``1 / per_second`` apart, plus
  10 %, so any one-second window holds at most ``per_second`` starts even
  when network jitter bunches arrivals at Telegram;
- nothing starts while a 429's ``retry_after`` is running;
- the actual starts (not only the reserved slots) hold at most ``per_second``
  in any second: an event loop woken late (a busy machine) would otherwise
  send several overdue slots at once.

Slots are reserved without awaiting, so in one event loop reservations are
made in call order (messages to one chat keep their order) and a chat
waiting for its next second never holds up other chats.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# Starts are kept a little further apart than the limits say, so that what
# Telegram measures on arrival stays within them despite network jitter.
_GLOBAL_MARGIN = 0.10
_CHAT_MARGIN = 0.05
_PRUNE_EVERY = 1024


class RateLimiter:
    """Reserves send slots per chat and overall (see the module docstring)."""

    def __init__(
        self,
        *,
        per_second: float = 30.0,
        chat_interval_s: float = 1.0,
        group_interval_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0 or chat_interval_s < 0 or group_interval_s < 0:
            raise ValueError("rates and intervals must be positive")
        self.spacing_s = (1.0 / per_second) * (1.0 + _GLOBAL_MARGIN)
        self.chat_interval_s = chat_interval_s
        self.group_interval_s = group_interval_s
        self._clock = clock
        self._sleep = sleep
        self._slots: list[float] = []  # reserved global start times, sorted
        self._chat_pending: dict[int, list[float]] = {}  # reserved, not yet started
        self._chat_last: dict[int, float] = {}  # the latest start per chat
        self._paused_until = 0.0
        self._reservations = 0
        self._window_s = 1.0 + _GLOBAL_MARGIN
        self._starts: deque[float] = deque(maxlen=max(1, math.floor(per_second)))

    def pause(self, seconds: float) -> None:
        """Start nothing for ``seconds`` (Telegram said ``retry_after``)."""
        self._paused_until = max(self._paused_until, self._clock() + max(seconds, 0.0))

    def reserve(self, chat_id: int) -> float:
        """Reserve the earliest allowed start time for a send to ``chat_id``."""
        now = self._clock()
        self._prune(now)
        start = max(now, self._paused_until, self._chat_earliest(chat_id))
        start = self._free_global_slot(start)
        bisect.insort(self._slots, start)
        self._chat_pending.setdefault(chat_id, []).append(start)
        return start

    def release(self, chat_id: int, start: float) -> None:
        """Give back a reserved slot that will not be used."""
        i = bisect.bisect_left(self._slots, start)
        if i < len(self._slots) and self._slots[i] == start:
            del self._slots[i]
        self._unpend(chat_id, start)

    async def acquire(self, chat_id: int) -> None:
        """Wait until a send to ``chat_id`` may start; re-reserve if a pause began meanwhile.

        Sends to one chat keep their order when the caller awaits each before
        the next (as the reply handler does).
        """
        while True:
            start = self.reserve(chat_id)
            delay = start - self._clock()
            if delay > 0:
                await self._sleep(delay)
            now = self._clock()
            full = len(self._starts) == self._starts.maxlen
            if full and now - self._starts[0] < self._window_s:
                # Late wake-ups bunched up: wait until the oldest start leaves the window.
                self.release(chat_id, start)
                await self._sleep(self._starts[0] + self._window_s - now)
                continue
            if now >= self._paused_until:
                self._unpend(chat_id, start)
                self._chat_last[chat_id] = max(start, self._chat_last.get(chat_id, start))
                self._starts.append(now)
                return
            self.release(chat_id, start)

    def _chat_earliest(self, chat_id: int) -> float:
        """The earliest start for ``chat_id``: an interval after its latest start or slot."""
        times = self._chat_pending.get(chat_id, [])
        latest = max([*times, self._chat_last.get(chat_id, float("-inf"))])
        interval = self.group_interval_s if chat_id < 0 else self.chat_interval_s
        return latest + interval * (1.0 + _CHAT_MARGIN)

    def _unpend(self, chat_id: int, start: float) -> None:
        pending = self._chat_pending.get(chat_id)
        if pending and start in pending:
            pending.remove(start)
            if not pending:
                del self._chat_pending[chat_id]

    def _free_global_slot(self, start: float) -> float:
        """The earliest time >= ``start`` at least ``spacing_s`` from every reserved slot."""
        slots, spacing = self._slots, self.spacing_s
        i = bisect.bisect_left(slots, start - spacing)
        while i < len(slots) and slots[i] < start + spacing:
            if abs(slots[i] - start) < spacing:
                start = slots[i] + spacing
            i += 1
        return start

    def _prune(self, now: float) -> None:
        """Forget slots and chat deadlines that can no longer constrain anything."""
        cut = bisect.bisect_left(self._slots, now - self.spacing_s)
        if cut:
            del self._slots[:cut]
        self._reservations += 1
        if self._reservations % _PRUNE_EVERY == 0:
            longest = max(self.chat_interval_s, self.group_interval_s)
            self._chat_last = {c: t for c, t in self._chat_last.items() if t + longest > now}
