"""Change notifications between app replicas over Redis pub/sub (``FARO_REDIS_URL``).

Every replica already finds other replicas' changes by polling the database
(the FAQ reloader, the push hub, the outbox worker); the bus makes them see a
change at once instead of at the next poll. It is only a wake-up call: a
message carries a topic and a small payload, never the data itself, and a
lost message (Redis down, restarted) costs at most one poll interval. After
the connection comes back every handler is called once with an empty payload
("something may have changed while we were deaf"), so nothing waits for the
next change to be seen.

Topics: ``faq`` (payload: the store revision), ``push`` (the web conversation
a message was stored for, ``*`` for everyone), ``banner`` (the status banner
changed), ``outbox`` (broadcast rows are due).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Handler = Callable[[str], None]
RESYNC = ""  # the payload handlers get after a (re)connection


class ChangeBus:
    """Publishes and receives change notifications on one Redis channel (a ``Background``)."""

    def __init__(
        self,
        url: str,
        *,
        channel: str = "faro:changes",
        reconnect_s: float = 0.5,
        max_queue: int = 10_000,
    ) -> None:
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex  # this process: its own messages are not handled
        self._reconnect_s = reconnect_s
        self._max_queue = max_queue
        self._handlers: dict[str, list[Handler]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[str] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()
        self.received = 0  # messages from other replicas handled (for tests and /health)
        self.dropped = 0  # messages not sent because Redis was unreachable

    def on(self, topic: str, handler: Handler) -> None:
        """Call ``handler(payload)`` on the event loop when another replica publishes ``topic``."""
        self._handlers.setdefault(topic, []).append(handler)

    def publish(self, topic: str, payload: str = "") -> None:
        """Tell the other replicas (any thread; never blocks, never raises)."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            return
        message = json.dumps({"o": self.origin, "t": topic, "p": payload})
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(queue, message)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._enqueue, queue, message)

    def _enqueue(self, queue: asyncio.Queue[str], message: str) -> None:
        try:
            queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1

    async def start(self) -> None:
        """Connect in the background (the app starts even when Redis is down)."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=self._max_queue)
        self._tasks = [
            asyncio.create_task(self._listen(), name="change-bus-listen"),
            asyncio.create_task(self._send(), name="change-bus-send"),
        ]

    async def stop(self) -> None:
        """Stop listening and sending."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._loop = None

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        return aioredis.from_url(
            self.url, socket_connect_timeout=2.0, socket_keepalive=True, health_check_interval=0
        )

    async def _listen(self) -> None:
        from redis.exceptions import RedisError

        first = True
        while True:
            client = self._client()
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self.channel)
                self.connected.set()
                if not first:
                    logger.warning("change bus: connected to Redis again; re-reading changes")
                    self._dispatch_all(RESYNC)
                first = False
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is not None:
                        self._handle(message.get("data"))
            except (RedisError, OSError) as exc:
                if self.connected.is_set() or first:
                    logger.warning(
                        "change bus: Redis unreachable (%s); the database polls carry changes",
                        type(exc).__name__,
                    )
                self.connected.clear()
                first = False
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(self._reconnect_s)

    async def _send(self) -> None:
        from redis.exceptions import RedisError

        assert self._queue is not None
        client = self._client()
        try:
            while True:
                message = await self._queue.get()
                try:
                    await client.publish(self.channel, message)
                except (RedisError, OSError):
                    self.dropped += 1  # the other replicas' polls will find the change
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    def _handle(self, data: object) -> None:
        try:
            body = json.loads(data if isinstance(data, str | bytes) else "")
            origin, topic, payload = str(body["o"]), str(body["t"]), str(body["p"])
        except (ValueError, KeyError, TypeError):
            logger.warning("change bus: ignored a malformed message")
            return
        if origin == self.origin:
            return
        self.received += 1
        self._dispatch(topic, payload)

    def _dispatch(self, topic: str, payload: str) -> None:
        for handler in self._handlers.get(topic, ()):
            try:
                handler(payload)
            except Exception:  # noqa: BLE001 - one handler must not stop the others
                logger.exception("change bus: handler for %s failed", topic)

    def _dispatch_all(self, payload: str) -> None:
        for topic in list(self._handlers):
            self._dispatch(topic, payload)
