"""bot.channels.web_banner: when the banner shows, what it says, caching."""

from __future__ import annotations

import pytest

from actions.ports import Reply
from bot.channels.web_banner import StatusBanner
from tests.bot.helpers import FakeStatus


def reply(phase: str, text: str = "As of 10:00 UTC, something.") -> Reply:
    return Reply(text, custom={"status": {"phase": phase, "incident_id": "i1", "as_of": "x"}})


@pytest.mark.parametrize(
    ("phase", "active"),
    [
        ("investigating", True),
        ("identified", True),
        ("monitoring", True),
        ("maintenance_in_progress", True),
        ("component", True),
        ("resolved", False),
        ("all_operational", False),
        ("unavailable", False),
        ("maintenance_completed", False),
    ],
)
def test_banner_shows_while_an_incident_is_open(phase: str, active: bool) -> None:
    banner = StatusBanner(FakeStatus(reply=reply(phase))).current("en")
    assert banner["active"] is active
    assert banner["text"] == ("As of 10:00 UTC, something." if active else "")
    assert banner["phase"] == phase


def test_banner_asks_in_the_widget_language_and_defaults_to_english() -> None:
    status = FakeStatus(reply=reply("identified"))
    banner = StatusBanner(status)
    banner.current("es")
    banner.current("fr")
    banner.current(None)
    assert [c[1] for c in status.calls] == ["es", "en"]  # the second "en" came from the cache


def test_banner_is_cached_until_invalidated_or_expired() -> None:
    now = [0.0]
    status = FakeStatus(reply=reply("investigating"))
    banner = StatusBanner(status, ttl_s=30, clock=lambda: now[0])
    assert banner.current("en")["active"]
    status.reply = reply("resolved")
    assert banner.current("en")["active"]  # cached
    banner.invalidate()
    assert not banner.current("en")["active"]
    status.reply = reply("monitoring")
    now[0] = 31
    assert banner.current("en")["active"]


def test_a_failing_status_service_hides_the_banner() -> None:
    class Broken:
        def status_reply(self, text: str, lang: str, *, eta: bool = False) -> Reply:
            raise RuntimeError("boom")

    assert StatusBanner(Broken()).current("en") == {"active": False, "phase": "unavailable"}
