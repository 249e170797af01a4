"""Handoffs in the app database: the queue, atomic claims, messages, presence, audit.

Every state change is one conditional ``UPDATE`` (``... WHERE state = 'waiting'``):
the database decides which of two replicas (or agents) wins, never a read
followed by a write.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.db import StorageError, as_utc, storage_error
from bot.handoff.tables import (
    ACTIVE,
    CLOSED,
    OPEN_STATES,
    WAITING,
    handoff_agents,
    handoff_audit,
    handoff_events,
    handoff_messages,
    handoffs,
)

logger = logging.getLogger(__name__)

ROLES = ("user", "bot", "agent")


class HandoffStoreError(StorageError):
    """The handoff tables could not be read or written."""


@dataclass(frozen=True, slots=True)
class Handoff:
    """One request for a person, from the queue to its end."""

    id: int
    conversation_id: str
    channel: str
    lang: str
    state: str
    opened_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    closed_by: str | None = None

    @property
    def is_open(self) -> bool:
        """Waiting or with an agent: the bot holds its replies back."""
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class HandoffMessage:
    """One message of a handoff's transcript."""

    id: int
    handoff_id: int
    role: str
    text: str
    at: datetime
    author: str | None = None
    delivery: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The transcript entry of the staff API (delivery fields only on agent replies)."""
        out: dict[str, Any] = {"role": self.role, "text": self.text, "at": iso(self.at)}
        if self.role == "agent":
            out.update(author=self.author, delivery=self.delivery, error=self.error)
        out["id"] = self.id
        return out


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited handoff event: who did what, when."""

    at: datetime
    actor: str
    action: str
    handoff_id: int
    detail: str


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What the queue looks like now and today (for customers and supervisors)."""

    waiting: int
    active: int
    longest_wait_s: float | None
    handled_today: int
    agents_online: int
    pickup_waits_s: tuple[float, ...]  # recent opened -> claimed
    handling_s: tuple[float, ...]  # recent claimed -> ended


# Every customer turn reads this (bot/dialogue.py): built once, as building a statement
# costs about three times running it on SQLite (measured: 210 -> 60 us per gate).
_GATE = sa.select(handoffs).where(
    handoffs.c.conversation_id == sa.bindparam("cid"),
    sa.or_(handoffs.c.state.in_(OPEN_STATES), handoffs.c.rasa_paused.is_(True)),
)


class HandoffStore:
    """Handoffs over SQLAlchemy Core on the app database."""

    def __init__(self, engine: sa.Engine, *, online_s: float = 120.0) -> None:
        self._engine = engine
        self.online_s = online_s

    @property
    def engine(self) -> sa.Engine:
        """The app database's engine (for the Chatwoot bridge's tables)."""
        return self._engine

    # -- the queue -------------------------------------------------------------

    def open(
        self,
        conversation_id: str,
        channel: str,
        lang: str,
        *,
        transcript: Sequence[tuple[str, str, datetime]] = (),
    ) -> tuple[Handoff, bool]:
        """Open a handoff (with the transcript so far); (the open one, False) if there is one."""
        now = utc_now()
        try:
            with self._begin() as conn:
                current = _open_of(conn, conversation_id)
                if current is not None:
                    return current, False
                result = conn.execute(
                    handoffs.insert().values(
                        conversation_id=conversation_id[:200],
                        channel=channel[:20],
                        lang=lang[:8],
                        state=WAITING,
                        opened_at=now,
                        rasa_paused=True,
                    )
                )
                (new_id,) = result.inserted_primary_key or (0,)
                _event(conn, int(new_id), "requested", now)
                for role, text, at in transcript:
                    if role in ROLES and text:
                        _add(conn, int(new_id), role, text, at)
                _audit(conn, "customer", "requested", int(new_id), channel, now)
                handoff = _get(conn, int(new_id))
                assert handoff is not None
                return handoff, True
        except sa.exc.IntegrityError:
            # another replica opened one for this conversation at the same moment
            found = self.current(conversation_id)
            if found is None:
                raise HandoffStoreError("cannot open the handoff: conflicting write") from None
            return found, False

    def get(self, handoff_id: int) -> Handoff | None:
        """One handoff by id (None when unknown)."""
        with self._connect() as conn:
            return _get(conn, handoff_id)

    def current(self, conversation_id: str) -> Handoff | None:
        """The conversation's open handoff, if any."""
        with self._connect() as conn:
            return _open_of(conn, conversation_id)

    def gate(self, conversation_id: str) -> tuple[Handoff | None, bool]:
        """In one query: the open handoff, and whether an ended one left Rasa paused."""
        with self._connect() as conn:
            rows = [_handoff(r) for r in conn.execute(_GATE, {"cid": conversation_id}).mappings()]
        open_ = next((h for h in rows if h.is_open), None)
        return open_, any(not h.is_open for h in rows)

    def needs_resume(self, conversation_id: str) -> bool:
        """True when a handoff of this conversation ended and Rasa's tracker is still paused."""
        query = sa.select(handoffs.c.id).where(
            handoffs.c.conversation_id == conversation_id,
            handoffs.c.state == CLOSED,
            handoffs.c.rasa_paused.is_(True),
        )
        with self._connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def resumed(self, conversation_id: str) -> None:
        """Rasa's tracker of this conversation was resumed."""
        with self._begin() as conn:
            conn.execute(
                handoffs.update()
                .where(
                    handoffs.c.conversation_id == conversation_id,
                    handoffs.c.state == CLOSED,
                    handoffs.c.rasa_paused.is_(True),
                )
                .values(rasa_paused=False)
            )

    def in_state(self, state: str, *, limit: int = 200) -> list[Handoff]:
        """Handoffs in ``state``: waiting and active oldest first, closed newest first."""
        order = handoffs.c.closed_at.desc() if state == CLOSED else handoffs.c.opened_at
        query = (
            sa.select(handoffs)
            .where(handoffs.c.state == state)
            .order_by(order, handoffs.c.id)
            .limit(limit)
        )
        with self._connect() as conn:
            return [_handoff(r) for r in conn.execute(query).mappings()]

    def place(self, handoff: Handoff) -> int:
        """The handoff's place in the queue (1: next), 0 when it is not waiting."""
        if handoff.state != WAITING:
            return 0
        query = sa.select(sa.func.count()).where(
            handoffs.c.state == WAITING, handoffs.c.id <= handoff.id
        )
        with self._connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    # -- claims and endings ----------------------------------------------------

    def claim(self, handoff_id: int, agent: str) -> bool:
        """Take a waiting handoff for ``agent`` (atomic; True again for its holder)."""
        now = utc_now()
        with self._begin() as conn:
            result = conn.execute(
                handoffs.update()
                .where(
                    handoffs.c.id == handoff_id,
                    sa.or_(
                        handoffs.c.state == WAITING,
                        sa.and_(handoffs.c.state == ACTIVE, handoffs.c.claimed_by == agent),
                    ),
                )
                .values(
                    state=ACTIVE,
                    claimed_by=agent,
                    claimed_at=sa.func.coalesce(handoffs.c.claimed_at, now),
                )
            )
            won = result.rowcount == 1
            if won:
                _audit(conn, agent, "claimed", handoff_id, "", now)
                _event(conn, handoff_id, "claimed", now, agent=agent)
            return won

    def end(self, handoff_id: int, actor: str, outcome: str, *, holder: str | None) -> bool:
        """Close an open handoff (``holder``: only if that agent has it, or it is waiting)."""
        now = utc_now()
        condition: sa.ColumnElement[bool] = handoffs.c.state.in_(OPEN_STATES)
        if holder is not None:
            condition = sa.and_(
                condition,
                sa.or_(handoffs.c.state == WAITING, handoffs.c.claimed_by == holder),
            )
        with self._begin() as conn:
            result = conn.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff_id, condition)
                .values(state=CLOSED, closed_at=now, outcome=outcome, closed_by=actor)
            )
            done = result.rowcount == 1
            if done:
                _audit(conn, actor, outcome, handoff_id, "", now)
                _event(conn, handoff_id, outcome, now, by=actor)
            return done

    # -- messages --------------------------------------------------------------

    def add_message(
        self,
        handoff_id: int,
        role: str,
        text: str,
        *,
        author: str | None = None,
        holder: str | None = None,
    ) -> HandoffMessage | None:
        """Append a message; with ``holder``, only while that agent has the handoff (else None)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        now = utc_now()
        with self._begin() as conn:
            if holder is not None:
                # a no-op write locks the row (PostgreSQL) or the database (SQLite):
                # a release racing this reply waits for it, or wins first
                held = conn.execute(
                    handoffs.update()
                    .where(
                        handoffs.c.id == handoff_id,
                        handoffs.c.state == ACTIVE,
                        handoffs.c.claimed_by == holder,
                    )
                    .values(claimed_by=holder)
                )
                if held.rowcount != 1:
                    return None
            message = _add(conn, handoff_id, role, text, now, author=author)
            if role == "agent":
                _audit(conn, author or "?", "replied", handoff_id, f"message {message.id}", now)
            return message

    def delivered(self, message_id: int, error: str | None) -> HandoffMessage:
        """Record how an agent reply's delivery went (``error`` None: sent)."""
        with self._begin() as conn:
            conn.execute(
                handoff_messages.update()
                .where(handoff_messages.c.id == message_id)
                .values(
                    delivery="failed" if error else "sent", error=(error or None) and error[:300]
                )
            )
            row = (
                conn.execute(sa.select(handoff_messages).where(handoff_messages.c.id == message_id))
                .mappings()
                .one()
            )
            return _message(row)

    def transcript(self, handoff_id: int, *, after: int = 0) -> list[HandoffMessage]:
        """The handoff's messages (after message id ``after``), oldest first."""
        query = (
            sa.select(handoff_messages)
            .where(handoff_messages.c.handoff_id == handoff_id, handoff_messages.c.id > after)
            .order_by(handoff_messages.c.id)
        )
        with self._connect() as conn:
            return [_message(r) for r in conn.execute(query).mappings()]

    def transcripts(self, handoff_ids: Sequence[int]) -> dict[int, list[HandoffMessage]]:
        """The messages of several handoffs at once."""
        out: dict[int, list[HandoffMessage]] = {i: [] for i in handoff_ids}
        if not handoff_ids:
            return out
        query = (
            sa.select(handoff_messages)
            .where(handoff_messages.c.handoff_id.in_(list(handoff_ids)))
            .order_by(handoff_messages.c.id)
        )
        with self._connect() as conn:
            for row in conn.execute(query).mappings():
                out[int(row["handoff_id"])].append(_message(row))
        return out

    def last_change(self) -> int:
        """A number that grows with every message or state change (for live pages)."""
        with self._connect() as conn:
            messages = conn.execute(sa.select(sa.func.max(handoff_messages.c.id))).scalar() or 0
            audit = conn.execute(sa.select(sa.func.max(handoff_audit.c.id))).scalar() or 0
        return int(messages) + int(audit)

    # -- agents, figures, audit --------------------------------------------------

    def seen(self, agent: str) -> None:
        """``agent`` is at work now (inbox open, API used)."""
        now = utc_now()
        with self._begin() as conn:
            updated = conn.execute(
                handoff_agents.update().where(handoff_agents.c.agent == agent).values(seen_at=now)
            )
            if updated.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(handoff_agents.insert().values(agent=agent, seen_at=now))
                except sa.exc.IntegrityError:
                    pass  # another request of the same agent inserted it

    def figures(self, *, window: timedelta = timedelta(hours=24)) -> QueueFigures:
        """Queue length, longest wait, handled today, agents online, recent waits."""
        now = utc_now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        since = now - window
        with self._connect() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    sa.select(handoffs.c.state, sa.func.count())
                    .where(handoffs.c.state.in_(OPEN_STATES))
                    .group_by(handoffs.c.state)
                ).all()
            )
            oldest = conn.execute(
                sa.select(sa.func.min(handoffs.c.opened_at)).where(handoffs.c.state == WAITING)
            ).scalar()
            handled = conn.execute(
                sa.select(sa.func.count()).where(
                    handoffs.c.claimed_at.is_not(None),
                    handoffs.c.state == CLOSED,
                    handoffs.c.closed_at >= midnight,
                )
            ).scalar()
            online = conn.execute(
                sa.select(sa.func.count()).where(
                    handoff_agents.c.seen_at >= now - timedelta(seconds=self.online_s)
                )
            ).scalar()
            recent = conn.execute(
                sa.select(handoffs.c.opened_at, handoffs.c.claimed_at, handoffs.c.closed_at)
                .where(handoffs.c.claimed_at >= since)
                .order_by(handoffs.c.claimed_at.desc())
                .limit(200)
            ).all()
        pickups = tuple((as_utc(c) - as_utc(o)).total_seconds() for o, c, _ in recent)
        handling = tuple(
            (as_utc(e) - as_utc(c)).total_seconds() for _, c, e in recent if e is not None
        )
        return QueueFigures(
            waiting=int(counts.get(WAITING, 0)),
            active=int(counts.get(ACTIVE, 0)),
            longest_wait_s=(now - as_utc(oldest)).total_seconds() if oldest else None,
            handled_today=int(handled or 0),
            agents_online=int(online or 0),
            pickup_waits_s=pickups,
            handling_s=handling,
        )

    def audit(self, *, limit: int = 200) -> list[AuditRecord]:
        """The latest audited handoff events, newest first."""
        query = sa.select(handoff_audit).order_by(handoff_audit.c.id.desc()).limit(limit)
        with self._connect() as conn:
            return [
                AuditRecord(as_utc(r["at"]), r["actor"], r["action"], r["handoff_id"], r["detail"])
                for r in conn.execute(query).mappings()
            ]

    def record(self, actor: str, action: str, handoff_id: int, detail: str = "") -> None:
        """Add an audit record (for events decided outside the store)."""
        with self._begin() as conn:
            _audit(conn, actor, action, handoff_id, detail, utc_now())

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot update handoffs", exc, HandoffStoreError) from exc

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read handoffs", exc, HandoffStoreError) from exc


