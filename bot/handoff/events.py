"""The handoff event log as its consumers read it: the webhook (slot 1), Chatwoot (slot 2).

Events are written by :class:`~bot.handoff.store.HandoffStore` in the transaction of
the change they describe. Each consumer keeps a cursor and a lease in one row of
``handoff_webhook_state``: one replica at a time consumes, in order, and a
restart continues after the last event it handled.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.db import as_utc
from bot.handoff.store import iso, utc_now
from bot.handoff.tables import handoff_events, handoff_webhook_state, handoffs


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
