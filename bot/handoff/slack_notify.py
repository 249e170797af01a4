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
import contextlib
import logging
import os
import socket
import uuid

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handoff.events import EventLog
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


class HandoffSlackNotifier:
    """Posts each new handoff to the Slack staff channel (a background task of the app)."""

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
        self._store = store
        self._log = EventLog(store.engine)
        self._client = client
        self._channel = channel
        self._inbox_url = inbox_url
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._max_backoff_s = max_backoff_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start telling (handoffs from before it was first turned on are not told)."""
        await asyncio.to_thread(self._log.hold, self.owner, lease_s=self._lease_s, slot=SLOT)
        self._task = asyncio.create_task(self._run(), name="handoff-slack")
        logger.info("new handoffs go to the Slack staff channel")

    async def stop(self) -> None:
        """Stop and give the lease up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._log.release, self.owner, slot=SLOT)

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
        cursor = await asyncio.to_thread(
            self._log.hold, self.owner, lease_s=self._lease_s, slot=SLOT
        )
        if cursor is None:
            return 0
        told = 0
        for event in await asyncio.to_thread(self._log.events_after, cursor):
            if event["event"] == "handoff.requested":
                h = event["handoff"]
                text = await asyncio.to_thread(self.text_for, h["id"], h["channel"], h["lang"])
                await self._client.chat_postMessage(channel=self._channel, text=text)
                told += 1
            await asyncio.to_thread(self._log.handled, self.owner, event["id"], slot=SLOT)
        return told

    async def _run(self) -> None:
        backoff = self._poll_s
        while True:
            try:
                await self.send_pending()
                backoff = self._poll_s
            except asyncio.CancelledError:
                raise
            except SlackApiError as exc:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                error = exc.response.get("error") if exc.response is not None else "?"
                logger.warning("handoff to Slack: %s; retry in %.0f s", error, backoff)
            except Exception:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff_s)
                logger.exception("handoff to Slack failed")
            await asyncio.sleep(backoff)
