"""Client for Rasa's REST channel (``POST /webhooks/rest/webhook``).

With several Rasa replicas, each conversation is routed to a fixed replica
by hashing its id: Rasa's open-source lock store is per process, so one
conversation must never be processed by two replicas at once.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class DialogueError(Exception):
    """Rasa could not process a turn (down, timed out, or answered garbage)."""


class RasaClient:
    """Sends user turns to Rasa's REST channel; one pooled HTTP client per process."""

    def __init__(
        self,
        *,
        urls: tuple[str, ...],
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is required")
        self._urls = urls
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
            transport=transport,
        )

    def replica_for(self, conversation_id: str) -> str:
        """The Rasa URL that owns ``conversation_id`` (stable across processes)."""
        digest = hashlib.blake2b(conversation_id.encode(), digest_size=8).digest()
        return self._urls[int.from_bytes(digest, "big") % len(self._urls)]

    async def send(
        self, *, sender: str, message: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one user message and return Rasa's bot messages (dicts)."""
        url = self.replica_for(sender) + "/webhooks/rest/webhook"
        body = {"sender": sender, "message": message, "metadata": metadata}
        try:
            response = await self._client.post(url, json=body)
        except httpx.HTTPError as exc:
            raise DialogueError(f"Rasa unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise DialogueError(f"Rasa answered HTTP {response.status_code}")
        try:
            replies = response.json()
        except ValueError as exc:
            raise DialogueError("Rasa answered with invalid JSON") from exc
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise DialogueError("Rasa answered with an unexpected shape")
        return replies

    async def healthy(self) -> bool:
        """True when every replica answers its root URL."""
        for url in self._urls:
            try:
                response = await self._client.get(url + "/", timeout=2.0)
            except httpx.HTTPError:
                return False
            if response.status_code != 200:
                return False
        return True

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
