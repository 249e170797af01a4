"""Button payloads as Telegram callback data (at most 64 bytes).

The bot's payloads (``/choose_faq{"faq_id":"..."}``) can be longer than
Telegram allows. Short payloads travel as they are; longer ones travel as
``#`` + a key derived from the payload, and the payload is kept server-side
(:class:`~bot.channels.telegram.store.TelegramStore`). The key is a hash, so
every replica computes the same one and saving is idempotent.
"""

from __future__ import annotations

import base64
import hashlib

MAX_CALLBACK_BYTES = 64
KEY_PREFIX = "#"


def fits(payload: str) -> bool:
    """Whether ``payload`` can travel as callback data unchanged."""
    return not payload.startswith(KEY_PREFIX) and len(payload.encode()) <= MAX_CALLBACK_BYTES


def callback_data(payload: str) -> str:
    """The callback data for a button with ``payload``."""
    return payload if fits(payload) else key_for(payload)


def key_for(payload: str) -> str:
    """The short opaque key (17 ASCII bytes) standing for a long payload."""
    digest = hashlib.sha256(payload.encode()).digest()[:12]
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode()


def is_key(data: str) -> bool:
    """Whether callback ``data`` is a key to look up rather than the payload itself."""
    return data.startswith(KEY_PREFIX)
