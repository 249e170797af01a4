"""Rasa payload syntax (``/intent{"entity":"value"}``): the one place it is built and parsed.

A button's payload goes back to Rasa as the user's message; Rasa reads a
message starting with ``/`` as that intent (and its entities), skipping NLU.
"""

from __future__ import annotations

import re

HUMAN = "/request_human"
SUBSCRIBE = "/subscribe"
UNSUBSCRIBE = "/unsubscribe"
ASK_STATUS = "/ask_status"
ASK_ETA = "/ask_eta"
# "Never mind" on the queue message: out of the queue for a person, back to the bot.
CANCEL_HANDOFF = "/cancel_handoff"
# The widget's email/SMS form (``/subscribe_contact{"open":true,"email":"..."}``): the
# widget opens the form for it; it is never sent to Rasa (not a bot payload below).
CONTACT_FORM = "/subscribe_contact"

CHOOSE_FAQ_INTENT = "choose_faq"
FAQ_ID_ENTITY = "faq_id"

_FAQ_ID = r"[a-z0-9][a-z0-9_-]{0,80}"
_CHOOSE_FAQ = re.compile(r'^/choose_faq\{"faq_id":\s?"(' + _FAQ_ID + r')"\}\Z')
# Payloads the bot itself puts on buttons; anything else a client sends back
# as a "button press" is treated as typed text.
_BOT_PAYLOAD = re.compile(
    r'^/(?:choose_faq\{"faq_id":\s?"'
    + _FAQ_ID
    + r'"\}|request_human|cancel_handoff|ask_status|ask_eta|subscribe|unsubscribe)\Z'
)


def choose_faq(faq_id: str) -> str:
    """The button payload that selects one FAQ entry."""
    return '/choose_faq{"faq_id":"' + faq_id + '"}'


def chosen_faq(payload: str) -> str | None:
    """The FAQ id a choose-FAQ payload selects, None when ``payload`` is not one."""
    match = _CHOOSE_FAQ.match(payload)
    return match.group(1) if match else None


def is_bot_payload(payload: str) -> bool:
    """True when ``payload`` is one the bot puts on its buttons (safe to send to Rasa as is)."""
    return _BOT_PAYLOAD.match(payload) is not None
