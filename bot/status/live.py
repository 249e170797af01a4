"""The live status: the last good snapshot, when it was confirmed, and what went wrong since."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.status.model import StatusSnapshot
from bot.status.store import SavedState, StateStore
from bot.status.webhooks import apply_webhook

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Listener = Callable[[StatusSnapshot], None]

# A 304 only moves the confirmation time; save that at most this often.
_CONFIRM_SAVE_EVERY = timedelta(minutes=1)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class LiveStatus:
    """Holds the last good state; fed by the poller and the webhook receiver, read by answers."""

    def __init__(self, *, store: StateStore | None = None, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock
        self._listeners: list[Listener] = []
        self._saved_confirmation: datetime | None = None
        self.snapshot: StatusSnapshot | None = None
        self.confirmed_at: datetime | None = None
        self.last_error: str | None = None

    def restore(self) -> bool:
        """Load the persisted state, if any; True when there was one."""
        if self._store is None:
            return False
        saved = self._store.load()
        if saved is None:
            return False
        self.snapshot, self.confirmed_at = saved.snapshot, saved.confirmed_at
        self._saved_confirmation = saved.confirmed_at
        logger.info("status: restored the state confirmed at %s", saved.confirmed_at)
        return True

    def now(self) -> datetime:
        """The clock this status uses."""
        return self._clock()

    def age(self) -> timedelta | None:
        """How long ago the state was last confirmed (None: never)."""
        return self.now() - self.confirmed_at if self.confirmed_at else None

    def accept(self, snapshot: StatusSnapshot) -> None:
        """A source delivered a new state: keep it, confirm it now, save it, tell listeners."""
        self.snapshot = snapshot
        self.confirmed_at = self.now()
        self.last_error = None
        self._save()
        for listener in list(self._listeners):
            try:
                listener(snapshot)
            except Exception:  # a broken listener must not stop status updates
                logger.exception("status listener %r failed", listener)

    def confirm(self) -> None:
        """A source said nothing changed: the state is confirmed as of now."""
        if self.snapshot is None:
            return
        self.confirmed_at = self.now()
        self.last_error = None
        last = self._saved_confirmation
        if last is None or self.confirmed_at - last >= _CONFIRM_SAVE_EVERY:
            self._save()

    def fail(self, message: str) -> None:
        """A source failed; the last good state stays."""
        self.last_error = message

    def apply_webhook(self, payload: Mapping[str, Any]) -> StatusSnapshot:
        """Apply a webhook delivery onto the current state (raises WebhookError, no change)."""
        updated = apply_webhook(self.snapshot, payload, received_at=self.now())
        self.accept(updated)
        return updated

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every new snapshot (e.g. the broadcaster)."""
        self._listeners.append(listener)

    def _save(self) -> None:
        if self._store is None or self.snapshot is None:
            return
        self._store.save(SavedState(snapshot=self.snapshot, confirmed_at=self.confirmed_at))
        self._saved_confirmation = self.confirmed_at
