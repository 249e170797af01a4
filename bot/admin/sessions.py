"""Admin sessions kept server-side, and the sign-in throttle; both in the app database.

- ``admin_sessions``: one row per signed-in session (a hash of its nonce, never
  the nonce itself). A signed cookie is honoured only while its row is there, so
  signing out (which deletes it) revokes the cookie on every replica.
- ``signin_failures``: failed sign-ins per key (``account:<name>``,
  ``address:<ip>``). Past a few free failures each one doubles the wait before
  the next attempt is even checked, up to :data:`MAX_DELAY`; a quiet hour
  forgets them. Shared by replicas, so spreading guesses over them gains nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.db import StorageError, metadata, storage_error

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("user", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.PrimaryKeyConstraint("id", name="pk_admin_sessions"),
)

signin_failures = sa.Table(
    "signin_failures",
    metadata,
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("key", name="pk_signin_failures"),
)

# free failures before the delay starts, per kind of key
FREE_FAILURES = {"account": 3, "address": 10}
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)

Clock = Callable[[], datetime]


class AdminStoreError(StorageError):
    """The admin's sessions or sign-in records could not be read or written."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(when: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class _Store:
    def __init__(self, engine: sa.Engine, *, clock: Clock = _utcnow) -> None:
        self._engine = engine
        self._clock = clock

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, AdminStoreError) from exc


class AdminSessions(_Store):
    """Signed-in admin sessions, by the nonce their cookie carries."""

    def start(self, nonce: str, *, user: str, lifetime: timedelta) -> None:
        """Record a new session for ``user``."""
        now = self._clock()
        with self._transaction("start an admin session") as conn:
            conn.execute(
                admin_sessions.insert().values(
                    id=_digest(nonce), user=user[:200], created_at=now, expires_at=now + lifetime
                )
            )

    def alive(self, nonce: str) -> bool:
        """True while the session exists (not signed out) and has not expired."""
        with self._transaction("read an admin session") as conn:
            expires = conn.execute(
                sa.select(admin_sessions.c.expires_at).where(admin_sessions.c.id == _digest(nonce))
            ).scalar()
        return expires is not None and _aware(expires) > self._clock()

    def revoke(self, nonce: str) -> None:
        """End the session everywhere (sign-out)."""
        with self._transaction("end an admin session") as conn:
            conn.execute(admin_sessions.delete().where(admin_sessions.c.id == _digest(nonce)))

    def revoke_user(self, user: str, *, keep: str | None = None) -> None:
        """End every session of ``user`` (except the one of nonce ``keep``)."""
        query = admin_sessions.delete().where(admin_sessions.c.user == user[:200])
        if keep is not None:
            query = query.where(admin_sessions.c.id != _digest(keep))
        with self._transaction("end an account's sessions") as conn:
            conn.execute(query)

    def prune(self) -> int:
        """Delete expired sessions; how many went."""
        with self._transaction("prune admin sessions") as conn:
            result = conn.execute(
                admin_sessions.delete().where(admin_sessions.c.expires_at <= self._clock())
            )
        return int(result.rowcount or 0)


class SignInThrottle(_Store):
    """A growing delay after failed sign-ins, per account and per address."""

    def wait_s(self, keys: Sequence[str]) -> int:
        """Seconds before any of ``keys`` may try again (0: now)."""
        now = self._clock()
        with self._transaction("read sign-in failures") as conn:
            rows = conn.execute(
                sa.select(signin_failures.c.locked_until, signin_failures.c.last_at).where(
                    signin_failures.c.key.in_([k[:300] for k in keys])
                )
            ).all()
        waits = [
            (_aware(locked) - now).total_seconds()
            for locked, last in rows
            if _aware(last) > now - FORGET_AFTER
        ]
        return max([0, *(int(-(-w // 1)) for w in waits)])  # whole seconds, rounded up

    def failed(self, keys: Sequence[str]) -> None:
        """Count one failure against each key and set its next allowed time."""
        now = self._clock()
        with self._transaction("record a failed sign-in") as conn:
            for key in (k[:300] for k in keys):
                row = conn.execute(
                    sa.select(signin_failures.c.failures, signin_failures.c.last_at)
                    .where(signin_failures.c.key == key)
                    .with_for_update()
                ).first()
                fresh = row is not None and _aware(row.last_at) > now - FORGET_AFTER
                count = (row.failures if fresh else 0) + 1  # type: ignore[union-attr]
                values = {
                    "failures": count,
                    "last_at": now,
                    "locked_until": now + _delay(key, count),
                }
                if row is None:
                    conn.execute(signin_failures.insert().values(key=key, **values))
                else:
                    conn.execute(
                        signin_failures.update().where(signin_failures.c.key == key).values(values)
                    )

    def succeeded(self, keys: Sequence[str]) -> None:
        """Forget the failures of ``keys`` (a correct sign-in)."""
        with self._transaction("clear sign-in failures") as conn:
            conn.execute(signin_failures.delete().where(signin_failures.c.key.in_(keys)))

    def prune(self) -> int:
        """Delete records older than :data:`FORGET_AFTER`; how many went."""
        with self._transaction("prune sign-in failures") as conn:
            result = conn.execute(
                signin_failures.delete().where(
                    signin_failures.c.last_at < self._clock() - FORGET_AFTER
                )
            )
        return int(result.rowcount or 0)


def _delay(key: str, failures: int) -> timedelta:
    free = FREE_FAILURES.get(key.partition(":")[0], 3)
    if failures < free:
        return timedelta(0)
    return min(MAX_DELAY, timedelta(seconds=2 ** min(failures - free, 20)))


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()
