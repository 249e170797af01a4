"""Typed picks among offered choices: "the second one", "la primera", "3"."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.rasa import payloads

_ORDINALS = {
    1: ("1", "first", "primera", "primero", "uno"),
    2: ("2", "second", "two", "segunda", "segundo", "dos"),
    3: ("3", "third", "three", "tercera", "tercero", "tres"),
    4: ("4", "fourth", "four", "cuarta", "cuarto", "cuatro"),
    5: ("5", "fifth", "five", "quinta", "quinto", "cinco"),
}
_LAST = ("last", "ultima", "ultimo")


def offered_faq_ids(events: list[dict[str, Any]]) -> list[str]:
    """FAQ ids on the buttons of the bot's latest message that offered choices."""
    for event in reversed(events):
        if event.get("event") != "bot":
            continue
        buttons = (event.get("data") or {}).get("buttons") or []
        ids = [i for b in buttons if (i := payloads.chosen_faq(str(b.get("payload", ""))))]
        if ids:
            return ids
        return []
    return []


def pick(text: str, choices: list[str]) -> str | None:
    """The choice ``text`` names by position, or None when it names none (or several)."""
    words = set(re.findall(r"\w+", _fold(text)))
    named = {n for n, forms in _ORDINALS.items() if words & set(forms)}
    if words & set(_LAST) and choices:
        named.add(len(choices))
    if len(named) != 1:
        return None
    position = named.pop()
    return choices[position - 1] if position <= len(choices) else None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
