"""Sending to Slack: replies now, broadcasts later, paced and retried.

``chat.postMessage`` allows about one message per second per channel, so
each channel gets its own pace. A 429 is retried after its ``Retry-After``
(slack_sdk's rate-limit retry handler), 500/503 and dropped connections a
few times; anything else becomes a :class:`SlackSendError`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.errors import SlackSendError
from bot.channels.slack.markup import render
from bot.core.messages import BotMessage

logger = logging.getLogger(__name__)

_PACED_CHANNELS = 10_000


def make_client(
    *,
    token: str,
    base_url: str | None = None,
    rate_limit_retries: int = 3,
    server_error_retries: int = 2,
    connection_retries: int = 2,
    timeout_s: int = 30,
) -> AsyncWebClient:
    """A Web API client that honours 429 Retry-After and retries transient failures."""
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        timeout=timeout_s,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=connection_retries),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            AsyncServerErrorRetryHandler(max_retry_count=server_error_retries),
        ],
    )


class SlackSender:
    """Posts and updates messages, at most one call per ``interval_s`` per channel."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._interval_s = interval_s
        self._clock = clock
        self._paces: OrderedDict[str, _Pace] = OrderedDict()

    @property
    def client(self) -> AsyncWebClient:
        """The underlying Web API client."""
        return self._client

    async def send(
        self, channel: str, messages: list[BotMessage], *, thread_ts: str | None = None
    ) -> list[str]:
        """Post each bot message (Block Kit) to ``channel`` in order; return their ``ts``.

        Messages with nothing to show on Slack (no text, no buttons) are skipped.
        """
        sent = []
        for message in messages:
            blocks, text = render(message)
            if not blocks:
                continue
            sent.append(await self.post(channel, blocks=blocks, text=text, thread_ts=thread_ts))
        return sent

    async def post(
        self,
        channel: str,
        *,
        blocks: list[dict[str, Any]],
        text: str,
        thread_ts: str | None = None,
    ) -> str:
        """``chat.postMessage`` with ready blocks and escaped fallback ``text``; returns its ts."""
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        data = await self._call(
            "chat.postMessage",
            channel,
            channel=channel,
            blocks=blocks,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
        return str(data.get("ts", ""))

    async def update(
        self, channel: str, ts: str, *, blocks: list[dict[str, Any]], text: str
    ) -> None:
        """``chat.update`` an earlier message."""
        await self._call("chat.update", channel, channel=channel, ts=ts, blocks=blocks, text=text)

    async def _call(self, method: str, pace_key: str, /, **kwargs: Any) -> dict[str, Any]:
        pace = self._pace(pace_key)
        async with pace.lock:
            wait = pace.next_at - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                response = await self._client.api_call(method, json=kwargs)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                status = exc.response.status_code if exc.response is not None else "?"
                raise SlackSendError(
                    f"{method} failed: {error or 'HTTP ' + str(status)}", error=error
                ) from None
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                raise SlackSendError(f"{method} failed: {type(exc).__name__}") from None
            finally:
                pace.next_at = self._clock() + self._interval_s
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _pace(self, channel: str) -> _Pace:
        pace = self._paces.get(channel)
        if pace is None:
            pace = self._paces[channel] = _Pace()
            while len(self._paces) > _PACED_CHANNELS:
                oldest, old = next(iter(self._paces.items()))
                if old.lock.locked():
                    break
                del self._paces[oldest]
        self._paces.move_to_end(channel)
        return pace


class _Pace:
    """When a channel may next be sent to, and who is sending now."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.next_at = 0.0
