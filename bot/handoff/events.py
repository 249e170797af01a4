"""The handoff event log as its consumers read it: the webhook (slot 1), Chatwoot (slot 2),
the Slack staff channel (slot 3).

Events are written by :class:`~bot.handoff.store.HandoffStore` in the transaction of
the change they describe. Each consumer keeps a cursor and a lease in one row of
``handoff_webhook_state``: one replica at a time consumes, in order, and a
restart continues after the last event it handled. :class:`EventConsumer` is that
loop, once; a consumer says only what it does with one event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.db import as_utc
from bot.handoff.store import iso, utc_now
from bot.handoff.tables import handoff_events, handoff_webhook_state, handoffs

logger = logging.getLogger(__name__)


class EventLog:
    """Cursors, leases and reads of the handoff event log."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def hold(self, owner: str, *, lease_s: float, slot: int = 1) -> int | None:
        """Take or renew an event consumer's lease (``slot`` 1: the webhook, 2: Chatwoot);
        the last event id it handled, None if another replica holds it."""
        now = utc_now()
        until = now + timedelta(seconds=lease_s)
        with self._engine.begin() as conn:
            state = handoff_webhook_state.c
            if conn.execute(sa.select(state.id).where(state.id == slot)).first() is None:
                try:
                    with conn.begin_nested():
                        start = conn.execute(sa.select(sa.func.max(handoff_events.c.id))).scalar()
                        conn.execute(
                            handoff_webhook_state.insert().values(
                                id=slot, last_event_id=int(start or 0), owner=None, lease_until=None
                            )
                        )
                except sa.exc.IntegrityError:
                    pass  # another replica created it
            result = conn.execute(
                handoff_webhook_state.update()
                .where(
                    state.id == slot,
                    sa.or_(
                        state.owner.is_(None),
                        state.owner == owner,
                        state.lease_until.is_(None),
                        state.lease_until < now,
                    ),
                )
                .values(owner=owner, lease_until=until)
            )
            if result.rowcount != 1:
                return None
            cursor = conn.execute(sa.select(state.last_event_id).where(state.id == slot))
            return int(cursor.scalar() or 0)

    def handled(self, owner: str, event_id: int, *, slot: int = 1) -> None:
        """The consumer handled every event up to ``event_id``."""
        with self._engine.begin() as conn:
            conn.execute(
                handoff_webhook_state.update()
                .where(handoff_webhook_state.c.id == slot, handoff_webhook_state.c.owner == owner)
                .values(last_event_id=event_id)
            )

    def release(self, owner: str, *, slot: int = 1) -> None:
        """Give the consumer's lease up (at stop)."""
        with self._engine.begin() as conn:
            conn.execute(
                handoff_webhook_state.update()
                .where(handoff_webhook_state.c.id == slot, handoff_webhook_state.c.owner == owner)
                .values(owner=None, lease_until=None)
            )

    def events_after(self, event_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
        """Events after ``event_id``, oldest first, as the webhook sends them."""
        query = (
            sa.select(
                handoff_events, handoffs.c.conversation_id, handoffs.c.channel, handoffs.c.lang
            )
            .join(handoffs, handoffs.c.id == handoff_events.c.handoff_id)
            .where(handoff_events.c.id > event_id)
            .order_by(handoff_events.c.id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                "id": int(r["id"]),
                "event": f"handoff.{r['kind']}",
                "at": iso(as_utc(r["at"])),
                "handoff": {
                    "id": int(r["handoff_id"]),
                    "conversation_id": r["conversation_id"],
                    "channel": r["channel"],
                    "lang": r["lang"],
                },
                **json.loads(r["data"]),
            }
            for r in rows
        ]


class EventConsumer:
    """One consumer of the event log, run as a background task of the app.

    One replica at a time holds the consumer's lease (its ``slot``) and handles
    the events after its cursor, in order; an event is handled until
    :meth:`handle` returns, so delivery is at least once. A failure is retried
    with exponential backoff (``expected`` failures logged in one line, others
    with their traceback). Events from before the consumer was first turned on
    are not handled: its cursor starts at the newest event.
    """

    slot: int = 1
    name: str = "handoff events"
    expected: tuple[type[Exception], ...] = ()

    def __init__(
        self,
        engine: sa.Engine,
        *,
        poll_s: float = 1.0,
        lease_s: float = 30.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        self._log = EventLog(engine)
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._max_backoff_s = max_backoff_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None

    async def handle(self, event: dict[str, Any]) -> bool:
        """Act on one event; True when it counts as done (sent, told, mirrored)."""
        raise NotImplementedError

    def describe(self, exc: Exception) -> str:
        """One line about an expected failure, for the log."""
        return str(exc)

    async def close(self) -> None:
        """Free what the consumer holds (clients), at stop."""

    async def start(self) -> None:
        """Start consuming."""
        self._task = asyncio.create_task(self._run(), name=f"handoff-slot-{self.slot}")
        logger.info("%s on", self.name)

    async def stop(self) -> None:
        """Stop consuming and give the lease up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.close()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._log.release, self.owner, slot=self.slot)

    async def consume(self) -> int:
        """Handle the events due now, if this replica holds the lease; how many counted.

        Raises what :meth:`handle` raises; the events before it stay handled.
        """
        cursor = await asyncio.to_thread(
            self._log.hold, self.owner, lease_s=self._lease_s, slot=self.slot
        )
        if cursor is None:
            return 0
        done = 0
        for event in await asyncio.to_thread(self._log.events_after, cursor):
            done += await self.handle(event)
            await asyncio.to_thread(self._log.handled, self.owner, event["id"], slot=self.slot)
        return done

    async def _run(self) -> None:
        backoff = self._poll_s
        while True:
            try:
                await self.consume()
                backoff = self._poll_s
            except asyncio.CancelledError:
                raise
            except self.expected as exc:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                logger.warning("%s: %s; retry in %.0f s", self.name, self.describe(exc), backoff)
            except Exception:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                logger.exception("%s failed", self.name)
            await asyncio.sleep(backoff)
