"""The persisted outbox: one row per recipient per broadcast, the delivery audit too.

A broadcast and all its outbox rows are written in one transaction, keyed by
what the broadcast is about (one status update, one announcement), so a
broadcast is created once even when several replicas see the same update,
and each recipient gets one row (unique per broadcast and conversation).

Workers claim due rows (``pending`` -> ``sending``, with an owner and a
lease), send them, and mark them ``sent``, ``failed`` or ``retired``. After a
crash, rows a dead owner held in ``sending`` go back to ``pending`` (flagged
``interrupted``): nothing is skipped. A row is sent again only if the crash
came while its own request was in flight; those rows are counted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.broadcast.tables import broadcasts, channel_leases, outbox
from bot.db import as_utc
from bot.status.live import utc_now

logger = logging.getLogger(__name__)

STATES = ("pending", "sending", "sent", "failed", "retired")
_INSERT_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One message to many: an incident update, a resolution, an announcement."""

    key: str
    kind: str
    title: str = ""
    incident_id: str | None = None
    update_id: str | None = None
    components: tuple[str, ...] = ()
    created_by: str = "status feed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one recipient, as it goes into the outbox."""

    conversation_id: str
    channel: str
    address: str
    lang: str
    text: str
    subscription_id: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed outbox row, ready to send."""

    id: int
    broadcast_id: int
    subscription_id: int | None
    conversation_id: str
    channel: str
    address: str
    lang: str
    text: str
    attempts: int
    interrupted: bool


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """A broadcast with how far its delivery got."""

    id: int
    key: str
    kind: str
    title: str
    created_at: datetime
    created_by: str
    recipients: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True when no row waits to be sent."""
        return not (self.counts.get("pending", 0) or self.counts.get("sending", 0))


@dataclass(frozen=True, slots=True)
class AuditRow:
    """What one recipient was sent (or not), when, and from which broadcast."""

    outbox_id: int
    broadcast_id: int
    broadcast_key: str
    kind: str
    update_id: str | None
    conversation_id: str
    channel: str
    lang: str
    text: str
    state: str
    attempts: int
    interrupted: bool
    sent_at: datetime | None
    error: str | None