def utc_now() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def _get(conn: sa.Connection, handoff_id: int) -> Handoff | None:
    row = conn.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id)).mappings().first()
    return _handoff(row) if row else None


def _open_of(conn: sa.Connection, conversation_id: str) -> Handoff | None:
    row = (
        conn.execute(
            sa.select(handoffs).where(
                handoffs.c.conversation_id == conversation_id,
                handoffs.c.state.in_(OPEN_STATES),
            )
        )
        .mappings()
        .first()
    )
    return _handoff(row) if row else None


def _add(
    conn: sa.Connection,
    handoff_id: int,
    role: str,
    text: str,
    at: datetime,
    *,
    author: str | None = None,
) -> HandoffMessage:
    result = conn.execute(
        handoff_messages.insert().values(
            handoff_id=handoff_id, role=role, text=text, at=at, author=author
        )
    )
    (new_id,) = result.inserted_primary_key or (0,)
    message = HandoffMessage(int(new_id), handoff_id, role, text, as_utc(at), author)
    _event(conn, handoff_id, "message", at, message=message.to_json())
    return message


def _event(conn: sa.Connection, handoff_id: int, kind: str, at: datetime, **data: Any) -> None:
    conn.execute(
        handoff_events.insert().values(
            handoff_id=handoff_id, kind=kind, at=at, data=json.dumps(data, ensure_ascii=False)
        )
    )


