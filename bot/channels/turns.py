"""Turns waiting for the core, per conversation: in order within one, in parallel across them.

Telegram and Slack both acknowledge a request at once and process the turn
afterwards. Turns submitted under one key (a conversation) run one after
another, in submission order, so replies keep the order of the messages;
different keys run concurrently, at most ``concurrency`` turns at a time.
The backlog is bounded twice: ``max_pending`` turns in all (accepted and not
finished) and ``max_per_key`` waiting in one conversation, so one chatty
sender cannot fill it. :meth:`TurnDispatcher.submit` refuses beyond that
(the channel answers "busy" and the platform delivers again later).
A key is forgotten as soon as its last turn is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class TurnDispatcher:
    """Runs submitted jobs per key in order, keys concurrently; the app's ``Background``."""

    def __init__(
        self,
        *,
        name: str,
        concurrency: int = 32,
        max_pending: int = 1000,
        max_per_key: int = 50,
        stop_grace_s: float = 5.0,
    ) -> None:
        if min(concurrency, max_pending, max_per_key) < 1:
            raise ValueError("concurrency, max_pending and max_per_key must be at least 1")
        self._name = name
        self._slots = asyncio.Semaphore(concurrency)
        self._max_pending = max_pending
        self._max_per_key = max_per_key
        self._grace = stop_grace_s
        self._queues: dict[Hashable, deque[Job]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """Jobs accepted and not yet finished."""
        return self._pending

    @property
    def active_keys(self) -> int:
        """Keys with a job running or waiting (idle keys are not kept)."""
        return len(self._queues)

    def submit(self, key: Hashable, job: Job) -> bool:
        """Queue ``job`` behind ``key``'s earlier jobs; False (and a log line) when refused."""
        if self._closed:
            logger.warning("%s turns: stopping; a turn was refused", self._name)
            return False
        if self._pending >= self._max_pending:
            logger.warning(
                "%s turns: backlog full (%d turns); one refused", self._name, self._pending
            )
            return False
        queue = self._queues.get(key)
        if queue is not None and len(queue) >= self._max_per_key:
            logger.warning(
                "%s turns: one conversation has %d turns waiting; one refused",
                self._name,
                len(queue),
            )
            return False
        self._pending += 1
        if queue is not None:  # this key's drainer is running and will get to it
            queue.append(job)
            return True
        self._queues[key] = deque([job])
        task = asyncio.get_running_loop().create_task(self._drain(key), name=f"{self._name}-turns")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def start(self) -> None:
        """Take turns again (after :meth:`stop`); a new dispatcher takes them already."""
        self._closed = False

    async def join(self) -> None:
        """Wait until every job accepted so far (and any they submit) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Refuse new jobs, let accepted ones finish for the grace period, cancel the rest."""
        self._closed = True
        tasks = list(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=self._grace)
        if late:
            unfinished = self._pending
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            logger.warning("%s turns: stopped with %d turns unfinished", self._name, unfinished)

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                # a slot per job, not per key: a busy conversation cannot hold one for long
                async with self._slots:
                    try:
                        await queue[0]()
                    except Exception:  # one failed turn must not stop the conversation's queue
                        logger.exception("%s turns: a turn failed", self._name)
                    finally:
                        queue.popleft()
                        self._pending -= 1
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]
            self._pending -= len(queue)  # only non-zero when cancelled
            queue.clear()
