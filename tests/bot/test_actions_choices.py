"""Typed picks among the choices the bot offered."""

from __future__ import annotations

from typing import Any

import pytest

from actions.choices import offered_faq_ids, pick

CHOICES = ["card-payments-failing", "card-abroad", "online-shopping"]


def bot(*payloads: str) -> dict[str, object]:
    return {"event": "bot", "data": {"buttons": [{"title": p, "payload": p} for p in payloads]}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the first one", "card-payments-failing"),
        ("option 2", "card-abroad"),
        ("la segunda", "card-abroad"),
        ("la tercera opción", "online-shopping"),
        ("the last one", "online-shopping"),
        ("la última", "online-shopping"),
        ("number 3", "online-shopping"),
        ("the fifth one", None),
        ("the first or the second", None),
        ("something else", None),
    ],
)
def test_pick_by_position(text: str, expected: str | None) -> None:
    assert pick(text, CHOICES) == expected


def test_pick_never_goes_past_the_offered_choices() -> None:
    assert pick("the third one", CHOICES[:2]) is None


def test_offered_ids_come_from_the_latest_bot_message_with_choices() -> None:
    events: list[dict[str, Any]] = [
        bot('/choose_faq{"faq_id":"old-entry"}'),
        {"event": "user", "text": "hm"},
        bot('/choose_faq{"faq_id":"a"}', '/choose_faq{"faq_id":"b"}', "/request_human"),
        {"event": "user", "text": "the second"},
    ]
    assert offered_faq_ids(events) == ["a", "b"]


def test_no_choices_when_the_latest_bot_message_offered_none() -> None:
    events = [bot('/choose_faq{"faq_id":"a"}'), bot("/request_human")]
    assert offered_faq_ids(events) == []
