"""bot.channels.web_banner: when the banner shows, what it says, caching."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.channels.web_banner import StatusBanner
from bot.core.messages import BotMessage, Phase, StatusCard
from tests.bot.helpers import FakeStatus

AS_OF = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def reply(phase: str, text: str = "As of 10:00 UTC, something.") -> BotMessage:
    return BotMessage(text, status=StatusCard(Phase(phase), incident_id="i1", as_of=AS_OF))


@pytest.mark.parametrize(
    ("phase", "active"),
    [
        ("investigating", True),
        ("identified", True),
        ("monitoring", True),
        ("maintenance_in_progress", True),
        ("component", True),
        ("unknown", True),
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
    assert banner["as_of"] == "2024-05-01T10:00:00+00:00" and banner["incident_id"] == "i1"
    assert banner["stale"] is False


def test_a_status_answer_without_a_card_shows_no_banner() -> None:
    banner = StatusBanner(FakeStatus(reply=BotMessage("Something."))).current("en")
    assert banner["active"] is False and "text" not in banner


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
        def status_reply(self, text: str, lang: str, *, eta: bool = False) -> BotMessage:
            raise RuntimeError("boom")

    assert StatusBanner(Broken()).current("en") == {"active": False, "phase": "unavailable"}
