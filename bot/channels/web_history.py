"""Server-side history of web chat conversations, so a reload brings the conversation back.

Every message (user turns, bot replies, pushed messages) gets a row with a
monotonically increasing id; pushed messages are what the event stream
resumes from (``Last-Event-ID``). Broadcasts are stored once, under
:data:`BROADCAST`, and shown to sessions that started before them.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.core.messages import BotMessage, Button, StatusCard
from bot.db import StorageError, as_utc, metadata, storage_error

logger = logging.getLogger(__name__)

BROADCAST = "*"
ROLES = ("user", "bot", "push", "agent", "notice")
# Roles the event stream pushes: broadcasts, agents' replies, handoff notices.
PUSHED_ROLES = ("push", "agent", "notice")

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # broadcasts with a larger id than this are shown to the session
    sa.Column("start_id", sa.Integer, nullable=False),
    # the last request of the session (rolling expiry); NULL: not used since release 0.1
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
)

# a session's last use is written at most this often (every request would be a write)
_TOUCH_EVERY = timedelta(minutes=1)

web_messages = sa.Table(
    "web_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("extra", sa.Text, nullable=False, default="{}"),  # buttons, status (JSON)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_web_messages_conversation_id_id", "conversation_id", "id"),
)


_INSERT = web_messages.insert()
# Every web chat turn reads its session: statements built once (building one costs more
# than running it on SQLite).
_SESSION = sa.select(
    web_sessions.c.start_id, web_sessions.c.created_at, web_sessions.c.last_seen_at
).where(web_sessions.c.sid == sa.bindparam("sid"))
_TOUCH = (  # bind names other than the columns': an UPDATE reserves those
    web_sessions.update()
    .where(web_sessions.c.sid == sa.bindparam("b_sid"))
    .values(last_seen_at=sa.bindparam("b_seen"))
)


class HistoryError(StorageError):
    """The web history database could not be reached or used."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a web conversation as stored (and as the widget receives it)."""

    id: int
    role: str
    text: str
    at: datetime
    buttons: tuple[Button, ...] = ()
    status: StatusCard | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the widget renders."""
        out: dict[str, Any] = {
            "id": self.id,
            "role": self.role,
            "text": self.text,
            "at": self.at.isoformat().replace("+00:00", "Z"),
        }
        if self.buttons:
            out["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.status is not None:
            out["status"] = self.status.to_json()
        return out


class WebHistory:
    """Sessions and messages of the web channel, in the app database (SQLAlchemy Core)."""

    def __init__(self, engine: sa.Engine, *, limit: int = 200) -> None:
        self.limit = limit
        # Inserts commit in id order within this process, so a reader that saw
        # id N never later finds a smaller id appearing (the stream's cursor).
        self._write_lock = threading.Lock()
        self._engine = engine

    def start_session(self, sid: str) -> int:
        """Record a session (idempotent); returns the id after which broadcasts are shown."""
        try:
            with self._write_lock, self._engine.begin() as conn:
                row = conn.execute(
                    sa.select(web_sessions.c.start_id).where(web_sessions.c.sid == sid)
                ).first()
                if row is not None:
                    return int(row[0])
                start = conn.execute(sa.select(sa.func.max(web_messages.c.id))).scalar() or 0
                now = datetime.now(UTC)
                conn.execute(
                    web_sessions.insert().values(
                        sid=sid, created_at=now, start_id=int(start), last_seen_at=now
                    )
                )
                return int(start)
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot record the session", exc, HistoryError) from exc

    def resume_session(self, sid: str, *, idle: timedelta) -> int | None:
        """Like :meth:`start_session`, but None when the session was idle longer than ``idle``.

        Each use moves the session's expiry on (rolling): it ends ``idle`` after its last use.
        """
        now = datetime.now(UTC)
        try:
            with self._write_lock, self._engine.begin() as conn:
                row = conn.execute(_SESSION, {"sid": sid}).first()
                if row is not None:
                    seen = as_utc(row.last_seen_at or row.created_at)
                    if seen < now - idle:
                        return None
                    if seen < now - _TOUCH_EVERY:
                        conn.execute(_TOUCH, {"b_sid": sid, "b_seen": now})
                    return int(row.start_id)
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot record the session", exc, HistoryError) from exc
        return self.start_session(sid)

    def append(
        self, conversation_id: str, role: str, messages: list[BotMessage]
    ) -> list[StoredMessage]:
        """Store ``messages`` in order under ``conversation_id`` and return them with ids."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        try:
            with self._write_lock, self._engine.begin() as conn:
                return _insert(conn, conversation_id, role, messages, datetime.now(UTC))
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot store messages", exc, HistoryError) from exc

    def append_turn(
        self,
        conversation_id: str,
        user: list[BotMessage],
        replies: list[BotMessage],
        *,
        asked_at: datetime | None = None,
    ) -> tuple[list[StoredMessage], list[StoredMessage]]:
        """Store a turn (the user's message, then the bot's replies) in one transaction."""
        now = datetime.now(UTC)
        try:
            with self._write_lock, self._engine.begin() as conn:
                stored_user = _insert(conn, conversation_id, "user", user, asked_at or now)
                return stored_user, _insert(conn, conversation_id, "bot", replies, now)
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot store messages", exc, HistoryError) from exc

    def history(self, conversation_id: str, *, start_id: int) -> list[StoredMessage]:
        """The last messages of a conversation, with broadcasts since ``start_id``, oldest first."""
        query = (
            sa.select(web_messages)
            .where(_visible(conversation_id, start_id))
            .order_by(web_messages.c.id.desc())
            .limit(self.limit)
        )
        return list(reversed(self._select(query)))

    def pushed_after(
        self, conversation_id: str, *, after: int, start_id: int
    ) -> list[StoredMessage]:
        """Pushed messages (to this conversation or everyone) with an id above ``after``."""
        query = (
            sa.select(web_messages)
            .where(
                web_messages.c.id > after,
                web_messages.c.role.in_(PUSHED_ROLES),
                _visible(conversation_id, start_id),
            )
            .order_by(web_messages.c.id)
            .limit(self.limit)
        )
        return self._select(query)

    def changes_after(self, after: int | None) -> tuple[int, set[str]]:
        """(the newest message id, at least ``after``; the targets of pushed messages above
        ``after``, none when ``after`` is None): for the push hub's fallback poll."""
        pushed = (
            sa.select(web_messages.c.conversation_id)
            .where(web_messages.c.id > (after or 0), web_messages.c.role.in_(PUSHED_ROLES))
            .distinct()
        )
        try:
            with self._engine.connect() as conn:
                newest = conn.execute(sa.select(sa.func.max(web_messages.c.id))).scalar()
                found = newest is not None and after is not None and newest > after
                targets = {str(t) for (t,) in conn.execute(pushed)} if found else set()
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read the web history", exc, HistoryError) from exc
        return max(after or 0, int(newest or 0)), targets

    def dispose(self) -> None:
        """Nothing to release: the engine belongs to the :class:`bot.db.Database` that opened it."""

    def _select(self, query: sa.Select[Any]) -> list[StoredMessage]:
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error("cannot read the web history", exc, HistoryError) from exc
        return [_message(r) for r in rows]


