"""actions.common: tracker helpers and required services."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.common import required, user_lang, user_metadata, user_text
from tests.bot.helpers import action_call


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


def test_required_returns_the_service_or_names_what_is_missing() -> None:
    service = object()
    assert required(service, "the FAQ", "action_x") is service
    with pytest.raises(TypeError, match="action_x needs the FAQ"):
        required(None, "the FAQ", "action_x")
