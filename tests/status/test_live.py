"""The live status: accept, confirm, fail, listeners, webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.status.errors import WebhookError
from bot.status.live import LiveStatus
from tests.helpers.status_builders import FakeClock, fixture, snapshot, summary


def test_accept_confirm_fail_age() -> None:
    clock = FakeClock()
    live = LiveStatus(clock=clock)
    assert live.age() is None
    live.confirm()  # nothing to confirm yet
    assert live.confirmed_at is None
    snap = snapshot(summary())
    live.accept(snap)
    clock.advance(minutes=3)
    assert live.age() == timedelta(minutes=3)
    live.fail("x: HTTP 500")
    assert live.snapshot is snap and live.last_error == "x: HTTP 500"
    live.confirm()
    assert live.age() == timedelta(0) and live.last_error is None


def test_listeners_hear_new_states_and_broken_ones_are_contained() -> None:
    live = LiveStatus(clock=FakeClock())
    heard: list[object] = []

    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    live.subscribe(broken)
    live.subscribe(heard.append)
    live.accept(snapshot(summary()))
    assert len(heard) == 1


def test_webhook_applies_or_changes_nothing() -> None:
    clock = FakeClock()
    live = LiveStatus(clock=clock)
    live.accept(snapshot(summary()))
    before = live.snapshot
    with pytest.raises(WebhookError):
        live.apply_webhook({"incident": {"name": "no id"}})
    assert live.snapshot is before
    live.apply_webhook(fixture("webhooks", "incident_created.json"))
    assert live.snapshot is not None and live.snapshot.open_incidents()[0].id == "z3lct0r596n4"
    assert live.confirmed_at == clock.now
