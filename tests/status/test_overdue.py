"""The next update's due time: promised in the text (en/es), or the team's rhythm; late or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.status.answers import AnswerWriter
from bot.status.model import StatusSnapshot
from bot.status.overdue import DueReason, Rhythm, next_update_due, overdue_updates, promised_time
from bot.templates import TemplateStore
from tests.helpers.status_builders import component, incident, snapshot, summary, update

POSTED = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
RHYTHM = Rhythm(major=timedelta(minutes=30), minor=timedelta(minutes=60))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We are on it. We will post the next update by 10:45 UTC.", POSTED.replace(minute=45)),
        ("Next update in 30 minutes.", POSTED + timedelta(minutes=30)),
        ("We will provide an update within the next 2 hours.", POSTED + timedelta(hours=2)),
        ("Next update in half an hour.", POSTED + timedelta(minutes=30)),
        ("Next update at 11am.", POSTED.replace(hour=11, minute=0)),
        ("Next update by 6:00 EST.", POSTED.replace(hour=11, minute=0)),
        ("Próxima actualización a las 10:45.", POSTED.replace(minute=45)),
        ("Daremos una nueva actualización en 20 minutos.", POSTED + timedelta(minutes=20)),
        ("Informaremos en una hora.", POSTED + timedelta(hours=1)),
    ],
)
def test_promised_times_are_read_from_the_update_text(text: str, expected: datetime) -> None:
    assert promised_time(text, posted_at=POSTED) == expected


@pytest.mark.parametrize(
    "text",
    [
        "We are still investigating and will provide an update when we have one.",
        "We expect a fix by 11:00.",  # an estimate for the fix, not for the next update
        "The issue started at 09:00.",
        "",
    ],
)
def test_no_time_is_made_up_when_none_was_promised(text: str) -> None:
    assert promised_time(text, posted_at=POSTED) is None


def test_a_clock_time_before_the_post_means_the_next_day() -> None:
    late = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)
    promised = promised_time("Next update by 00:15 UTC.", posted_at=late)
    assert promised == datetime(2026, 3, 3, 0, 15, tzinfo=UTC)


def _snap(
    body: str, *, impact: str = "major", at: datetime = POSTED, extra: list[Any] | None = None
) -> StatusSnapshot:
    updates = [*(extra or []), update("identified", body, at)]
    return snapshot(
        summary(
            components=[component("Card payments", "major_outage")],
            incidents=[incident(*updates, impact=impact)],
        )
    )


def test_the_promise_sets_the_due_time_when_earlier_than_the_rhythm() -> None:
    snap = _snap("Next update by 10:30 UTC.")
    due = next_update_due(snap.open_incidents()[0], rhythm=RHYTHM)
    assert due is not None
    assert (due.due_at, due.reason) == (POSTED.replace(minute=30), DueReason.PROMISED)


def test_promised_time_passes_then_overdue() -> None:
    snap = _snap("We will post the next update by 10:45 UTC.", impact="minor")
    grace = RHYTHM.grace
    assert overdue_updates(snap, now=POSTED.replace(minute=45) + grace, rhythm=RHYTHM) == []
    late = overdue_updates(
        snap, now=POSTED.replace(minute=45) + grace + timedelta(seconds=1), rhythm=RHYTHM
    )
    assert [d.reason for d in late] == [DueReason.PROMISED]


@pytest.mark.parametrize(("impact", "minutes"), [("major", 30), ("minor", 60)])
def test_the_rhythm_per_impact_applies_without_a_promise(impact: str, minutes: int) -> None:
    snap = _snap("We are still investigating.", impact=impact)
    due_at = POSTED + timedelta(minutes=minutes)
    assert overdue_updates(snap, now=due_at + RHYTHM.grace, rhythm=RHYTHM) == []
    late = overdue_updates(snap, now=due_at + RHYTHM.grace + timedelta(seconds=1), rhythm=RHYTHM)
    assert [(d.reason, d.due_at) for d in late] == [(DueReason.RHYTHM, due_at)]


def test_a_new_update_clears_it() -> None:
    now = POSTED + timedelta(minutes=40)
    assert overdue_updates(_snap("Investigating."), now=now, rhythm=RHYTHM)
    newer = update("identified", "Found it.", POSTED + timedelta(minutes=38), uid="u2")
    assert overdue_updates(_snap("Investigating.", extra=[newer]), now=now, rhythm=RHYTHM) == []


def test_resolved_incidents_and_no_rhythm_are_never_late() -> None:
    resolved = snapshot(
        summary(incidents=[incident(update("resolved", "Fixed.", POSTED), impact="major")])
    )
    far = POSTED + timedelta(days=1)
    assert overdue_updates(resolved, now=far, rhythm=RHYTHM) == []
    off = Rhythm(critical=None, major=None, minor=None)
    assert overdue_updates(_snap("Investigating."), now=far, rhythm=off) == []


@pytest.mark.parametrize(
    ("lang", "promised"),
    [
        ("en", "was promised for 10:45 UTC, and it is late. We have reminded our team"),
        ("es", "estaba prometida para las 10:45 UTC y se está retrasando"),
    ],
)
def test_customers_are_told_honestly_that_the_promised_update_is_late(
    templates: TemplateStore, lang: str, promised: str
) -> None:
    snap = _snap("We will post the next update by 10:45 UTC.", impact="minor")
    writer = AnswerWriter(templates, rhythm=RHYTHM)
    now = POSTED + timedelta(minutes=50)
    text = writer.write(snap, lang=lang, eta=True, confirmed_at=now, now=now).text
    assert promised in text
    # the broken promise is not quoted as if it still held, and no new time is invented
    assert "About the next update" not in text and "Sobre la próxima" not in text
    before = POSTED + timedelta(minutes=20)
    on_time = writer.write(snap, lang=lang, eta=True, confirmed_at=before, now=before).text
    assert "is late" not in on_time and "retrasando" not in on_time
    assert "About the next update" in on_time or "Sobre la próxima" in on_time


def test_customers_are_told_when_the_rhythm_is_late(templates: TemplateStore) -> None:
    snap = _snap("We are still investigating.")
    writer = AnswerWriter(templates, rhythm=RHYTHM)
    now = POSTED + timedelta(minutes=35)
    text = writer.write(snap, lang="en", confirmed_at=now, now=now).text
    assert "Our last update was at 10:15 UTC, and the next one is late." in text
    assert "won't guess a new time" in text
    no_rhythm = AnswerWriter(templates).write(snap, lang="en", confirmed_at=now, now=now).text
    assert "is late" not in no_rhythm