def _insert(
    conn: sa.Connection, conversation_id: str, role: str, messages: list[BotMessage], at: datetime
) -> list[StoredMessage]:
    stored: list[StoredMessage] = []
    for m in messages:
        row = {
            "conversation_id": conversation_id[:200],
            "role": role,
            "text": m.text,
            "extra": json.dumps(_extra(m)),
            "created_at": at,
        }
        result = conn.execute(_INSERT, row)
        (new_id,) = result.inserted_primary_key or (0,)
        stored.append(StoredMessage(int(new_id), role, m.text, at, m.buttons, m.status))
    return stored


def _visible(conversation_id: str, start_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(
        web_messages.c.conversation_id == conversation_id,
        sa.and_(web_messages.c.conversation_id == BROADCAST, web_messages.c.id > start_id),
    )


def _extra(message: BotMessage) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if message.buttons:
        extra["buttons"] = [[b.title, b.payload] for b in message.buttons]
    if message.status is not None:
        extra["status"] = message.status.to_json()
    return extra


def _message(row: Any) -> StoredMessage:
    extra = json.loads(row["extra"] or "{}")
    at = row["created_at"]
    return StoredMessage(
        id=int(row["id"]),
        role=str(row["role"]),
        text=str(row["text"]),
        at=as_utc(at),
        buttons=tuple(Button(t, p) for t, p in extra.get("buttons", ())),
        status=_stored_card(extra),
    )


def _stored_card(extra: dict[str, Any]) -> StatusCard | None:
    """The status card of a stored row; rows from before the typed card kept Rasa's ``custom``."""
    if "status" in extra:
        return StatusCard.from_json(extra["status"])
    custom = extra.get("custom")
    return StatusCard.from_json(custom.get("status")) if isinstance(custom, dict) else None
