"""The outbox's SMS :class:`Deliverer`: one paced Twilio request per message.

Twilio's 429 pauses every send for its ``Retry-After`` (1 s when it gives
none) and is retried a few times; 21610 (the number replied STOP) and an
invalid number retire the subscriber; 5xx and network errors are temporary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from bot.broadcast.delivery import PermanentFailure, RecipientGone, TemporaryFailure
from bot.channels.contact.addresses import mask
from bot.channels.contact.pace import Pacer
from bot.channels.sms.render import max_segments, render_sms
from bot.channels.sms.twilio import NOT_A_NUMBER, UNSUBSCRIBED, TwilioClient, TwilioError
from bot.templates import TemplateStore

logger = logging.getLogger(__name__)


class SmsDeliverer:
    """Fits a broadcast text to the segment budget and sends it through Twilio."""

    channel = "sms"

    def __init__(
        self,
        client: TwilioClient,
        *,
        templates: TemplateStore,
        rate_per_s: float,
        concurrency: int = 4,
        max_429_retries: int = 3,
        on_gone: Callable[[str, str], None] | None = None,
    ) -> None:
        self.client = client
        self.templates = templates
        self.pacer = Pacer(rate_per_s)
        self.concurrency = concurrency
        self._max_429_retries = max_429_retries
        self.on_gone = on_gone  # (number, reason): 21610 or not a number, for the subscribe audit

    async def deliver(self, address: str, text: str, lang: str, *, ref: str = "") -> None:
        """Send ``text`` to number ``address``; raises the outbox's failure for Twilio's answer."""
        body = render_sms(text, segments=max_segments(self.templates, lang))
        for attempt in range(self._max_429_retries + 1):
            await self.pacer.wait()
            try:
                await self.client.send(address, body)
                return
            except TwilioError as exc:
                if exc.status == 429:
                    self.pacer.pause(exc.retry_after or 1.0)
                    if attempt < self._max_429_retries:
                        continue
                    raise TemporaryFailure("Twilio 429: too many requests") from None
                if exc.code == UNSUBSCRIBED or exc.code in NOT_A_NUMBER:
                    reason = f"Twilio {exc.code}: {exc.message}"
                    logger.info("SMS to %s: the number is gone (%s)", mask(address), exc.code)
                    await _tell(self.on_gone, address, reason)
                    raise RecipientGone(reason) from None
                if exc.status >= 500:
                    raise TemporaryFailure(f"Twilio {exc.status}") from None
                raise PermanentFailure(f"Twilio {exc.status} ({exc.code}): {exc.message}") from None
            except httpx.HTTPError as exc:
                raise TemporaryFailure(f"Twilio unreachable: {type(exc).__name__}") from None


async def _tell(on_gone: Callable[[str, str], None] | None, address: str, reason: str) -> None:
    """Record that ``address`` is gone (the subscribe audit); a failure there is only logged."""
    if on_gone is None:
        return
    try:
        await asyncio.to_thread(on_gone, address, reason)
    except Exception:  # the row is still retired by the delivery worker
        logger.exception("could not record that %s is gone", mask(address))
