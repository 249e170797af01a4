"""BotMessages as Telegram messages: escaped HTML, split at 4096, inline keyboards."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.core.messages import BotMessage

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096, counted in UTF-16 code units
MAX_BUTTON_TEXT = 64  # Telegram truncates long button labels; keep them readable

# A sentence ends at . ! ? … (optionally closed by quotes or brackets) before space.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+|\n+")
_SPACE = re.compile(r"\s+")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` units, at sentence ends where possible.

    Falls back to the last space, and only cuts inside a word when a part
    has no space at all.
    """
    text = text.strip()
    parts: list[str] = []
    while utf16_len(text) > limit:
        fit = _fitting_prefix(text, limit)
        head = text[:fit]
        cut = _last_end(_SENTENCE_END, head) or _last_end(_SPACE, head) or fit
        part, text = text[:cut].strip(), text[cut:].strip()
        if part:
            parts.append(part)
    if text:
        parts.append(text)
    return parts


def render_html(text: str) -> str:
    """Plain text escaped for ``parse_mode=HTML`` (Telegram needs only &, < and >)."""
    return html.escape(text, quote=False)


def render_message(
    message: BotMessage, *, encode: Callable[[str], str]
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The (HTML text, keyboard) messages for one BotMessage; buttons go on the last part.

    ``encode`` turns a button payload into callback data of at most 64 bytes.
    """
    keyboard = None
    if message.buttons:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _label(b.title or b.payload), callback_data=encode(b.payload)
                    )
                ]
                for b in message.buttons
            ]
        )
    parts = split_text(message.text)
    if not parts:
        # Telegram refuses empty text; a bare keyboard still needs a line.
        parts = ["…"] if keyboard is not None else []
    return [
        (render_html(part), keyboard if i == len(parts) - 1 else None)
        for i, part in enumerate(parts)
    ]


def _label(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_BUTTON_TEXT else title[: MAX_BUTTON_TEXT - 1] + "…"


def _fitting_prefix(text: str, limit: int) -> int:
    """The largest index ``i`` with ``utf16_len(text[:i]) <= limit``."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def _last_end(pattern: re.Pattern[str], head: str) -> int:
    """End of the last match of ``pattern`` in ``head`` (0 when none past the start)."""
    end = 0
    for match in pattern.finditer(head):
        if match.start() > 0:
            end = match.end()
    return end
