"""Staff alerts: the console banner board, a Slack staff channel, an outgoing webhook."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import as_utc
from bot.rhythm.tables import staff_alerts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StaffAlert:
    """One thing staff must see now: a late update, or a surge of questions."""

    kind: str  # "overdue_update" | "question_surge"
    key: str  # the same alert keeps its key while it lasts
    title: str
    detail: str
    raised_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    action_url: str | None = None  # e.g. a prefilled announcement

    def as_json(self) -> dict[str, Any]:
        """The alert as JSON for webhooks and the staff API."""
        body = asdict(self)
        body["raised_at"] = self.raised_at.isoformat()
        return body


class AlertSink(Protocol):
    """Somewhere an alert is sent (once, when it is raised)."""

    async def send(self, alert: StaffAlert) -> None:
        """Deliver ``alert``; failures are logged, never raised."""
        ...


class AlertBoard:
    """The alerts standing now (the console banner), and the sinks told when one is raised.

    With an ``engine`` the alerts live in the ``staff_alerts`` table: every
    replica (and a restarted app) shows the same ones, an alert is sent to the
    sinks once whichever replica raises it first, and dismissing it on one
    replica clears it everywhere. Reads are cached for ``cache_s`` (the banner
    is on every console page). Without an engine (tests, tools) they live in memory.
    """

    def __init__(
        self,
        sinks: Sequence[AlertSink] = (),
        *,
        engine: sa.Engine | None = None,
        cache_s: float = 2.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sinks = list(sinks)
        self._active: dict[str, StaffAlert] = {}
        self._engine = engine
        self._cache_s = cache_s
        self._read_at = -1e18
        self._clock = clock or (lambda: datetime.now(UTC))

    def active(self, kind: str | None = None) -> list[StaffAlert]:
        """The standing alerts (of ``kind``), oldest first."""
        if self._engine is not None and time.monotonic() - self._read_at >= self._cache_s:
            self._reload()
        alerts = [a for a in self._active.values() if kind is None or a.kind == kind]
        return sorted(alerts, key=lambda a: a.raised_at)

    async def raise_alert(self, alert: StaffAlert) -> bool:
        """Show ``alert`` and tell every sink; False (nothing sent) if it already stands."""
        if self._engine is not None:
            if not await asyncio.to_thread(self._insert, alert):
                return False
        elif alert.key in self._active:
            return False
        self._active[alert.key] = alert
        logger.warning("staff alert: %s: %s", alert.kind, alert.title)
        for sink in self._sinks:
            try:
                await sink.send(alert)
            except Exception:  # one broken sink must not silence the others
                logger.exception("staff alert: sink %r failed", sink)
        return True

    def clear(self, kind: str, keep: set[str], *, only: set[str] | None = None) -> list[StaffAlert]:
        """Drop alerts of ``kind`` whose key is not in ``keep`` (and is in ``only``, if given)."""
        if self._engine is not None:
            self._reload()
        gone = [
            a
            for k, a in self._active.items()
            if a.kind == kind and k not in keep and (only is None or k in only)
        ]
        for alert in gone:
            self._drop(alert.key, by=None)
            logger.info("staff alert cleared: %s", alert.title)
        return gone

    def dismiss(self, key: str, *, by: str) -> bool:
        """Staff dismissed the alert ``key`` (on every replica); False when none stands."""
        if self._engine is not None:
            self._reload()
        if key not in self._active:
            return False
        self._drop(key, by=by)
        logger.info("staff alert dismissed by staff: %s", key)
        return True

    def _drop(self, key: str, *, by: str | None) -> None:
        self._active.pop(key, None)
        if self._engine is None:
            return
        with self._engine.begin() as conn:
            conn.execute(
                staff_alerts.update()
                .where(staff_alerts.c.key == key, staff_alerts.c.cleared_at.is_(None))
                .values(cleared_at=self._clock(), cleared_by=by or "faro")
            )

    def _insert(self, alert: StaffAlert) -> bool:
        """Store ``alert``; False when it already stands (raised here or on another replica)."""
        assert self._engine is not None
        values = {
            "kind": alert.kind,
            "title": alert.title,
            "detail": alert.detail,
            "raised_at": alert.raised_at,
            "data": json.dumps(alert.data, ensure_ascii=False, default=str),
            "action_url": alert.action_url,
            "cleared_at": None,
            "cleared_by": None,
        }
        with self._engine.begin() as conn:
            # a cleared alert with the same key comes back (the same late update, again)
            revived = conn.execute(
                staff_alerts.update()
                .where(staff_alerts.c.key == alert.key, staff_alerts.c.cleared_at.is_not(None))
                .values(**values)
            ).rowcount
            if revived:
                return True
            try:
                with conn.begin_nested():
                    conn.execute(staff_alerts.insert().values(key=alert.key, **values))
            except sa.exc.IntegrityError:
                return False  # it stands already
        return True

    def _reload(self) -> None:
        assert self._engine is not None
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(staff_alerts).where(staff_alerts.c.cleared_at.is_(None))
            ).all()
        self._active = {
            r.key: StaffAlert(
                kind=r.kind,
                key=r.key,
                title=r.title,
                detail=r.detail,
                raised_at=as_utc(r.raised_at),
                data=json.loads(r.data),
                action_url=r.action_url,
            )
            for r in rows
        }
        self._read_at = time.monotonic()


class WebhookSink:
    """POSTs each alert as JSON to a URL staff configured (an integration, a pager)."""

    def __init__(self, url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._client = client or httpx.AsyncClient(timeout=10.0)

    async def send(self, alert: StaffAlert) -> None:
        """POST the alert; log a failure."""
        try:
            response = await self._client.post(self._url, json=alert.as_json())
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.error("staff alert webhook failed: %s", type(exc).__name__)


class SlackSink:
    """Posts each alert to the Slack staff channel (chat.postMessage with the bot token)."""

    def __init__(self, client: AsyncWebClient, *, channel: str) -> None:
        self._client = client
        self._channel = channel

    async def send(self, alert: StaffAlert) -> None:
        """Post the alert's title and detail; log a failure."""
        text = f":rotating_light: *{_escape(alert.title)}*\n{_escape(alert.detail)}"
        if alert.action_url:
            text += f"\n{alert.action_url}"
        try:
            await self._client.chat_postMessage(channel=self._channel, text=text)
        except SlackApiError as exc:
            logger.error("staff alert to Slack failed: %s", exc.response.get("error"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
