"""The outgoing webhook: every handoff event, in order, POSTed to one URL, signed.

Events are written with the change they describe (``handoff_events``), so none
is lost on a restart; one replica at a time sends them (a lease row holding the
cursor), each until the receiver answers 2xx, with backoff. Delivery is at least
once: a receiver deduplicates by ``X-Faro-Delivery`` (the event id).

Body: ``{"id", "event": "handoff.requested|claimed|message|released|closed|cancelled",
"at", "handoff": {"id", "conversation_id", "channel", "lang"}, ...}`` (a
``message`` event carries ``message``: role, text, at, author). Headers:
``X-Faro-Event``, ``X-Faro-Delivery``, ``X-Faro-Signature: sha256=<hex HMAC of
the body with the secret>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

from bot.handoff.events import EventConsumer
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Faro-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HandoffWebhook(EventConsumer):
    """Sends handoff events to ``url`` (a background task of the app)."""

    slot = 1
    name = "handoff webhook"
    expected = (httpx.HTTPError,)

    def __init__(
        self,
        store: HandoffStore,
        *,
        url: str,
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_s: float = 1.0,
        lease_s: float = 30.0,
        timeout_s: float = 10.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        super().__init__(store.engine, poll_s=poll_s, lease_s=lease_s, max_backoff_s=max_backoff_s)
        self._url = url
        self._secret = secret
        self._transport = transport
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    async def send_pending(self) -> int:
        """Send what is due now (if this replica holds the lease); how many were delivered.

        Raises ``httpx.HTTPError`` (or ``WebhookRefused``) when one is not accepted.
        """
        return await self.consume()

    async def handle(self, event: dict[str, Any]) -> bool:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout_s)
        body = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Faro-Event": str(event["event"]),
            "X-Faro-Delivery": str(event["id"]),
            "X-Faro-Signature": signature(self._secret, body),
        }
        response = await self._client.post(self._url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise WebhookRefused(f"the webhook answered HTTP {response.status_code}")
        return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class WebhookRefused(httpx.HTTPError):
    """The receiver did not answer 2xx."""
