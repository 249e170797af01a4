"""What the Telegram channel remembers across restarts and replicas, in the app database.

- ``telegram_updates``: update ids already taken, so a retried or replayed
  update is answered once (Telegram keeps undelivered updates for 24 h;
  older rows are pruned).
- ``telegram_callbacks``: button payloads too long for Telegram's 64-byte
  callback data, under a short key derived from the payload.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.channels.telegram.errors import TelegramChannelError
from bot.db import StorageError, metadata, storage_error

logger = logging.getLogger(__name__)

updates = sa.Table(
    "telegram_updates",
    metadata,
    sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

callbacks = sa.Table(
    "telegram_callbacks",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

UPDATE_MEMORY = timedelta(hours=48)
CALLBACK_MEMORY = timedelta(days=30)
_CACHE = 10_000
_PRUNE_EVERY = 1_000


class StoreUnavailable(TelegramChannelError, StorageError):
    """The app database could not be used."""


class _Raced(Exception):
    """A row with that key exists already."""


class TelegramStore:
    """Update de-duplication and long callback payloads, cached in memory (bounded)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._payloads: OrderedDict[str, str] = OrderedDict()
        self._claims = 0

    def claim_update(self, update_id: int) -> bool:
        """True the first time ``update_id`` is claimed, by any process; False afterwards."""
        if update_id in self._seen:
            return False
        try:
            with self._transaction("record an update") as conn:
                conn.execute(updates.insert().values(update_id=update_id, received_at=_now()))
        except _Raced:  # taken before, here or by another replica
            self._remember(update_id)
            return False
        self._remember(update_id)
        self._claims += 1
        if self._claims % _PRUNE_EVERY == 0:
            self.prune()
        return True

    def release_update(self, update_id: int) -> None:
        """Forget a claim (the update could not be queued; Telegram will send it again)."""
        self._seen.pop(update_id, None)
        with self._transaction("release an update") as conn:
            conn.execute(updates.delete().where(updates.c.update_id == update_id))

    def save_payload(self, key: str, payload: str) -> None:
        """Remember ``payload`` under ``key`` (idempotent)."""
        if self._payloads.get(key) == payload:
            self._payloads.move_to_end(key)
            return
        try:
            with self._transaction("save a button") as conn:
                found = conn.execute(
                    sa.select(callbacks.c.payload).where(callbacks.c.key == key)
                ).scalar()
                if found is None:
                    conn.execute(
                        callbacks.insert().values(key=key, payload=payload, created_at=_now())
                    )
                else:
                    conn.execute(
                        callbacks.update().where(callbacks.c.key == key).values(created_at=_now())
                    )
        except _Raced:
            pass  # another replica saved the same key, which stands for the same payload
        self._cache_payload(key, payload)

    def load_payload(self, key: str) -> str | None:
        """The payload saved under ``key``, or None when unknown or expired."""
        if key in self._payloads:
            self._payloads.move_to_end(key)
            return self._payloads[key]
        with self._transaction("read a button") as conn:
            found = conn.execute(
                sa.select(callbacks.c.payload).where(callbacks.c.key == key)
            ).scalar()
        if found is not None:
            self._cache_payload(key, str(found))
        return None if found is None else str(found)

    def prune(self) -> None:
        """Delete update ids and button payloads too old to come back."""
        now = _now()
        with self._transaction("prune") as conn:
            conn.execute(updates.delete().where(updates.c.received_at < now - UPDATE_MEMORY))
            conn.execute(callbacks.delete().where(callbacks.c.created_at < now - CALLBACK_MEMORY))

    def close(self) -> None:
        """Nothing to release: the engine belongs to the :class:`bot.db.Database` that opened it."""

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sa.Connection]:
        """A transaction whose database errors become :class:`StoreUnavailable`."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError as exc:
            raise _Raced(what) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, StoreUnavailable) from exc

    def _remember(self, update_id: int) -> None:
        self._seen[update_id] = None
        while len(self._seen) > _CACHE:
            self._seen.popitem(last=False)

    def _cache_payload(self, key: str, payload: str) -> None:
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > _CACHE:
            self._payloads.popitem(last=False)


def _now() -> datetime:
    return datetime.now(UTC)
