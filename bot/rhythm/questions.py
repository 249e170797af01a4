"""The question log: every customer question, its topics and how it ended, kept in the database.

Written cheaply: :meth:`QuestionLog.record` only appends to a buffer; the
buffer goes to the database in one insert per batch, from a worker thread
(every ``interval_s`` while the app runs, and when it stops), never on the
event loop. Read by the post-incident report and, per minute and topic, by
the dashboard (:meth:`QuestionLog.per_minute`).

Personal data (the conversation id, the text): erased and exported by
:mod:`bot.privacy` (the ``conversation_id`` column), purged after the
conversations' retention horizon (``FARO_RETAIN_CONVERSATIONS_DAYS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.db import StorageError, as_utc, storage_error
from bot.periodic import Periodic
from bot.rhythm.tables import question_log

logger = logging.getLogger(__name__)

OUTCOMES = ("answered", "declined", "handed_off", "status", "other")
NO_TOPIC = "other"
MAX_BUFFER = 10_000  # beyond this (database down for long), the oldest are dropped (logged)


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """One customer question as logged."""

    asked_at: datetime
    conversation_id: str
    channel: str
    lang: str
    text: str
    topics: tuple[str, ...]
    outcome: str


def normalized(text: str) -> str:
    """The text as questions are grouped: lower case, single spaces."""
    return " ".join(text.lower().split())[:500]


class QuestionLog:
    """Customer questions, buffered in memory and written in batches off the event loop."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        interval_s: float = 2.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop = Periodic(self._flush_async, interval_s=interval_s, name="question-log")

    def record(
        self,
        *,
        conversation_id: str,
        channel: str,
        lang: str,
        text: str,
        topics: Iterable[str] = (),
        outcome: str = "other",
        at: datetime | None = None,
    ) -> None:
        """Log one question (buffered: written by the next :meth:`flush`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        row = {
            "asked_at": at or self._clock(),
            "conversation_id": conversation_id[:200],
            "channel": channel[:20],
            "lang": (lang or "en")[:8],
            "text": text,
            "normalized": normalized(text),
            "topics": "\n".join(dict.fromkeys(t for t in topics if t)),
            "outcome": outcome,
        }
        with self._lock:
            self._buffer.append(row)
            if len(self._buffer) > MAX_BUFFER:
                dropped = len(self._buffer) - MAX_BUFFER
                del self._buffer[:dropped]
                logger.error("question log: %d questions dropped (database unreachable)", dropped)

    def flush(self) -> int:
        """Write the buffered questions in one insert; how many (kept for a retry on failure)."""
        with self._lock:
            rows, self._buffer = self._buffer, []
        if not rows:
            return 0
        try:
            with self._engine.begin() as conn:
                conn.execute(question_log.insert(), rows)
        except sa.exc.SQLAlchemyError as exc:
            with self._lock:
                self._buffer[:0] = rows
            raise storage_error("cannot write the question log", exc) from exc
        return len(rows)

    async def _flush_async(self) -> None:
        try:
            await asyncio.to_thread(self.flush)
        except StorageError as exc:
            logger.error("%s", exc)

    # -- reading ------------------------------------------------------------------

    def questions(self, *, since: datetime, until: datetime | None = None) -> list[LoggedQuestion]:
        """The questions asked from ``since`` to ``until`` (excluded), oldest first."""
        query = sa.select(question_log).where(question_log.c.asked_at >= since)
        if until is not None:
            query = query.where(question_log.c.asked_at < until)
        with self._read("cannot read the question log") as conn:
            rows = conn.execute(query.order_by(question_log.c.asked_at, question_log.c.id)).all()
        return [
            LoggedQuestion(
                asked_at=as_utc(r.asked_at),
                conversation_id=r.conversation_id,
                channel=r.channel,
                lang=r.lang,
                text=r.text,
                topics=tuple(t for t in r.topics.split("\n") if t),
                outcome=r.outcome,
            )
            for r in rows
        ]

    def per_minute(
        self, *, since: datetime, until: datetime | None = None
    ) -> list[tuple[datetime, str, int]]:
        """(minute, topic, count) from ``since`` to ``until``, by minute then topic.

        A question counts once under each of its topics; one with none under
        ``"other"``. Minutes are UTC, truncated; minutes without questions are absent.
        """
        minute = _minute(self._engine.dialect.name)
        query = (
            sa.select(minute, question_log.c.topics, sa.func.count())
            .where(question_log.c.asked_at >= since)
            .group_by(minute, question_log.c.topics)
        )
        if until is not None:
            query = query.where(question_log.c.asked_at < until)
        with self._read("cannot read the question log") as conn:
            rows = conn.execute(query).all()  # one row per minute and topic combination
        counts: Counter[tuple[datetime, str]] = Counter()
        for at, topics, n in rows:
            moment = _as_minute(at)
            for topic in [t for t in str(topics).split("\n") if t] or [NO_TOPIC]:
                counts[(moment, topic)] += int(n)
        return [(m, t, n) for (m, t), n in sorted(counts.items())]

    def purge(self, before: datetime) -> int:
        """Delete questions asked before ``before``; how many."""
        with self._write("cannot purge the question log") as conn:
            result = conn.execute(question_log.delete().where(question_log.c.asked_at < before))
        return int(result.rowcount or 0)

    # -- running ------------------------------------------------------------------

    async def start(self) -> None:
        """Flush every interval until stopped."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop, writing what is still buffered."""
        await self._loop.stop()
        await self._flush_async()

    @contextlib.contextmanager
    def _read(self, what: str) -> Iterator[sa.Connection]:
        self.flush_quietly()
        try:
            with self._engine.connect() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(what, exc) from exc

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(what, exc) from exc

    def flush_quietly(self) -> None:
        """Write what is buffered before a read in this process (errors logged)."""
        try:
            self.flush()
        except StorageError as exc:
            logger.error("%s", exc)


def _minute(dialect: str) -> sa.ColumnElement[Any]:
    """``asked_at`` truncated to the minute, in the database (grouped there)."""
    if dialect == "postgresql":
        return sa.func.date_trunc("minute", sa.func.timezone("UTC", question_log.c.asked_at))
    # SQLite keeps UTC times as text: the first 16 characters are the minute
    return sa.func.substr(question_log.c.asked_at, 1, 16)


def _as_minute(value: object) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value).replace(second=0, microsecond=0)
    return datetime.fromisoformat(str(value).replace(" ", "T")).replace(tzinfo=UTC)
