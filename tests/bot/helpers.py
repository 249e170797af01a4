"""Builders and fakes shared by the bot/ and actions/ tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.messages import BotMessage, Turn
from bot.core.ports import ActionServices
from bot.rasa import payloads
from faq_index import Decision, FaqEntry, Match

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_DIR / "data" / "templates"


# --- the channel/core interface -------------------------------------------------------


@dataclass
class FakeConversation:
    """A :class:`bot.core.messages.Conversation` that records turns and answers ``replies``."""

    replies: list[BotMessage] = field(default_factory=lambda: [BotMessage("ok")])
    turns: list[Turn] = field(default_factory=list)

    async def handle(self, turn: Turn) -> list[BotMessage]:
        self.turns.append(turn)
        return list(self.replies)


# --- actions' ports -------------------------------------------------------------------


def faq_entry(
    faq_id: str,
    *,
    en: tuple[str, str] | None = None,
    es: tuple[str, str] | None = None,
) -> FaqEntry:
    """A real :class:`FaqEntry` from (question, answer) pairs per language."""
    langs = {lang: qa for lang, qa in (("en", en), ("es", es)) if qa is not None}
    if not langs:
        langs = {"en": (f"Question {faq_id}?", f"Answer {faq_id}.")}
    return FaqEntry(
        id=faq_id,
        question={lang: qa[0] for lang, qa in langs.items()},
        answer={lang: qa[1] for lang, qa in langs.items()},
    )


def decision(kind: str, *entries: FaqEntry, scores: Sequence[float] = ()) -> Decision:
    """A real :class:`Decision` over ``entries`` (scores default to descending)."""
    scores = list(scores) or [0.9 - 0.1 * i for i in range(len(entries))]
    return Decision(kind, tuple(Match(e, s) for e, s in zip(entries, scores, strict=True)))  # type: ignore[arg-type]


@dataclass
class FakeFaq:
    """Implements actions' ``FaqAnswerer``: a canned decision, known entries, recorded calls."""

    next_decision: Decision = field(default_factory=lambda: Decision("decline"))
    entries: dict[str, FaqEntry] = field(default_factory=dict)
    decided: list[tuple[str, str]] = field(default_factory=list)
    looked_up: list[tuple[str, str]] = field(default_factory=list)
    unanswered: list[tuple[str, str, str]] = field(default_factory=list)
    recorded_on: list[int] = field(default_factory=list)  # thread idents of the records

    def decide(self, text: str, lang: str) -> Decision:
        self.decided.append((text, lang))
        return self.next_decision

    def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
        self.looked_up.append((faq_id, lang))
        entry = self.entries.get(faq_id)
        if entry is None:
            return None
        return entry.question_for(lang)[1], entry.answer_for(lang)[1]

    def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
        self.unanswered.append((text, lang, conversation_id))
        self.recorded_on.append(threading.get_ident())


@dataclass
class FakeStatus:
    """Implements actions' ``StatusService``; records (text, lang, eta)."""

    reply: BotMessage = field(default_factory=lambda: BotMessage("All systems operational."))
    calls: list[tuple[str, str, bool]] = field(default_factory=list)

    def status_reply(self, text: str, lang: str, *, eta: bool = False) -> BotMessage:
        self.calls.append((text, lang, eta))
        return self.reply


# --- what Rasa 3.6 sends to the action server -----------------------------------------

RASA_VERSION = "3.6.21"
MODEL_ID = "3c9d4b8f2f6e4c8a9b0a1d2e3f405162"
ASSISTANT_ID = "faro"

DOMAIN: dict[str, Any] = {
    "version": "3.1",
    "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    "intents": [
        "greet",
        "goodbye",
        "thanks",
        "bot_challenge",
        "request_human",
        "faq",
        "choose_faq",
        "ask_status",
        "ask_eta",
    ],
    "entities": ["faq_id"],
    "slots": {},
    "responses": {},
    "actions": [
        "action_answer_faq",
        "action_incident_status",
        "action_greet",
        "action_goodbye",
        "action_thanks",
        "action_bot_challenge",
        "action_request_human",
    ],
    "forms": {},
    "e2e_actions": [],
}


