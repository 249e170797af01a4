"""Updates as Telegram would send them (for the fake Bot API and the webhook tests)."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers.telegram_fake import chat_object


def user(user_id: int, lang: str | None = "en") -> dict[str, Any]:
    """A Telegram user object."""
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if lang:
        out["language_code"] = lang
    return out


def message_update(
    update_id: int, chat_id: int, text: str, *, lang: str | None = "en"
) -> dict[str, Any]:
    """An update carrying a text message from the user of a private chat."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": chat_object(chat_id),
            "from": user(chat_id, lang),
            "text": text,
        },
    }


def callback_update(
    update_id: int, message: dict[str, Any], data: str, *, lang: str | None = "en"
) -> dict[str, Any]:
    """An update for pressing the button with ``data`` under ``message`` (as the fake stored it)."""
    chat_id = message["chat"]["id"]
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "from": user(chat_id, lang),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        },
    }


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of every button under ``message``."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b["callback_data"]) for row in rows for b in row]
