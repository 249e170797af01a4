"""Turns status changes and staff announcements into broadcasts in the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from bot.broadcast.announce import DetailRenderer, recipients
from bot.broadcast.compose import DEFAULT_MAX_AGE, Composer, EventFinder, StatusEvent
from bot.broadcast.outbox import Broadcast, Delivery, Outbox
from bot.broadcast.subscriptions import Recipient, Subscription, SubscriptionStore
from bot.status.live import LiveStatus
from bot.status.model import StatusSnapshot

logger = logging.getLogger(__name__)


class Broadcaster:
    """Listens to the live status; writes one broadcast per news item, one row per recipient."""

    def __init__(
        self,
        *,
        live: LiveStatus,
        subscriptions: SubscriptionStore,
        outbox: Outbox,
        composer: Composer,
        renderers: Mapping[str, Callable[[str], tuple[str, ...]]] | None = None,
        details: Mapping[str, DetailRenderer] | None = None,
        on_created: Callable[[], None] = lambda: None,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        self.live = live
        self.subscriptions = subscriptions
        self.outbox = outbox
        self.composer = composer
        # how a text looks on each channel (for previews): the wiring passes every channel's
        self.renderers: Mapping[str, Callable[[str], tuple[str, ...]]] = renderers or {}
        # what else email and SMS previews show (subject, HTML part, segments)
        self.details: Mapping[str, DetailRenderer] = details or {}
        self.on_created = on_created  # wakes the delivery worker
        self._finder = EventFinder(known=outbox.known, max_age=max_age)
        self._latest: StatusSnapshot | None = None
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._listening = False

    async def start(self) -> None:
        """Compare later snapshots with the restored one; catch up on what it holds."""
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        if self.live.snapshot is not None:
            for component in self.live.snapshot.leaf_components():
                self._finder.last_states.setdefault(component.id, component.status)
            self._latest = self.live.snapshot
            self._event.set()
        if not self._listening:
            self.live.subscribe(self._on_snapshot)
            self._listening = True
        self._task = asyncio.create_task(self._run(), name="broadcaster")

    async def stop(self) -> None:
        """Stop (a snapshot being processed is finished first: it is one transaction each)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_snapshot(self, snapshot: StatusSnapshot) -> None:
        self._latest = snapshot
        loop, event = self._loop, self._event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def _run(self) -> None:
        assert self._event is not None
        while True:
            await self._event.wait()
            self._event.clear()
            snapshot = self._latest
            if snapshot is None:
                continue
            try:
                created = await asyncio.to_thread(self.process, snapshot, now=self.live.now())
            except Exception:
                logger.exception("broadcast: processing a status change failed; retrying soon")
                await asyncio.sleep(5)
                self._event.set()
                continue
            if created:
                self.on_created()

    def process(self, snapshot: StatusSnapshot, *, now: datetime) -> list[int]:
        """Write the broadcasts ``snapshot`` calls for; returns their ids (none when known)."""
        events, seen = self._finder.events(snapshot, now=now)
        for key in seen:
            self.outbox.enqueue(Broadcast(key=key, kind="seen"), [])
        created: list[int] = []
        if not events:
            return created
        subscribers = self.subscriptions.active()
        for event in events:
            broadcast_id = self.outbox.enqueue(
                Broadcast(
                    key=event.key,
                    kind=event.kind,
                    title=event.title,
                    incident_id=event.incident.id if event.incident else None,
                    update_id=event.update.id if event.update else None,
                    components=event.component_names,
                ),
                self._deliveries(event, subscribers, now=now),
            )
            for key in event.superseded:
                self.outbox.enqueue(Broadcast(key=key, kind="seen"), [])
            if broadcast_id is not None:
                created.append(broadcast_id)
        return created

    def _deliveries(
        self, event: StatusEvent, subscribers: Sequence[Subscription], *, now: datetime
    ) -> list[Delivery]:
        texts: dict[tuple[str, str, bool], str] = {}

        def text(lang: str, channel: str, asker: bool) -> str:
            key = (lang, channel, asker)
            if key not in texts:
                texts[key] = self.composer.event_text(event, lang, channel, now=now, asker=asker)
            return texts[key]

        names = event.component_names
        deliveries = [
            _delivery(s.recipient, text(s.lang, s.channel, False), s.id)
            for s in subscribers
            if s.wants(names)
        ]
        if event.kind == "resolved" and event.incident is not None:
            told = {d.conversation_id for d in deliveries}
            for asker in self.subscriptions.askers(event.incident.id):
                if asker.conversation_id not in told:
                    deliveries.append(_delivery(asker, text(asker.lang, asker.channel, True), None))
        return deliveries

    def announce(
        self,
        texts: Mapping[str, str],
        *,
        components: Sequence[str] = (),
        created_by: str,
        key: str,
    ) -> int | None:
        """A staff announcement to every subscriber (or those of ``components``)."""
        deliveries = [
            _delivery(s.recipient, self.composer.announcement_text(texts, s.lang, s.channel), s.id)
            for s in recipients(self.subscriptions.active(), components)
        ]
        title = (texts.get("en") or next(iter(texts.values()), ""))[:200]
        broadcast_id = self.outbox.enqueue(
            Broadcast(
                key=key,
                kind="announcement",
                title=title,
                components=tuple(components),
                created_by=created_by,
            ),
            deliveries,
        )
        if broadcast_id is not None:
            self.on_created()
        return broadcast_id


def _delivery(recipient: Recipient, text: str, subscription_id: int | None) -> Delivery:
    return Delivery(
        conversation_id=recipient.conversation_id,
        channel=recipient.channel,
        address=recipient.address,
        lang=recipient.lang,
        text=text,
        subscription_id=subscription_id,
    )
