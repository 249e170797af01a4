"""Work done after Slack got its acknowledgement: a bounded queue and a few workers.

Slack wants an answer within 3 s; a turn through Rasa can take longer. The
request handler only submits a job; workers run jobs, one at a time per
conversation (so replies keep the order of the messages).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class TurnQueue:
    """Runs submitted jobs in the background; implements the app's ``Background``."""

    def __init__(self, *, workers: int = 4, capacity: int = 1000, stop_grace_s: float = 5.0):
        self._queue: asyncio.Queue[tuple[str, Job]] = asyncio.Queue(capacity)
        self._workers = workers
        self._grace = stop_grace_s
        self._tasks: list[asyncio.Task[None]] = []
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def submit(self, key: str, job: Job) -> bool:
        """Queue ``job`` for conversation ``key``; False when the queue is full."""
        try:
            self._queue.put_nowait((key, job))
        except asyncio.QueueFull:
            logger.warning("Slack work queue full (%d jobs)", self._queue.qsize())
            return False
        return True

    async def start(self) -> None:
        """Start the workers."""
        self._tasks = [
            asyncio.create_task(self._work(), name=f"slack-worker-{i}")
            for i in range(self._workers)
        ]

    async def stop(self) -> None:
        """Let queued jobs finish for a short grace period, then cancel the workers."""
        try:
            await asyncio.wait_for(self._queue.join(), self._grace)
        except TimeoutError:
            logger.warning("stopping with %d Slack jobs unfinished", self._queue.qsize())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def join(self) -> None:
        """Wait until every job submitted so far is done."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            key, job = await self._queue.get()
            lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
            self._locks[key] = (lock, users + 1)
            try:
                async with lock:
                    await job()
            except Exception:  # a failed job must not stop the worker
                logger.exception("a Slack job failed")
            finally:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
                self._queue.task_done()