class Outbox:
    """Data access for broadcasts and outbox rows (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine, *, max_attempts: int = 8) -> None:
        self._engine = engine
        self._max_attempts = max_attempts
        self._skip_locked = engine.dialect.name == "postgresql"

    @property
    def engine(self) -> sa.Engine:
        """The app database engine."""
        return self._engine

    def known(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` already have a broadcast."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    conn.execute(sa.select(broadcasts.c.key).where(broadcasts.c.key.in_(chunk)))
                    .scalars()
                    .all()
                )
        return found

    def broadcast_id(self, key: str) -> int | None:
        """The id of the broadcast written under ``key``, if any."""
        with self._engine.connect() as conn:
            found = conn.execute(sa.select(broadcasts.c.id).where(broadcasts.c.key == key)).scalar()
        return int(found) if found is not None else None

    def enqueue(self, broadcast: Broadcast, deliveries: Sequence[Delivery]) -> int | None:
        """Create the broadcast and its outbox rows at once; None if ``key`` already exists."""
        now = utc_now()
        unique: dict[str, Delivery] = {}
        for d in deliveries:
            unique.setdefault(d.conversation_id, d)
        try:
            with self._engine.begin() as conn:
                broadcast_id = conn.execute(
                    broadcasts.insert()
                    .values(
                        key=broadcast.key[:300],
                        kind=broadcast.kind,
                        incident_id=broadcast.incident_id,
                        update_id=broadcast.update_id,
                        title=broadcast.title,
                        components="\n".join(broadcast.components),
                        created_at=now,
                        created_by=broadcast.created_by[:200],
                        recipients=len(unique),
                    )
                    .returning(broadcasts.c.id)
                ).scalar_one()
                rows = [
                    {
                        "broadcast_id": broadcast_id,
                        "subscription_id": d.subscription_id,
                        "conversation_id": d.conversation_id,
                        "channel": d.channel,
                        "address": d.address,
                        "lang": d.lang,
                        "text": d.text,
                        "state": "pending",
                        "attempts": 0,
                        "interrupted": 0,
                        "due_at": now,
                    }
                    for d in unique.values()
                ]
                for start in range(0, len(rows), _INSERT_CHUNK):
                    conn.execute(outbox.insert(), rows[start : start + _INSERT_CHUNK])
        except sa.exc.IntegrityError:
            if broadcast.key in self.known([broadcast.key]):
                return None
            raise
        logger.info(
            "broadcast %d (%s, %s): %d recipients",
            broadcast_id,
            broadcast.kind,
            broadcast.key,
            len(unique),
        )
        return int(broadcast_id)

    def claim(
        self, channels: Sequence[str], owner: str, *, limit: int, lease_s: float = 120.0
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due rows of ``channels`` for ``owner`` (oldest first)."""
        now = utc_now()
        token = f"{owner}/{uuid.uuid4().hex[:12]}"
        due = (
            sa.select(outbox.c.id)
            .where(
                outbox.c.state == "pending",
                outbox.c.channel.in_(list(channels)),
                outbox.c.due_at <= now,
            )
            .order_by(outbox.c.due_at, outbox.c.id)
            .limit(limit)
        )
        if self._skip_locked:
            due = due.with_for_update(skip_locked=True)
        with self._engine.begin() as conn:
            # Two steps: PostgreSQL may re-run a LIMIT ... SKIP LOCKED subquery per row.
            ids = list(conn.execute(due).scalars().all())
            if not ids:
                return []
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(ids), outbox.c.state == "pending")
                .values(
                    state="sending",
                    owner=token[:120],
                    lease_until=now + timedelta(seconds=lease_s),
                    attempts=outbox.c.attempts + 1,
                )
            )
            rows = conn.execute(
                sa.select(outbox)
                .where(outbox.c.owner == token[:120], outbox.c.state == "sending")
                .order_by(outbox.c.id)
            ).all()
        return [
            OutboxItem(
                id=r.id,
                broadcast_id=r.broadcast_id,
                subscription_id=r.subscription_id,
                conversation_id=r.conversation_id,
                channel=r.channel,
                address=r.address,
                lang=r.lang,
                text=r.text,
                attempts=r.attempts,
                interrupted=bool(r.interrupted),
            )
            for r in rows
        ]

    def hold_channel(
        self,
        channel: str,
        owner: str,
        *,
        lease_s: float,
        owner_alive: Callable[[str], bool],
    ) -> bool:
        """Take or keep the right to send ``channel``'s broadcasts; False: another worker has it."""
        now = utc_now()
        until = now + timedelta(seconds=lease_s)
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(channel_leases).where(channel_leases.c.channel == channel)
            ).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            channel_leases.insert().values(
                                channel=channel, owner=owner, until=until
                            )
                        )
                except sa.exc.IntegrityError:
                    return False
                return True
            expired = as_utc(row.until) <= now
            if row.owner != owner and not expired and owner_alive(row.owner):
                return False
            result = conn.execute(
                channel_leases.update()
                .where(channel_leases.c.channel == channel, channel_leases.c.owner == row.owner)
                .values(owner=owner, until=until)
            )
            return result.rowcount == 1

    def release_channel(self, channel: str, owner: str) -> None:
        """Give up the right to send ``channel``'s broadcasts (another worker takes over)."""
        with self._engine.begin() as conn:
            conn.execute(
                channel_leases.delete().where(
                    channel_leases.c.channel == channel, channel_leases.c.owner == owner
                )
            )

    def sent(self, item_id: int) -> None:
        """The recipient got it."""
        self._finish(item_id, state="sent", sent_at=utc_now(), error=None)

    def retired(self, item_id: int, reason: str) -> None:
        """The recipient cannot be reached any more (blocked the bot, left)."""
        self._finish(item_id, state="retired", error=reason[:300])

    def failed(self, item_id: int, reason: str) -> None:
        """A permanent failure: not retried."""
        self._finish(item_id, state="failed", error=reason[:300])

    def retry(self, item: OutboxItem, reason: str, *, delay_s: float) -> bool:
        """A transient failure: try again after ``delay_s`` (False: out of attempts, failed)."""
        if item.attempts >= self._max_attempts:
            self.failed(item.id, f"gave up after {item.attempts} attempts: {reason}")
            return False
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item.id, outbox.c.state == "sending")
                .values(
                    state="pending",
                    owner=None,
                    lease_until=None,
                    due_at=utc_now() + timedelta(seconds=delay_s),
                    error=reason[:300],
                )
            )
        return True

    def _finish(self, item_id: int, **values: object) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id == item_id)
                .values(owner=None, lease_until=None, **values)
            )

    def renew(self, owner: str, *, lease_s: float = 120.0) -> None:
        """Extend the lease of every row ``owner`` holds (long rate-limit pauses)."""
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.owner.like(f"{owner}/%"), outbox.c.state == "sending")
                .values(lease_until=utc_now() + timedelta(seconds=lease_s))
            )

    def recover(self, owner_alive: Callable[[str], bool]) -> int:
        """Put rows held by dead owners (or with expired leases) back in the queue."""
        now = utc_now()
        with self._engine.begin() as conn:
            rows = conn.execute(
                sa.select(outbox.c.id, outbox.c.owner, outbox.c.lease_until).where(
                    outbox.c.state == "sending"
                )
            ).all()
            stale = [
                r.id
                for r in rows
                if not owner_alive(str(r.owner or "").split("/")[0])
                or r.lease_until is None
                or as_utc(r.lease_until) <= now
            ]
            for start in range(0, len(stale), 500):
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(stale[start : start + 500]), outbox.c.state == "sending")
                    .values(state="pending", owner=None, lease_until=None, interrupted=1)
                )
        if stale:
            logger.warning("outbox: %d deliveries interrupted by a stop; queued again", len(stale))
        return len(stale)

    def progress(
        self, *, limit: int = 50, broadcast_id: int | None = None
    ) -> list[BroadcastProgress]:
        """Recent broadcasts (newest first) with their rows counted by state."""
        query = sa.select(broadcasts).order_by(broadcasts.c.id.desc()).limit(limit)
        if broadcast_id is not None:
            query = sa.select(broadcasts).where(broadcasts.c.id == broadcast_id)
        with self._engine.connect() as conn:
            # (subscribe confirmations travel through the outbox too, but are no broadcast)
            hidden = ("seen", "confirmation")
            heads = conn.execute(query.where(broadcasts.c.kind.not_in(hidden))).all()
            ids = [h.id for h in heads]
            counts: dict[int, dict[str, int]] = {i: {} for i in ids}
            if ids:
                for bid, state, n in conn.execute(
                    sa.select(outbox.c.broadcast_id, outbox.c.state, sa.func.count())
                    .where(outbox.c.broadcast_id.in_(ids))
                    .group_by(outbox.c.broadcast_id, outbox.c.state)
                ).all():
                    counts[bid][state] = n
        result = []
        for h in heads:
            result.append(
                BroadcastProgress(
                    id=h.id,
                    key=h.key,
                    kind=h.kind,
                    title=h.title or "",
                    created_at=as_utc(h.created_at),
                    created_by=h.created_by,
                    recipients=h.recipients,
                    counts=counts[h.id],
                )
            )
        return result

    def audit(
        self,
        *,
        conversation_id: str | None = None,
        broadcast_id: int | None = None,
        states: Sequence[str] = (),
        limit: int = 200,
    ) -> list[AuditRow]:
        """Outbox rows (newest first) for one recipient, one broadcast, or some states."""
        query = (
            sa.select(outbox, broadcasts.c.key, broadcasts.c.kind, broadcasts.c.update_id)
            .join(broadcasts, broadcasts.c.id == outbox.c.broadcast_id)
            .order_by(outbox.c.id.desc())
            .limit(limit)
        )
        if conversation_id is not None:
            query = query.where(outbox.c.conversation_id == conversation_id)
        if broadcast_id is not None:
            query = query.where(outbox.c.broadcast_id == broadcast_id)
        if states:
            query = query.where(outbox.c.state.in_(list(states)))
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditRow(
                outbox_id=r.id,
                broadcast_id=r.broadcast_id,
                broadcast_key=r.key,
                kind=r.kind,
                update_id=r.update_id,
                conversation_id=r.conversation_id,
                channel=r.channel,
                lang=r.lang,
                text=r.text,
                state=r.state,
                attempts=r.attempts,
                interrupted=bool(r.interrupted),
                sent_at=as_utc(r.sent_at) if r.sent_at else None,
                error=r.error,
            )
            for r in rows
        ]