def _audit(
    conn: sa.Connection, actor: str, action: str, handoff_id: int, detail: str, at: datetime
) -> None:
    conn.execute(
        handoff_audit.insert().values(
            at=at, actor=actor[:60], action=action[:20], handoff_id=handoff_id, detail=detail[:300]
        )
    )


def _handoff(row: Any) -> Handoff:
    def when(key: str) -> datetime | None:
        value = row[key]
        return as_utc(value) if value is not None else None

    return Handoff(
        id=int(row["id"]),
        conversation_id=str(row["conversation_id"]),
        channel=str(row["channel"]),
        lang=str(row["lang"]),
        state=str(row["state"]),
        opened_at=as_utc(row["opened_at"]),
        claimed_by=row["claimed_by"],
        claimed_at=when("claimed_at"),
        closed_at=when("closed_at"),
        outcome=row["outcome"],
        closed_by=row["closed_by"],
    )


def _message(row: Any) -> HandoffMessage:
    return HandoffMessage(
        id=int(row["id"]),
        handoff_id=int(row["handoff_id"]),
        role=str(row["role"]),
        text=str(row["text"]),
        at=as_utc(row["at"]),
        author=row["author"],
        delivery=row["delivery"],
        error=row["error"],
    )


def iso(at: datetime) -> str:
    """A UTC time as ISO 8601 with a Z."""
    return at.isoformat().replace("+00:00", "Z")
