"""Client for Rasa's REST channel (``POST /webhooks/rest/webhook``).

With several Rasa replicas, each conversation is routed to a fixed replica
by hashing its id: Rasa's open-source lock store is per process, so one
conversation must never be processed by two replicas at once.

HTTP goes through one pooled :class:`aiohttp.ClientSession` per event loop
(created on first use): measured, httpx/httpcore took about half of the
app's CPU per turn, aiohttp a fraction of that.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

_JSON_HEADERS = {"Content-Type": "application/json"}


# The replica is gone (refused the connection, or closed it before answering).
_GONE = (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)


class DialogueError(Exception):
    """Rasa could not process a turn (down, timed out, or answered garbage)."""


class RasaClient:
    """Sends user turns to Rasa's REST channel; one pooled HTTP session per process."""

    def __init__(
        self,
        *,
        urls: tuple[str, ...],
        timeout_s: float = 10.0,
        connect_timeout_s: float = 2.0,
        api_token: str | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is required")
        self._urls = urls
        # Rasa's HTTP API (``rasa run --enable-api --auth-token``): pause, resume, parse
        self._api_token = api_token
        # As before with httpx: connecting may take connect_timeout_s, waiting
        # for a pooled connection or for the answer timeout_s each.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_s, sock_connect=connect_timeout_s, sock_read=timeout_s
        )
        self._health_timeout = aiohttp.ClientTimeout(total=2.0)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def replica_for(self, conversation_id: str) -> str:
        """The Rasa URL that owns ``conversation_id`` (stable across processes)."""
        return self.replicas_for(conversation_id)[0]

    def replicas_for(self, conversation_id: str) -> list[str]:
        """The owner of ``conversation_id`` first, then the replicas that take it over
        (in this order) while the owner cannot be reached."""
        digest = hashlib.blake2b(conversation_id.encode(), digest_size=8).digest()
        first = int.from_bytes(digest, "big") % len(self._urls)
        return [*self._urls[first:], *self._urls[:first]]

    async def send(
        self, *, sender: str, message: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one user message and return Rasa's bot messages (dicts).

        When the owning replica refuses the connection or drops it before answering
        (it died), the turn goes to the next replica: with a shared tracker store
        (PostgreSQL) it reads the conversation from there, and the customer never got
        an answer from the dead one, so nothing is said twice. A replica that is slow
        is not bypassed (it may still be working on the turn).
        """
        data = json.dumps({"sender": sender, "message": message, "metadata": metadata}).encode()
        session = self._session_for_loop()
        replicas = self.replicas_for(sender)
        for n, base in enumerate(replicas):
            try:
                async with session.post(
                    base + "/webhooks/rest/webhook", data=data, headers=_JSON_HEADERS
                ) as response:
                    status = response.status
                    content = await response.read()
            except _GONE as exc:
                if n + 1 < len(replicas):
                    logger.warning(
                        "Rasa replica %d unreachable (%s); next one", n, type(exc).__name__
                    )
                    continue
                raise DialogueError(f"Rasa unreachable: {type(exc).__name__}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise DialogueError(f"Rasa unreachable: {type(exc).__name__}") from exc
            if status in (502, 503) and n + 1 < len(replicas):
                continue  # starting up or shutting down
            break
        if status != 200:
            raise DialogueError(f"Rasa answered HTTP {status}")
        try:
            replies = json.loads(content)
        except ValueError as exc:  # UnicodeDecodeError is one too
            raise DialogueError("Rasa answered with invalid JSON") from exc
        if not isinstance(replies, list) or not all(isinstance(r, dict) for r in replies):
            raise DialogueError("Rasa answered with an unexpected shape")
        return replies

    async def pause(self, sender: str) -> None:
        """Pause the conversation in Rasa: it keeps logging the turns but runs no actions."""
        await self._append_event(sender, {"event": "pause"})

    async def resume(self, sender: str) -> None:
        """Resume a paused conversation: Rasa predicts and answers again.

        An ``action_listen`` follows the resume: the paused action never got one, and
        without it Rasa's policies would read the next message as part of that turn.
        """
        await self._append_event(
            sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def parse(self, text: str) -> tuple[str | None, float]:
        """Rasa's NLU reading of ``text``: (intent name, confidence); nothing is logged."""
        for n, base in enumerate(self._urls):
            try:
                result = await self._api("POST", base + "/model/parse", {"text": text})
                break
            except DialogueError as exc:
                if not isinstance(exc.__cause__, _GONE) or n + 1 == len(self._urls):
                    raise
        intent = result.get("intent") if isinstance(result, dict) else None
        if not isinstance(intent, dict):
            return None, 0.0
        name, confidence = intent.get("name"), intent.get("confidence")
        return (
            str(name) if name else None,
            float(confidence) if isinstance(confidence, int | float) else 0.0,
        )

    async def _append_event(
        self, sender: str, event: dict[str, Any] | list[dict[str, Any]]
    ) -> None:
        path = "/conversations/" + quote(sender, safe="") + "/tracker/events"
        replicas = self.replicas_for(sender)
        for n, base in enumerate(replicas):
            try:
                await self._api("POST", base + path, event, params={"include_events": "NONE"})
                return
            except DialogueError as exc:
                if not isinstance(exc.__cause__, _GONE) or n + 1 == len(replicas):
                    raise

    async def _api(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | list[dict[str, Any]],
        *,
        params: dict[str, str] | None = None,
    ) -> Any:
        query = dict(params or {})
        if self._api_token:
            query["token"] = self._api_token
        session = self._session_for_loop()
        try:
            async with session.request(
                method, url, data=json.dumps(body).encode(), headers=_JSON_HEADERS, params=query
            ) as response:
                status = response.status
                content = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DialogueError(f"Rasa unreachable: {type(exc).__name__}") from exc
        if status != 200:
            hint = (
                " (is Rasa's HTTP API on: --enable-api --auth-token?)"
                if status in (401, 403, 404)
                else ""
            )
            raise DialogueError(f"Rasa's HTTP API answered HTTP {status}{hint}")
        try:
            return json.loads(content)
        except ValueError as exc:
            raise DialogueError("Rasa answered with invalid JSON") from exc

    async def healthy(self) -> bool:
        """True when every replica answers its root URL."""
        session = self._session_for_loop()
        for url in self._urls:
            try:
                async with session.get(url + "/", timeout=self._health_timeout) as response:
                    await response.read()
                    if response.status != 200:
                        return False
            except (aiohttp.ClientError, TimeoutError):
                return False
        return True

    async def aclose(self) -> None:
        """Close the pooled connections."""
        session, self._session, self._loop = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    def _session_for_loop(self) -> aiohttp.ClientSession:
        """The pooled session of the running event loop (a session is bound to its loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=200, limit_per_host=0, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
            self._loop = loop
        return self._session
