"""actions.common and actions.services: tracker helpers, utter, and the service registry."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import (
    HUMAN_PAYLOAD,
    choose_payload,
    user_lang,
    user_metadata,
    user_text,
    utter,
)
from actions.ports import Reply
from bot.dialogue import _PAYLOAD
from tests.bot.helpers import FakeFaq, FakeStatus, action_call


def tracker(**kwargs: Any) -> Tracker:
    return Tracker.from_dict(action_call("action_greet", **kwargs)["tracker"])


def test_user_metadata_from_the_user_event() -> None:
    meta = user_metadata(tracker(lang="es", channel="telegram"))
    assert meta["lang"] == "es" and meta["channel"] == "telegram"


def test_user_metadata_without_a_user_event() -> None:
    t = tracker()
    t.events = [e for e in t.events if e["event"] != "user"]
    assert user_metadata(t) == {}
    assert user_lang(t) == "en"


@pytest.mark.parametrize("metadata", [None, "es", ["es"]])
def test_user_metadata_that_is_not_a_mapping(metadata: Any) -> None:
    t = tracker()
    for e in t.events:
        if e["event"] == "user":
            e["metadata"] = metadata
    assert user_metadata(t) == {}
    assert user_lang(t) == "en"


@pytest.mark.parametrize(("lang", "expected"), [("es", "es"), ("en", "en"), ("fr", "en"),
                                                (None, "en"), ("", "en")])  # fmt: skip
def test_user_lang(lang: str | None, expected: str) -> None:
    assert user_lang(tracker(lang=lang)) == expected


def test_user_text() -> None:
    assert user_text(tracker(text="¿Está caído?")) == "¿Está caído?"
    t = tracker()
    t.latest_message = {}
    assert user_text(t) == ""


def test_utter_text_and_buttons() -> None:
    d = CollectingDispatcher()
    utter(d, Reply("Pick", buttons=(("A", "/ask_status"), ("B", "/ask_eta"))))
    [m] = d.messages
    assert m["text"] == "Pick"
    assert m["buttons"] == [{"title": "A", "payload": "/ask_status"},
                            {"title": "B", "payload": "/ask_eta"}]  # fmt: skip
    assert m["custom"] == {}


def test_utter_custom() -> None:
    d = CollectingDispatcher()
    utter(d, Reply("Status", custom={"k": 1}))
    utter(d, Reply("", custom={"k": 2}))
    assert [(m["text"], m["custom"]) for m in d.messages] == [
        ("Status", {"k": 1}),
        (None, {"k": 2}),
    ]


@pytest.mark.parametrize("faq_id", ["card-payments-failing", "a", "x_1", "0-9"])
def test_choose_payload_is_what_the_dialogue_core_lets_through(faq_id: str) -> None:
    payload = choose_payload(faq_id)
    assert payload == '/choose_faq{"faq_id":"' + faq_id + '"}'
    assert _PAYLOAD.match(payload)
    assert _PAYLOAD.match(HUMAN_PAYLOAD)


def test_services_not_configured_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "_services", None)
    with pytest.raises(services.ServicesNotConfigured):
        services.get()


def test_configure_then_get(monkeypatch: pytest.MonkeyPatch, templates: Any) -> None:
    monkeypatch.setattr(services, "_services", None)
    svc = services.Services(faq=FakeFaq(), status=FakeStatus(), templates=templates)
    services.configure(svc)
    assert services.get() is svc


async def test_action_without_services_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bot.helpers import run_action

    monkeypatch.setattr(services, "_services", None)
    with pytest.raises(services.ServicesNotConfigured):
        await run_action(action_call("action_greet"))


def test_actions_construct_before_services_are_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # rasa-sdk instantiates every action at start, before the app configures services.
    import actions

    monkeypatch.setattr(services, "_services", None)
    for action in actions.ALL_ACTIONS:
        assert action().name().startswith("action_")
