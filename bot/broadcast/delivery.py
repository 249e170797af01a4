"""Sends the outbox through each channel's sender, within the channel's limits.

With several app replicas, one worker at a time sends each channel's rows (a
lease in the database, renewed as it works, taken over when it lapses or its
holder on this machine is gone), so the channel sender's rate limits, which
live in one process, bound all the bot's broadcasts on that channel.

One loop per channel claims due rows (at most ``concurrency`` in flight),
sends each through the channel's :class:`Deliverer` (whose sender holds the
platform's rate limits and retries 429s), and records the outcome: sent;
retried later with backoff on a temporary failure; retired, with the
subscription, when the recipient blocked the bot; failed otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from bot.broadcast.outbox import Outbox, OutboxItem
from bot.broadcast.subscriptions import SubscriptionStore

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_HOST = socket.gethostname()
# Owners of the workers running in this process (several apps in one test process).
_LIVE_OWNERS: set[str] = set()


class DeliveryError(Exception):
    """A message could not be delivered."""


class RecipientGone(DeliveryError):
    """The recipient cannot be reached any more (blocked the bot, deleted the chat)."""


class TemporaryFailure(DeliveryError):
    """Worth trying again later (network, server errors, rate limits beyond retries)."""


class PermanentFailure(DeliveryError):
    """The platform refused the message for good."""


class Deliverer(Protocol):
    """Sends one broadcast message on one channel (implemented next to each channel)."""

    @property
    def channel(self) -> str:
        """The channel name (``telegram``, ``slack``, ``web``)."""
        ...

    @property
    def concurrency(self) -> int:
        """How many messages may be in flight at once (the sender paces them)."""
        ...

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Send ``text``; raises a :class:`DeliveryError` subclass on failure.

        ``ref`` names the outbox row, the same on every retry (an email's Message-ID).
        """
        ...


