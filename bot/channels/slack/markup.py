"""Slack's message markup: reading it from users, and Block Kit for the bot's replies.

Slack parses ``<...>`` in message text as mentions and links (``<!channel>``
pings everyone), so every piece of text the bot sends as ``mrkdwn`` is
escaped (``&``, ``<``, ``>``) and marked ``verbatim`` so Slack adds no
links or mentions of its own. Block Kit limits are enforced here.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.core.messages import BotMessage

logger = logging.getLogger(__name__)

SECTION_TEXT_MAX = 3000
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTIONS_PER_BLOCK = 25
BLOCKS_MAX = 50
FALLBACK_TEXT_MAX = 3000
CHOICE_ACTION_PREFIX = "faro_choice:"
ELLIPSIS = "…"

_ANGLE = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` so Slack shows ``text`` as typed and nothing pings."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def incoming_text(text: str, *, bot_user_id: str | None = None) -> str:
    """A user's Slack message as plain text for the core (mentions, links, entities undone)."""

    def plain(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if bot_user_id and target == f"@{bot_user_id}":
            return " "
        if target.startswith(("@", "#")):
            return (
                label if label.startswith(("@", "#")) else (target[0] + label if label else target)
            )
        if target.startswith("!"):
            name = target[1:].split("^")[0]
            return label or f"@{name}"
        return label or target

    unescaped = _ANGLE.sub(plain, text)
    entities = {"amp": "&", "lt": "<", "gt": ">"}
    return " ".join(_ENTITY.sub(lambda m: entities[m.group(1)], unescaped).split())


def split_escaped(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Split already-escaped text into pieces of at most ``limit`` characters.

    Prefers paragraph, line and word breaks, and never cuts an entity (``&amp;``).
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, limit // 2, limit)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
            amp = rest.rfind("&", cut - 5, cut)
            if amp != -1 and ";" not in rest[amp:cut]:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def section(escaped: str) -> dict[str, Any]:
    """A section block of already-escaped mrkdwn text (within the limit)."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(escaped, SECTION_TEXT_MAX), "verbatim": True},
    }


def text_blocks(text: str, *, max_blocks: int = BLOCKS_MAX) -> list[dict[str, Any]]:
    """Section blocks showing plain ``text`` (escaped, split at the section limit)."""
    pieces = split_escaped(escape(text))
    if len(pieces) > max_blocks:
        pieces = pieces[: max_blocks - 1] + [truncate(pieces[max_blocks - 1], 2990) + ELLIPSIS]
    return [section(p) for p in pieces]


def button(title: str, value: str, action_id: str) -> dict[str, Any] | None:
    """A button (plain text title, so nothing in it can ping), or None if ``value`` is too long."""
    if len(value) > BUTTON_VALUE_MAX:
        logger.warning("dropped a button whose payload is over %d characters", BUTTON_VALUE_MAX)
        return None
    label = " ".join(title.split()) or value[:BUTTON_TEXT_MAX] or "?"
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, BUTTON_TEXT_MAX), "emoji": True},
        "value": value,
        "action_id": action_id,
    }


def render(message: BotMessage) -> tuple[list[dict[str, Any]], str]:
    """Block Kit blocks and the notification (fallback) text for one bot message."""
    buttons = [
        b
        for i, choice in enumerate(message.buttons)
        if (b := button(choice.title, choice.payload, f"{CHOICE_ACTION_PREFIX}{i}")) is not None
    ]
    action_blocks = [
        {"type": "actions", "elements": buttons[i : i + ACTIONS_PER_BLOCK]}
        for i in range(0, len(buttons), ACTIONS_PER_BLOCK)
    ]
    blocks = text_blocks(message.text, max_blocks=BLOCKS_MAX - len(action_blocks))
    fallback = message.text.strip() or " / ".join(b.title for b in message.buttons)
    return blocks + action_blocks, truncate(escape(fallback), FALLBACK_TEXT_MAX)


def choice_made(blocks: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    """The blocks of a message whose choice was made: buttons replaced by the choice."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    chosen = truncate(escape(" ".join(title.split())), SECTION_TEXT_MAX - 4)
    return [
        *kept[: BLOCKS_MAX - 1],
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"› {chosen}", "verbatim": True}],
        },
    ]
