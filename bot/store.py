"""The app's own data (SQLite by default, PostgreSQL when configured).

Here: the questions customers asked that the FAQ could not answer; the FAQ
entries themselves live in :mod:`bot.faqdb` on the same engine.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.db import StorageError, as_utc, metadata, storage_error

logger = logging.getLogger(__name__)

unanswered = sa.Table(
    "unanswered_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("normalized", sa.String(500), nullable=False, index=True),
    # the group of similar questions it joined (bot.console.groups; None until grouped)
    sa.Column("group_id", sa.Integer, nullable=True),
    sa.Index("ix_unanswered_questions_group", "group_id", "normalized", "asked_at"),
)

# on the turn's path (each question the FAQ declines): built once
_RECORD = unanswered.insert()


class StoreError(StorageError):
    """The app database could not be reached or used (kept for callers: a StorageError)."""


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    """Questions with the same normalised text, for staff."""

    text: str
    lang: str
    count: int
    last_asked: datetime


class AppStore:
    """Thin data-access layer over SQLAlchemy Core."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine, shared by the other stores of the app database."""
        return self._engine

    def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
        """Remember a question the FAQ could not answer."""
        normalized = " ".join(text.lower().split())[:500]
        with _translated("cannot record an unanswered question"), self._engine.begin() as conn:
            conn.execute(
                _RECORD,
                {
                    "asked_at": datetime.now(UTC),
                    "conversation_id": conversation_id[:200],
                    "lang": lang,
                    "text": text,
                    "normalized": normalized,
                },
            )

    def unanswered_groups(self, *, limit: int = 100) -> list[UnansweredGroup]:
        """Unanswered questions grouped by normalised text, newest first."""
        last = sa.func.max(unanswered.c.asked_at).label("last")
        query = (
            sa.select(
                sa.func.min(unanswered.c.text),
                unanswered.c.lang,
                sa.func.count().label("n"),
                last,
            )
            .group_by(unanswered.c.normalized, unanswered.c.lang)
            .order_by(last.desc())
            .limit(limit)
        )
        with _translated("cannot read the unanswered questions"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            UnansweredGroup(text=r[0], lang=r[1], count=r[2], last_asked=as_utc(r[3])) for r in rows
        ]

    def dispose(self) -> None:
        """Close the engine's pooled connections (the engine reopens them when used again)."""
        self._engine.dispose()


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    """Database errors inside become :class:`StoreError` (a StorageError)."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise storage_error(what, exc, StoreError) from exc
