"""The Chatwoot bridge: handoffs become conversations in a Chatwoot API-channel inbox.

Out (Faro → Chatwoot), from the handoff event log, in order, by one replica:
a handoff creates a contact and a conversation through Chatwoot's public
API-channel API (``/public/api/v1/inboxes/{inbox}/contacts[/{source}/conversations
[/{id}/messages]]``); the transcript and the customer's new messages become its
incoming messages (the bot's lines marked ``[bot]``); hand-backs and closes are noted.

In (Chatwoot → Faro): the inbox's callback URL (``/chatwoot/webhook?token=...``)
gets Chatwoot's ``message_created`` events; an agent's public outgoing message
claims the handoff for ``chatwoot:<agent name>`` and is sent to the customer
through the handoff desk, once per Chatwoot message id even when the webhook is
delivered twice.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.handoff.events import EventConsumer
from bot.handoff.service import HandoffConflict, HandoffError, HandoffService
from bot.handoff.tables import WAITING, chatwoot_links, chatwoot_replies
from bot.http import HttpError, read_json

logger = logging.getLogger(__name__)

SLOT = 2  # the bridge's cursor among the event consumers
WEBHOOK_PATH = "/chatwoot/webhook"
MAX_BODY_BYTES = 256 * 1024


class ChatwootError(Exception):
    """Chatwoot's API refused a call or could not be reached."""


