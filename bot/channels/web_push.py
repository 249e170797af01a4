"""Push to open widgets: a small in-process hub and the server-sent event stream.

:meth:`PushHub.publish` stores a message in the web history (so it gets an
id and survives a reload) and wakes the streams that should see it at once:
an idle stream does not touch the database. Messages published by another app
replica (same database) are found by ONE slow poll per process (every
``poll_s`` seconds, ``FARO_WEB_PUSH_POLL``), which wakes only the streams they
are for. A stream resumes after ``Last-Event-ID``: nothing is lost and nothing
is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.broadcast.delivery import TemporaryFailure
from bot.channels.web_history import BROADCAST, HistoryError, StoredMessage, WebHistory
from bot.core.messages import BotMessage

logger = logging.getLogger(__name__)

RETRY_MS = 3000


@dataclass(eq=False)
class Subscription:
    """One open stream, woken when something it should see is published."""

    conversation_id: str
    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    banner_changed: bool = False
    closed: bool = False

    def wake(self) -> None:
        """Wake the stream from any thread."""
        self.loop.call_soon_threadsafe(self.event.set)


class PushHub:
    """Delivers pushed messages to open widgets; incident broadcasts call :meth:`publish`."""

    def __init__(self, history: WebHistory, *, poll_s: float = 5.0) -> None:
        self.history = history
        self.poll_s = poll_s  # the fallback poll for other replicas' messages
        self._watcher: asyncio.Task[None] | None = None
        self._subs: set[Subscription] = set()
        self._closed = False
        self._chained: dict[signal.Signals, tuple[Any, Any]] = {}
        # tells the other replicas at once (the change bus, bot/pubsub.py): called with
        # the conversation a message was stored for ("*": everyone), "" for the banner
        self.on_publish: Callable[[str], None] | None = None

    def publish(
        self, conversation_id: str | None, message: BotMessage, *, role: str = "push"
    ) -> StoredMessage:
        """Store ``message`` for one conversation (``web:<sid>``) or all (None); wake streams.

        ``role``: ``push`` (a broadcast), ``agent`` (a person's reply), ``notice``.
        """
        target = BROADCAST if conversation_id is None else conversation_id
        [stored] = self.history.append(target, role, [message])
        for sub in list(self._subs):
            if target in (BROADCAST, sub.conversation_id):
                sub.wake()
        if self.on_publish is not None:
            self.on_publish(target)
        whom = "everyone" if target == BROADCAST else "one conversation"
        logger.info("pushed message %d to %s", stored.id, whom)
        return stored

    def banner_changed(self) -> None:
        """Tell every open stream that the status banner changed."""
        for sub in list(self._subs):
            sub.banner_changed = True
            sub.wake()

    def wake_for(self, target: str) -> None:
        """Another replica stored a message for ``target`` (a conversation, or everyone when
        ``*`` or empty): wake the streams that should read it."""
        for sub in list(self._subs):
            if target in ("", BROADCAST, sub.conversation_id):
                sub.wake()

    def subscribe(self, conversation_id: str) -> Subscription:
        """Register a stream (call from the event loop); pair with :meth:`unsubscribe`."""
        sub = Subscription(conversation_id, asyncio.get_running_loop(), closed=self._closed)
        self._subs.add(sub)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name="web-push-watch")
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a stream."""
        self._subs.discard(sub)

    def streams(self, conversation_id: str | None = None) -> int:
        """How many streams are open (for one conversation, or all)."""
        return sum(1 for s in self._subs if conversation_id in (None, s.conversation_id))

    async def start(self) -> None:
        """Accept streams; end them as soon as the server is told to exit."""
        self._closed = False
        self._chain_exit_signals()

    async def stop(self) -> None:
        """End every open stream (the widgets reconnect to another process)."""
        self._end_streams()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for sig, (ours, previous) in self._chained.items():
            if signal.getsignal(sig) is ours:
                signal.signal(sig, previous)
        self._chained.clear()

    async def _watch(self) -> None:
        """While streams are open: find other replicas' messages, wake whom they are for."""
        seen: int | None = None
        while self._subs:
            try:
                newest, targets = await run_in_threadpool(self.history.changes_after, seen)
            except HistoryError as exc:
                logger.warning("web push: cannot poll the history (retried): %s", exc)
            else:
                if seen is None:  # the first look: streams opened meanwhile re-read once
                    targets = {BROADCAST}
                for sub in list(self._subs):
                    if BROADCAST in targets or sub.conversation_id in targets:
                        sub.wake()
                seen = newest
            await asyncio.sleep(self.poll_s)

    def _end_streams(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            sub.closed = True
            sub.wake()

    def _chain_exit_signals(self) -> None:
        # A server waits for open responses before it shuts down, and an event
        # stream never ends by itself: on SIGINT/SIGTERM, end the streams first,
        # then let the server's own handler run (uvicorn installs one per run).
        if threading.current_thread() is not threading.main_thread() or self._chained:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self._end_streams)
                previous(signum, frame)

            signal.signal(sig, handler)
            self._chained[sig] = (handler, previous)


async def event_stream(
    hub: PushHub,
    sub: Subscription,
    *,
    after: int,
    start_id: int,
    banner: Callable[[], dict[str, Any]] | None,
    keepalive_s: float = 15.0,
) -> AsyncIterator[str]:
    """Server-sent events: the banner, then pushed messages after ``after``, as they come.

    The history is read when the hub wakes the stream, never on a timer."""
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if banner is not None:
            yield _event("banner", banner())
        while not sub.closed:
            sub.event.clear()
            rows = await run_in_threadpool(
                hub.history.pushed_after, sub.conversation_id, after=after, start_id=start_id
            )
            for row in rows:
                yield _event("message", row.to_json(), event_id=row.id)
                after = row.id
            if sub.banner_changed and banner is not None:
                sub.banner_changed = False
                yield _event("banner", banner())
            if rows:
                continue  # a full page may have been cut at the history limit
            try:
                await asyncio.wait_for(sub.event.wait(), timeout=keepalive_s)
            except TimeoutError:
                yield ": keep-alive\n\n"
    finally:
        hub.unsubscribe(sub)


def _event(kind: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class WebDeliverer:
    """Broadcast delivery to widgets: stored in the web history, pushed to open streams."""

    channel = "web"

    def __init__(self, hub: PushHub, *, concurrency: int = 4) -> None:
        self.hub = hub
        self.concurrency = concurrency

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Store ``text`` for conversation ``address`` (``web:<session>``) and wake its streams.

        The history's database unreachable is a temporary failure: retried later.
        """
        try:
            await run_in_threadpool(self.hub.publish, address, BotMessage(text))
        except HistoryError as exc:
            raise TemporaryFailure(str(exc)) from exc


class WebAgentChannel:
    """Agent replies and handoff notices to widgets: stored in the history, pushed live."""

    def __init__(self, hub: PushHub) -> None:
        self.hub = hub

    async def deliver(self, address: str, text: str, lang: str) -> None:
        """Store an agent's reply (role ``agent``) for ``address`` (``web:<session>``)."""
        await run_in_threadpool(self.hub.publish, address, BotMessage(text), role="agent")

    async def notice(self, address: str, text: str, lang: str) -> None:
        """Store a handoff notice (role ``notice``) for ``address``."""
        await run_in_threadpool(self.hub.publish, address, BotMessage(text), role="notice")
