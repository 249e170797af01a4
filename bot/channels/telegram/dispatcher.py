"""A bounded work queue that keeps each chat's updates in order.

Updates of one chat are processed one after another, in arrival order;
different chats proceed concurrently, up to ``concurrency`` at a time. At
most ``max_pending`` updates wait; beyond that :meth:`submit` refuses, and
the webhook answers 503 so Telegram delivers the update again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ChatDispatcher(Generic[T]):
    """Runs ``work(item)`` per chat in order, chats in parallel, with a bounded backlog."""

    def __init__(
        self,
        work: Callable[[T], Awaitable[None]],
        *,
        max_pending: int = 1000,
        concurrency: int = 32,
    ) -> None:
        self._work = work
        self._max_pending = max_pending
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[Hashable, deque[T]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        """Items accepted and not yet finished."""
        return self._pending

    def submit(self, chat: Hashable, item: T) -> bool:
        """Queue ``item`` behind ``chat``'s earlier items; False when full or stopped."""
        if self._closed or self._pending >= self._max_pending:
            return False
        self._pending += 1
        queue = self._queues.get(chat)
        if queue is not None:  # a drainer for this chat is already running
            queue.append(item)
            return True
        self._queues[chat] = deque([item])
        task = asyncio.get_running_loop().create_task(self._drain(chat))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def join(self) -> None:
        """Wait until every accepted item is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Refuse new items, let queued ones finish for up to ``timeout_s``, cancel the rest."""
        self._closed = True
        tasks = list(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=timeout_s)
        for task in late:
            task.cancel()
        if late:
            logger.warning("stopped with %d chats' updates unprocessed", len(late))
            await asyncio.gather(*late, return_exceptions=True)

    async def _drain(self, chat: Hashable) -> None:
        queue = self._queues[chat]
        try:
            async with self._slots:
                while queue:
                    item = queue[0]
                    try:
                        await self._work(item)
                    except Exception:  # one bad update must not stop the chat's queue
                        logger.exception("processing an update failed")
                    finally:
                        queue.popleft()
                        self._pending -= 1
        finally:
            if self._queues.get(chat) is queue:
                del self._queues[chat]
            self._pending -= len(queue)  # only non-zero when cancelled
            queue.clear()
