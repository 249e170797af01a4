"""Staff alerts: the console banner board, a Slack staff channel, an outgoing webhook."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
    """The alerts standing now (the console banner), and the sinks told when one is raised."""

    def __init__(self, sinks: Sequence[AlertSink] = ()) -> None:
        self._sinks = list(sinks)
        self._active: dict[str, StaffAlert] = {}

    def active(self, kind: str | None = None) -> list[StaffAlert]:
        """The standing alerts (of ``kind``), oldest first."""
        alerts = [a for a in self._active.values() if kind is None or a.kind == kind]
        return sorted(alerts, key=lambda a: a.raised_at)

    async def raise_alert(self, alert: StaffAlert) -> bool:
        """Show ``alert`` and tell every sink; False (nothing sent) if it already stands."""
        if alert.key in self._active:
            return False
        self._active[alert.key] = alert
        logger.warning("staff alert: %s: %s", alert.kind, alert.title)
        for sink in self._sinks:
            try:
                await sink.send(alert)
            except Exception:  # one broken sink must not silence the others
                logger.exception("staff alert: sink %r failed", sink)
        return True

    def clear(self, kind: str, keep: set[str]) -> list[StaffAlert]:
        """Drop alerts of ``kind`` whose key is not in ``keep``; the ones dropped."""
        gone = [a for k, a in self._active.items() if a.kind == kind and k not in keep]
        for alert in gone:
            del self._active[alert.key]
            logger.info("staff alert cleared: %s", alert.title)
        return gone


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