def owner_alive(owner: str) -> bool:
    """Whether the worker ``host:pid:token`` may still be running (other hosts: assume so)."""
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != _HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return owner in _LIVE_OWNERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DeliveryWorker:
    """Runs one delivery loop per channel that has a deliverer in this process."""

    def __init__(
        self,
        outbox: Outbox,
        subscriptions: SubscriptionStore,
        deliverers: Sequence[Deliverer],
        *,
        poll_s: float = 1.0,
        lease_s: float = 120.0,
        backoff_s: float = 5.0,
        max_backoff_s: float = 600.0,
        stop_grace_s: float = 5.0,
        channel_lease_s: float = 15.0,
    ) -> None:
        self.outbox = outbox
        self.subscriptions = subscriptions
        self.deliverers = {d.channel: d for d in deliverers}
        self.owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._stop_grace_s = stop_grace_s
        self._channel_lease_s = channel_lease_s
        self._held_until: dict[str, float] = {}  # monotonic time to renew each channel lease
        self._wakeups: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._claiming: set[asyncio.Future[list[OutboxItem]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    async def start(self) -> None:
        """Requeue what a stopped worker left half-done, then start the loops."""
        _LIVE_OWNERS.add(self.owner)
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        await asyncio.to_thread(self.outbox.recover, owner_alive)
        for channel, deliverer in self.deliverers.items():
            self._wakeups[channel] = asyncio.Event()
            self._tasks.append(asyncio.create_task(self._run(deliverer), name=f"outbox-{channel}"))
        self._tasks.append(asyncio.create_task(self._keep_leases(), name="outbox-leases"))
        if self.deliverers:
            logger.info("broadcast delivery on for %s", ", ".join(sorted(self.deliverers)))

    def wake(self) -> None:
        """New rows are due: look now instead of at the next poll (any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for event in self._wakeups.values():
            loop.call_soon_threadsafe(event.set)

    async def stop(self) -> None:
        """Stop claiming; let messages in flight finish briefly; the rest is requeued on start."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._claiming:  # claims still committing: their rows are requeued below
            await asyncio.gather(*self._claiming, return_exceptions=True)
        if self._in_flight:
            _done, pending = await asyncio.wait(self._in_flight, timeout=self._stop_grace_s)
            for task in pending:
                task.cancel()
        _LIVE_OWNERS.discard(self.owner)
        # What this worker still held goes back to the queue now (not after the lease).
        await asyncio.to_thread(self.outbox.recover, owner_alive)
        for channel in self.deliverers:
            await asyncio.to_thread(self.outbox.release_channel, channel, self.owner)
        self._held_until.clear()

    async def _run(self, deliverer: Deliverer) -> None:
        channel, wakeup = deliverer.channel, self._wakeups[deliverer.channel]
        mine: set[asyncio.Task[None]] = set()
        while not self._stopping:
            free = max(0, deliverer.concurrency - len(mine))
            items: list[OutboxItem] = []
            if free and not await self._hold(channel):
                await asyncio.sleep(self._poll_s)  # another replica sends this channel
                continue
            if free:
                wakeup.clear()
                # shielded: a claim committed in its thread after stop() cancelled this
                # task would hold its rows until the lease lapses; stop() waits for it
                claim = asyncio.ensure_future(
                    asyncio.to_thread(
                        self.outbox.claim, [channel], self.owner, limit=free, lease_s=self._lease_s
                    )
                )
                self._claiming.add(claim)
                claim.add_done_callback(self._claiming.discard)
                try:
                    items = await asyncio.shield(claim)
                except Exception:
                    logger.exception("outbox: claiming %s rows failed", channel)
            for item in items:
                task = asyncio.create_task(self._send(deliverer, item))
                mine.add(task)
                self._in_flight.add(task)
                task.add_done_callback(mine.discard)
                task.add_done_callback(self._in_flight.discard)
            if items and len(mine) < deliverer.concurrency:
                continue
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(wakeup.wait())]
            waiters.extend(mine)
            await asyncio.wait(waiters, timeout=self._poll_s, return_when=asyncio.FIRST_COMPLETED)
            waiters[0].cancel()

    async def _hold(self, channel: str) -> bool:
        # The lease is renewed once a third of it has passed, not on every claim:
        # holding it costs a write, and this runs once per message sent.
        if time.monotonic() < self._held_until.get(channel, 0.0):
            return True
        try:
            held = await asyncio.to_thread(
                self.outbox.hold_channel,
                channel,
                self.owner,
                lease_s=self._channel_lease_s,
                owner_alive=owner_alive,
            )
        except Exception:
            logger.exception("outbox: taking the %s channel lease failed", channel)
            held = False
        if held:
            self._held_until[channel] = time.monotonic() + self._channel_lease_s / 3
        return held

    async def _send(self, deliverer: Deliverer, item: OutboxItem) -> None:
        try:
            await deliverer.deliver(item.address, item.text, item.lang, ref=f"outbox-{item.id}")
        except RecipientGone as exc:
            reason = f"recipient gone: {exc}"
            await self._record(item, self.outbox.retired, item.id, reason)
            if item.subscription_id is not None:
                await self._record(item, self.subscriptions.retire, item.subscription_id, reason)
            logger.info("outbox %d: %s; subscriber retired", item.id, reason)
        except TemporaryFailure as exc:
            delay = min(self._backoff_s * 2 ** (item.attempts - 1), self._max_backoff_s)
            delay *= random.uniform(0.8, 1.2)
            if await self._record(item, self.outbox.retry, item, str(exc), delay_s=delay):
                logger.warning("outbox %d: %s; retry in %.0f s", item.id, exc, delay)
            else:
                logger.error("outbox %d: %s; gave up", item.id, exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # PermanentFailure, or a bug: never retried in a loop
            reason = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
            if not isinstance(exc, DeliveryError):
                logger.exception("outbox %d: unexpected error", item.id)
            await self._record(item, self.outbox.failed, item.id, reason)
            logger.warning("outbox %d: not delivered: %s", item.id, reason)
        else:
            await self._record(item, self.outbox.sent, item.id)

    async def _record(
        self, item: OutboxItem, write: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> _T:
        """Write how a delivery ended; while the database is unreachable, try again.

        The row stays ``sending`` under this worker's lease until this lands: given
        up, it would wait for the next restart to be queued again (and a message
        already delivered would then go out twice). On stop the error goes up and
        the row is requeued by :meth:`stop`.
        """
        delay = 0.25
        while True:
            try:
                return await asyncio.to_thread(write, *args, **kwargs)
            except Exception as exc:
                if self._stopping:
                    raise
                logger.warning(
                    "outbox %d: cannot record the outcome (%s); trying again in %.1f s",
                    item.id,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                await asyncio.to_thread(self.outbox.renew, self.owner, lease_s=self._lease_s)
            except Exception:
                logger.exception("outbox: renewing leases failed")