class ChatwootClient:
    """The public API-channel API of one Chatwoot inbox."""

    def __init__(
        self,
        *,
        base_url: str,
        inbox_identifier: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._root = f"{base_url.rstrip('/')}/public/api/v1/inboxes/{quote(inbox_identifier)}"
        self._transport = transport
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    async def create_contact(self, identifier: str, name: str) -> str:
        """A contact for the customer; its ``source_id``."""
        body = await self._post("/contacts", {"identifier": identifier, "name": name})
        return str(body["source_id"])

    async def create_conversation(self, source_id: str) -> int:
        """A conversation of the contact; its id."""
        body = await self._post(f"/contacts/{quote(source_id)}/conversations", {})
        return int(body["id"])

    async def create_message(self, source_id: str, conversation_id: int, content: str) -> None:
        """An incoming message (from the contact) in the conversation."""
        path = f"/contacts/{quote(source_id)}/conversations/{conversation_id}/messages"
        await self._post(path, {"content": content})

    async def aclose(self) -> None:
        """Close the connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout_s)
        try:
            response = await self._client.post(self._root + path, json=body)
        except httpx.HTTPError as exc:
            raise ChatwootError(f"Chatwoot unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 300:
            raise ChatwootError(f"Chatwoot answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ChatwootError("Chatwoot answered with invalid JSON") from exc
        if not isinstance(data, dict):
            raise ChatwootError("Chatwoot answered with an unexpected shape")
        return data


class ChatwootBridge(EventConsumer):
    """Mirrors handoffs into Chatwoot and relays its agents' replies (a background task)."""

    slot = SLOT
    name = "Chatwoot bridge"
    expected = (ChatwootError,)

    def __init__(
        self,
        service: HandoffService,
        client: ChatwootClient,
        *,
        webhook_token: str,
        poll_s: float = 1.0,
        lease_s: float = 30.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        engine = service.store.engine
        super().__init__(engine, poll_s=poll_s, lease_s=lease_s, max_backoff_s=max_backoff_s)
        self._service = service
        self._engine = engine
        self._client = client
        self._token = webhook_token.encode()

    # -- out ---------------------------------------------------------------------

    async def close(self) -> None:
        await self._client.aclose()

    async def sync(self) -> int:
        """Mirror the events due now (if this replica holds the lease); how many."""
        return await self.consume()

    async def handle(self, event: dict[str, Any]) -> bool:
        await self._mirror(event)
        return True

    async def _mirror(self, event: dict[str, Any]) -> None:
        handoff = event["handoff"]
        kind = event["event"]
        if kind == "handoff.requested":
            source = await self._client.create_contact(
                handoff["conversation_id"], f"{handoff['channel']} customer ({handoff['lang']})"
            )
            conversation = await self._client.create_conversation(source)
            await asyncio.to_thread(self._link, handoff["id"], source, conversation)
            return
        link = await asyncio.to_thread(self._link_of, handoff["id"])
        if link is None:
            return  # opened before the bridge was on
        source, conversation = link
        if kind == "handoff.message":
            message = event["message"]
            if message["role"] == "user":
                content = str(message["text"])
            elif message["role"] == "bot":
                content = f"[bot] {message['text']}"
            elif not str(message.get("author") or "").startswith("chatwoot:"):
                content = f"[{message.get('author') or 'agent'} in Faro] {message['text']}"
            else:
                return  # written in Chatwoot: it is there already
            await self._client.create_message(source, conversation, content)
        elif kind in ("handoff.released", "handoff.closed", "handoff.cancelled"):
            what = kind.removeprefix("handoff.")
            await self._client.create_message(source, conversation, f"[Faro] handoff {what}")

    def _link(self, handoff_id: int, source_id: str, conversation_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                chatwoot_links.insert().values(
                    handoff_id=handoff_id,
                    source_id=source_id,
                    chatwoot_conversation_id=conversation_id,
                )
            )

    def _link_of(self, handoff_id: int) -> tuple[str, int] | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    chatwoot_links.c.source_id, chatwoot_links.c.chatwoot_conversation_id
                ).where(chatwoot_links.c.handoff_id == handoff_id)
            ).first()
        return (str(row[0]), int(row[1])) if row else None

    # -- in ----------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The callback route Chatwoot's API inbox posts its events to."""
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def _webhook(self, request: Request) -> Response:
        given = (request.query_params.get("token") or "").encode()
        if not hmac.compare_digest(given, self._token):
            raise HttpError(401, "missing or wrong token in the callback URL")
        data = await read_json(request, max_bytes=MAX_BODY_BYTES)
        if (
            data.get("event") != "message_created"
            or data.get("message_type") not in ("outgoing", 1)
            or data.get("private") is True
        ):
            return JSONResponse({"status": "ignored"})
        conversation = data.get("conversation")
        conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
        message_id, content = data.get("id"), data.get("content")
        if not isinstance(conversation_id, int) or message_id is None:
            raise HttpError(400, "message_created without a conversation id or message id")
        if not isinstance(content, str) or not content.strip():
            return JSONResponse({"status": "ignored"})
        handoff_id = await asyncio.to_thread(self._handoff_of, conversation_id)
        if handoff_id is None:
            return JSONResponse({"status": "unknown conversation"})
        if not await asyncio.to_thread(self._first_time, str(message_id)[:40]):
            return JSONResponse({"status": "duplicate"})
        sender = data.get("sender")
        name = sender.get("name") if isinstance(sender, dict) else None
        agent = f"chatwoot:{name or 'agent'}"[:60]
        try:
            handoff = await asyncio.to_thread(self._service.get, handoff_id)
            if handoff.state == WAITING:
                await self._service.claim(handoff_id, agent)
            outcome = await self._service.reply(handoff_id, agent, content)
        except HandoffConflict as exc:
            logger.info("Chatwoot reply to handoff %d refused: %s", handoff_id, exc)
            return JSONResponse({"status": "refused", "error": str(exc)}, status_code=409)
        except HandoffError as exc:
            await asyncio.to_thread(self._forget, str(message_id)[:40])
            raise HttpError(400, str(exc)) from None
        status = "sent" if outcome.delivered else "not delivered"
        return JSONResponse({"status": status, "error": outcome.message.error})

    def _handoff_of(self, conversation_id: int) -> int | None:
        with self._engine.connect() as conn:
            value = conn.execute(
                sa.select(chatwoot_links.c.handoff_id).where(
                    chatwoot_links.c.chatwoot_conversation_id == conversation_id
                )
            ).scalar()
        return int(value) if value is not None else None

    def _first_time(self, message_id: str) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    chatwoot_replies.insert().values(message_id=message_id, at=datetime.now(UTC))
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def _forget(self, message_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                chatwoot_replies.delete().where(chatwoot_replies.c.message_id == message_id)
            )
