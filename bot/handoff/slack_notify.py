"""New handoffs told to the Slack staff channel (``FARO_SLACK_STAFF_CHANNEL``), optional.

One message per new handoff: its channel, language, the first words of the
customer's question and a link to the inbox; nothing else of the customer (no
conversation id, no address, no name). It is a consumer of the handoff event
log (slot 3, beside the webhook and Chatwoot): one replica at a time posts, in
order, and a restart continues after the last handoff it told, so each is
posted once (at least once if Slack fails after accepting: retried with backoff).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handoff.events import EventConsumer
from bot.handoff.store import HandoffStore

logger = logging.getLogger(__name__)

SLOT = 3
FIRST_WORDS = 12
FIRST_CHARS = 100


def first_words(text: str) -> str:
    """The first words of ``text`` (at most 12 words, 100 characters), with "…" if cut."""
    words = text.split()
    short = " ".join(words[:FIRST_WORDS])
    if len(short) > FIRST_CHARS:
        short = short[:FIRST_CHARS].rstrip()
    return short + ("…" if short != " ".join(words) else "")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class HandoffSlackNotifier(EventConsumer):
    """Posts each new handoff to the Slack staff channel (a background task of the app)."""

    slot = SLOT
    name = "handoff to Slack"
    expected = (SlackApiError,)

    def __init__(
        self,
        store: HandoffStore,
        client: AsyncWebClient,
        *,
        channel: str,
        inbox_url: str = "/admin/inbox",
        poll_s: float = 1.0,
        lease_s: float = 30.0,
        max_backoff_s: float = 300.0,
    ) -> None:
        super().__init__(store.engine, poll_s=poll_s, lease_s=lease_s, max_backoff_s=max_backoff_s)
        self._store = store
        self._client = client
        self._channel = channel
        self._inbox_url = inbox_url

    async def start(self) -> None:
        """Start telling (handoffs from before it was first turned on are not told)."""
        await asyncio.to_thread(self._log.hold, self.owner, lease_s=self._lease_s, slot=SLOT)
        await super().start()

    def describe(self, exc: Exception) -> str:
        response = exc.response if isinstance(exc, SlackApiError) else None
        return str(response.get("error") if response is not None else "?")

    def text_for(self, handoff_id: int, channel: str, lang: str) -> str:
        """The staff message for one new handoff."""
        transcript = self._store.transcript(handoff_id)
        question = next((m.text for m in transcript if m.role == "user"), "")
        said = f"\n> {_escape(first_words(question))}" if question.strip() else ""
        return (
            f":raising_hand: New handoff #{handoff_id} waiting: {_escape(channel)}, "
            f"{_escape(lang)}{said}\n<{self._inbox_url}|Open the inbox>"
        )

    async def send_pending(self) -> int:
        """Post the new handoffs due now (if this replica holds the lease); how many.

        Raises ``SlackApiError`` when Slack refuses one (it is retried later).
        """
        return await self.consume()

    async def handle(self, event: dict[str, Any]) -> bool:
        if event["event"] != "handoff.requested":
            return False
        h = event["handoff"]
        text = await asyncio.to_thread(self.text_for, h["id"], h["channel"], h["lang"])
        await self._client.chat_postMessage(channel=self._channel, text=text)
        return True
