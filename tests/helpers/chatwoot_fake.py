"""A loopback stand-in for Chatwoot's public API-channel API (contacts, conversations,
messages of one inbox), and the ``message_created`` webhook payload its agents' replies send."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.helpers.loopback import LoopbackServer

INBOX = "ApIiNbOxIdEnTiFiEr"


@dataclass
class FakeConversation:
    id: int
    source_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)


class FakeChatwoot(LoopbackServer):
    """Chatwoot's public API for inbox :data:`INBOX`; records what was created."""

    thread_name = "fake-chatwoot"

    def __init__(self) -> None:
        super().__init__()
        self.contacts: dict[str, dict[str, Any]] = {}  # source_id -> contact
        self.conversations: dict[int, FakeConversation] = {}
        self._ids = itertools.count(1)
        self.fail_next = 0  # answer 503 this many times

    @property
    def url(self) -> str:
        """The base URL (as FARO_CHATWOOT_URL)."""
        return f"http://127.0.0.1:{self.port}"

    def texts(self, conversation_id: int) -> list[str]:
        """The contents of a conversation's messages, oldest first."""
        return [m["content"] for m in self.conversations[conversation_id].messages]

    def agent_reply(
        self, conversation_id: int, content: str, *, agent: str = "Lucía", private: bool = False
    ) -> dict[str, Any]:
        """An agent's reply in Chatwoot: stored, and the webhook payload Chatwoot posts."""
        conversation = self.conversations[conversation_id]
        message_id = next(self._ids)
        conversation.messages.append(
            {"id": message_id, "content": content, "message_type": "outgoing"}
        )
        return {
            "event": "message_created",
            "id": message_id,
            "content": content,
            "created_at": datetime.now(UTC).isoformat(),
            "message_type": "outgoing",
            "content_type": "text",
            "private": private,
            "source_id": None,
            "sender": {"id": 7, "name": agent, "email": "agent@example.com", "type": "user"},
            "conversation": {
                "id": conversation_id,
                "inbox_id": 3,
                "status": "open",
                "contact_inbox": {"source_id": conversation.source_id, "inbox_id": 3},
            },
            "inbox": {"id": 3, "name": "Faro"},
            "account": {"id": 1, "name": "Northwind"},
        }

    def _app(self) -> Any:
        async def contacts(request: Request) -> Response:
            if (refused := self._refuse(request)) is not None:
                return refused
            body = await request.json()
            source_id = str(uuid.uuid4())
            contact = {"id": next(self._ids), "source_id": source_id, "pubsub_token": "x", **body}
            self.contacts[source_id] = contact
            return JSONResponse(contact)

        async def conversations(request: Request) -> Response:
            if (refused := self._refuse(request)) is not None:
                return refused
            source_id = request.path_params["source_id"]
            if source_id not in self.contacts:
                return JSONResponse({"error": "contact not found"}, status_code=404)
            conversation = FakeConversation(next(self._ids), source_id)
            self.conversations[conversation.id] = conversation
            return JSONResponse(
                {"id": conversation.id, "inbox_id": "3", "messages": [], "contact": {}}
            )

        async def messages(request: Request) -> Response:
            if (refused := self._refuse(request)) is not None:
                return refused
            conversation = self.conversations.get(int(request.path_params["conversation_id"]))
            if conversation is None or conversation.source_id != request.path_params["source_id"]:
                return JSONResponse({"error": "conversation not found"}, status_code=404)
            body = await request.json()
            message = {
                "id": next(self._ids),
                "content": body["content"],
                "message_type": "incoming",
                "conversation_id": conversation.id,
            }
            conversation.messages.append(message)
            return JSONResponse(message)

        base = "/public/api/v1/inboxes/{inbox}/contacts"
        return Starlette(
            routes=[
                Route(base, contacts, methods=["POST"]),
                Route(base + "/{source_id}/conversations", conversations, methods=["POST"]),
                Route(
                    base + "/{source_id}/conversations/{conversation_id:int}/messages",
                    messages,
                    methods=["POST"],
                ),
            ]
        )

    def _refuse(self, request: Request) -> Response | None:
        if request.path_params["inbox"] != INBOX:
            return JSONResponse({"error": "inbox not found"}, status_code=404)
        if self.fail_next:
            self.fail_next -= 1
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return None
