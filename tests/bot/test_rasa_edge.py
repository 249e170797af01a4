"""bot.rasa: payload syntax, BotMessage as dispatcher calls, and Rasa's REST replies back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.core.messages import BotMessage, Button, Phase, StatusCard
from bot.rasa import payloads
from bot.rasa.dispatch import utter
from bot.rasa.replies import from_rest

CARD = StatusCard(
    Phase.IDENTIFIED,
    incident_id="inc-1",
    components=("Card payments",),
    as_of=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
    stale=True,
)


# --- payloads ---------------------------------------------------------------------------


@pytest.mark.parametrize("faq_id", ["card-payments-failing", "a", "x_1", "0-9"])
def test_choose_faq_round_trips_and_passes_the_allow_list(faq_id: str) -> None:
    payload = payloads.choose_faq(faq_id)
    assert payload == '/choose_faq{"faq_id":"' + faq_id + '"}'
    assert payloads.chosen_faq(payload) == faq_id
    assert payloads.is_bot_payload(payload)


@pytest.mark.parametrize(
    "payload",
    [payloads.HUMAN, payloads.SUBSCRIBE, payloads.UNSUBSCRIBE, payloads.ASK_STATUS,
     payloads.ASK_ETA, '/choose_faq{"faq_id": "spaced"}'],
)  # fmt: skip
def test_the_bot_payloads_pass_the_allow_list(payload: str) -> None:
    assert payloads.is_bot_payload(payload)


@pytest.mark.parametrize(
    "payload",
    ["/restart", "/session_start", "/request_human\n", "request_human", "/greet",
     '/choose_faq{"faq_id":"Upper"}', '/choose_faq{"faq_id":"x","other":"y"}',
     '/choose_faq{"faq_id":"x"}\n', "/subscribe{\"components\":\"all\"}"],
)  # fmt: skip
def test_other_payloads_do_not(payload: str) -> None:
    assert not payloads.is_bot_payload(payload)
    assert payloads.chosen_faq(payload) is None


# --- BotMessage -> dispatcher -------------------------------------------------------------


def test_utter_text_and_buttons() -> None:
    d = CollectingDispatcher()
    utter(d, BotMessage("Pick", buttons=(Button("A", "/ask_status"), Button("B", "/ask_eta"))))
    [m] = d.messages
    assert m["text"] == "Pick"
    assert m["buttons"] == [{"title": "A", "payload": "/ask_status"},
                            {"title": "B", "payload": "/ask_eta"}]  # fmt: skip
    assert m["custom"] == {}


def test_utter_puts_the_card_in_the_same_utterance_as_its_text() -> None:
    d = CollectingDispatcher()
    utter(d, BotMessage("As of 10:00 UTC, card payments are failing.", status=CARD))
    [m] = d.messages
    assert m["text"] == "As of 10:00 UTC, card payments are failing."
    assert m["custom"] == {"status": CARD.to_json()}


# --- Rasa's REST replies -> BotMessage ------------------------------------------------------


def test_a_card_sent_after_its_text_is_merged_into_one_message() -> None:
    # What Rasa's REST channel answers for one utterance with text and json_message.
    replies: list[dict[str, Any]] = [
        {"recipient_id": "web:s", "text": "As of 10:00 UTC, cards fail."},
        {"recipient_id": "web:s", "custom": {"status": CARD.to_json()}},
        {"recipient_id": "web:s", "text": "Want updates?", "buttons": [
            {"title": "Notify me", "payload": "/subscribe"}]},
    ]  # fmt: skip
    assert from_rest(replies) == [
        BotMessage("As of 10:00 UTC, cards fail.", status=CARD),
        BotMessage("Want updates?", buttons=(Button("Notify me", "/subscribe"),)),
    ]


@pytest.mark.parametrize(
    "replies",
    [
        [{"custom": {"status": CARD.to_json()}}],  # nothing to attach it to
        [{"custom": {"type": "other"}}],
        [{"custom": {"status": {"phase": "a phase from the future"}}}],
        [{"custom": "not a mapping"}],
        [{"image": "https://example.com/x.png"}],
        [{"text": "", "buttons": [], "custom": None}],
    ],
)
def test_nothing_to_show_gives_no_message(replies: list[dict[str, object]]) -> None:
    assert from_rest(replies) == []


def test_a_second_card_does_not_replace_the_first() -> None:
    other = StatusCard(Phase.RESOLVED)
    replies: list[dict[str, Any]] = [
        {"text": "Status", "custom": {"status": CARD.to_json()}},
        {"custom": {"status": other.to_json()}},
    ]
    assert from_rest(replies) == [BotMessage("Status", status=CARD)]


def test_card_json_round_trip_and_tolerance() -> None:
    assert StatusCard.from_json(CARD.to_json()) == CARD
    odd = {"phase": "investigating", "as_of": "garbage", "stale": "yes", "components": "Cards"}
    assert StatusCard.from_json(odd) == StatusCard(Phase.INVESTIGATING)
    assert StatusCard.from_json(None) is None
