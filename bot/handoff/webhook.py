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

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import socket
import uuid

import httpx

from bot.handoff.events import EventLog
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)


def signature(secret: str, body: bytes) -> str:
    """The ``X-Faro-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HandoffWebhook:
    """Sends handoff events to ``url`` (a background task of the app)."""

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
        self._log = EventLog(store.engine)
        self._url = url
        self._secret = secret
        self._transport = transport
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._timeout_s = timeout_s
        self._max_backoff_s = max_backoff_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Start sending (events from before the webhook was first turned on are not sent)."""
        self._task = asyncio.create_task(self._run(), name="handoff-webhook")
        logger.info("handoff webhook on")

    async def stop(self) -> None:
        """Stop sending and give the lease up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._log.release, self.owner)

    async def send_pending(self) -> int:
        """Send what is due now (if this replica holds the lease); how many were delivered.

        Raises ``httpx.HTTPError`` (or ``WebhookRefused``) when one is not accepted.
        """
        cursor = await asyncio.to_thread(self._log.hold, self.owner, lease_s=self._lease_s)
        if cursor is None:
            return 0
        sent = 0
        events = await asyncio.to_thread(self._log.events_after, cursor)
        for event in events:
            await self._post(event)
            await asyncio.to_thread(self._log.handled, self.owner, event["id"])
            sent += 1
        return sent

    async def _post(self, event: dict[str, object]) -> None:
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

    async def _run(self) -> None:
        backoff = self._poll_s
        while True:
            try:
                await self.send_pending()
                backoff = self._poll_s
            except asyncio.CancelledError:
                raise
            except (httpx.HTTPError, WebhookRefused) as exc:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                logger.warning("handoff webhook: %s; retry in %.0f s", exc, backoff)
            except Exception:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                logger.exception("handoff webhook failed")
            await asyncio.sleep(backoff)


class WebhookRefused(Exception):
    """The receiver did not answer 2xx."""