def action_call(
    next_action: str,
    *,
    text: str = "my card is not working",
    intent: str = "faq",
    entities: Sequence[dict[str, Any]] = (),
    lang: str | None = "en",
    channel: str = "web",
    sender_id: str = "web:Qx1bS0m3S3ss10n",
    domain: dict[str, Any] | None = DOMAIN,
) -> dict[str, Any]:
    """An action call shaped like the ones Rasa 3.6.21 posts to the action endpoint.

    The app's metadata (``lang``, ``channel``) sits on the user event, where
    Rasa's REST channel puts the ``metadata`` of the webhook request.
    """
    now = time.time()
    parse_data = {
        "intent": {"name": intent, "confidence": 0.97},
        "entities": [dict(e) for e in entities],
        "text": text,
        "message_id": uuid.uuid4().hex,
        "metadata": {},
        "intent_ranking": [{"name": intent, "confidence": 0.97}],
    }
    metadata: dict[str, Any] = {
        "channel": channel,
        "model_id": MODEL_ID,
        "assistant_id": ASSISTANT_ID,
    }
    if lang is not None:
        metadata["lang"] = lang
    rasa_meta = {"model_id": MODEL_ID, "assistant_id": ASSISTANT_ID}
    events: list[dict[str, Any]] = [
        {
            "event": "action",
            "timestamp": now - 3,
            "metadata": rasa_meta,
            "name": "action_session_start",
            "policy": None,
            "confidence": 1.0,
            "action_text": None,
            "hide_rule_turn": False,
        },
        {"event": "session_started", "timestamp": now - 3, "metadata": rasa_meta},
        {
            "event": "action",
            "timestamp": now - 3,
            "metadata": rasa_meta,
            "name": "action_listen",
            "policy": None,
            "confidence": None,
            "action_text": None,
            "hide_rule_turn": False,
        },
        {
            "event": "user",
            "timestamp": now - 1,
            "metadata": metadata,
            "text": text,
            "parse_data": parse_data,
            "input_channel": "rest",
            "message_id": parse_data["message_id"],
        },
        {
            "event": "user_featurization",
            "timestamp": now - 1,
            "metadata": rasa_meta,
            "use_text_for_featurization": False,
        },
    ]
    call: dict[str, Any] = {
        "next_action": next_action,
        "sender_id": sender_id,
        "tracker": {
            "sender_id": sender_id,
            "slots": {"session_started_metadata": None},
            "latest_message": parse_data,
            "latest_event_time": now - 1,
            "followup_action": None,
            "paused": False,
            "events": events,
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {"action_name": "action_listen"},
            "latest_action_name": "action_listen",
        },
        "version": RASA_VERSION,
    }
    if domain is not None:
        call["domain"] = domain
    return call


def choose_faq_call(faq_id: str, *, lang: str | None = "en") -> dict[str, Any]:
    """The action call after the user pressed a ``/choose_faq`` button."""
    payload = payloads.choose_faq(faq_id)
    entity = {"entity": "faq_id", "start": 11, "end": 11 + len(faq_id), "value": faq_id}
    return action_call(
        "action_answer_faq", text=payload, intent="choose_faq", entities=[entity], lang=lang
    )


async def run_action(services: ActionServices, call: dict[str, Any]) -> dict[str, Any]:
    """Run one action call through rasa-sdk's executor with Faro's actions on ``services``."""
    import actions
    from bot.rasa.action_server import executor_for

    result = await executor_for(actions.build_actions(services)).run(call)
    assert result is not None
    return result.model_dump()


def texts(result: dict[str, Any]) -> list[str | None]:
    """The texts of the responses an action returned."""
    return [r["text"] for r in result["responses"]]
