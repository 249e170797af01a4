"""The overdue update guard: staff hear about a late update before customers do."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from bot.periodic import Periodic
from bot.rhythm.alerts import AlertBoard, StaffAlert
from bot.status.live import LiveStatus
from bot.status.overdue import DueReason, DueUpdate, Rhythm, overdue_updates

logger = logging.getLogger(__name__)

KIND = "overdue_update"


class OverdueGuard:
    """Checks the live status on a timer; raises an alert per late update, clears it after."""

    def __init__(
        self,
        live: LiveStatus,
        board: AlertBoard,
        *,
        rhythm: Rhythm,
        tz: tzinfo = UTC,
        interval_s: float = 15.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._live = live
        self._board = board
        self._rhythm = rhythm
        self._tz = tz
        self._interval_s = interval_s
        self._clock = clock or live.now
        self._loop = Periodic(self.check, interval_s=self._interval_s, name="overdue-guard")

    async def check(self) -> list[DueUpdate]:
        """Raise alerts for updates late now and clear the rest; the late ones."""
        now = self._clock()
        late = overdue_updates(self._live.snapshot, now=now, rhythm=self._rhythm, tz=self._tz)
        for due in late:
            await self._board.raise_alert(self._alert(due, now))
        await asyncio.to_thread(self._board.clear, KIND, {due.key for due in late})
        return late

    def _alert(self, due: DueUpdate, now: datetime) -> StaffAlert:
        minutes = int((now - due.due_at).total_seconds() // 60)
        if due.reason is DueReason.PROMISED:
            why = f"the last update promised the next one by {due.due_at:%H:%M} UTC"
        else:
            every = self._rhythm.every(due.impact)
            mins = int(every.total_seconds() // 60) if every else 0
            why = f"the rhythm for {due.impact.value} incidents is an update every {mins} min"
        return StaffAlert(
            kind=KIND,
            key=due.key,
            title=f"Update overdue: {due.incident_name}",
            detail=(
                f"Last update at {due.last_update_at:%H:%M} UTC; {why}; "
                f"now {minutes} min late. Customers who ask are told it is late."
            ),
            raised_at=now,
            data={
                "incident_id": due.incident_id,
                "due_at": due.due_at.isoformat(),
                "last_update_at": due.last_update_at.isoformat(),
                "reason": due.reason.value,
                "promise": due.promise,
            },
        )

    async def start(self) -> None:
        """Run in the background every interval until stopped."""
        await self._loop.start()

    async def stop(self) -> None:
        """Stop running."""
        await self._loop.stop()
