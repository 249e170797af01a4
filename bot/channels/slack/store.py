"""Slack event ids already taken, in the app database (shared by replicas, kept over restarts).

Slack retries an event it got no acknowledgement for after ~1 s, 1 min and
5 min, to any replica behind the load balancer; one row per ``event_id``
(the primary key) makes the first claim win everywhere. Rows older than
:data:`EVENT_MEMORY` are pruned: no retry comes that late.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bot.channels.slack.errors import SlackError
from bot.db import StorageError, metadata, storage_error

logger = logging.getLogger(__name__)

slack_events = sa.Table(
    "slack_events",
    metadata,
    sa.Column("event_id", sa.String(100), nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.PrimaryKeyConstraint("event_id", name="pk_slack_events"),
)

EVENT_MEMORY = timedelta(hours=2)
MAX_EVENT_ID = 100
_CACHE = 10_000
_PRUNE_EVERY = 1_000


class SlackStoreUnavailable(SlackError, StorageError):
    """The app database could not be used."""


class _Raced(Exception):
    """The event id was claimed before."""


class SeenEvents:
    """Event ids accepted within :data:`EVENT_MEMORY`, by any replica, before or after a restart."""

    def __init__(
        self, engine: sa.Engine, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._claims = 0

    def claim(self, event_id: str) -> bool:
        """True the first time ``event_id`` is claimed anywhere (within the horizon), else False."""
        event_id = event_id[:MAX_EVENT_ID]
        if event_id in self._seen:
            return False
        now = self._clock()
        try:
            with self._transaction("record a Slack event") as conn:
                old = conn.execute(
                    sa.select(slack_events.c.received_at).where(slack_events.c.event_id == event_id)
                ).scalar()
                if old is not None and _aware(old) >= now - EVENT_MEMORY:
                    raise _Raced(event_id)
                if old is not None:  # past the horizon: a new claim
                    conn.execute(
                        slack_events.update()
                        .where(slack_events.c.event_id == event_id)
                        .values(received_at=now)
                    )
                else:
                    conn.execute(slack_events.insert().values(event_id=event_id, received_at=now))
        except _Raced:
            self._remember(event_id)
            return False
        self._remember(event_id)
        self._claims += 1
        if self._claims % _PRUNE_EVERY == 0:
            self.prune()
        return True

    def release(self, event_id: str) -> None:
        """Forget ``event_id`` (its work could not be queued, so a retry must run it)."""
        event_id = event_id[:MAX_EVENT_ID]
        self._seen.pop(event_id, None)
        with self._transaction("release a Slack event") as conn:
            conn.execute(slack_events.delete().where(slack_events.c.event_id == event_id))

    def prune(self) -> int:
        """Delete ids past the horizon; how many went."""
        with self._transaction("prune Slack events") as conn:
            gone = conn.execute(
                slack_events.delete().where(
                    slack_events.c.received_at < self._clock() - EVENT_MEMORY
                )
            ).rowcount
        return int(gone or 0)

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError as exc:  # another replica inserted it first
            raise _Raced(what) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise storage_error(f"cannot {what}", exc, SlackStoreUnavailable) from exc

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > _CACHE:
            self._seen.popitem(last=False)


def _aware(when: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)
