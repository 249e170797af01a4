"""A drill keeps the incident's rhythm in drill time: promises read in recorded time and every
span divided by --speed, so a drill at x60 raises the overdue alert seconds after it is due;
the console shows a DRILL banner while the drill runs (controllable clocks throughout)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import create_app
from bot.rhythm.alerts import AlertBoard
from bot.rhythm.guard import OverdueGuard
from bot.rhythm.runtime import rhythm_from
from bot.settings import DrillSettings, RhythmSettings, Settings, SettingsError
from bot.status.live import LiveStatus
from bot.status.overdue import DrillTime, DueReason, Rhythm, next_update_due
from bot.wiring import build_services
from faq_index import load_encoder
from tests.helpers.status_builders import FakeClock, component, incident, snapshot, summary, update
from tests.rhythm.test_wiring import _CSRF, _env

RECORDED = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)  # when the real update was posted
DRILL_T0 = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)  # the same update, moved into the drill


def drill_feed(body: str, *, impact: str = "minor") -> LiveStatus:
    live = LiveStatus(clock=FakeClock(DRILL_T0))
    live.accept(
        snapshot(
            summary(
                components=[component("Card payments", "major_outage")],
                incidents=[incident(update("identified", body, DRILL_T0), impact=impact)],
                updated=DRILL_T0,
            )
        )
    )
    return live


async def test_a_promised_time_is_read_in_recorded_time_and_alerts_in_drill_time() -> None:
    live = drill_feed("Fix in progress. We will post the next update by 10:45 UTC.")
    rhythm = Rhythm(minor=None).compressed(DrillTime(speed=60, origin=RECORDED))
    assert live.snapshot is not None
    [incident_] = live.snapshot.open_incidents()
    due = next_update_due(incident_, rhythm=rhythm)
    assert due is not None and due.reason is DueReason.PROMISED
    assert due.due_at == DRILL_T0 + timedelta(seconds=30)  # 30 recorded minutes at x60
    clock = FakeClock(DRILL_T0)
    board = AlertBoard()
    guard = OverdueGuard(live, board, rhythm=rhythm, clock=clock)
    clock.advance(seconds=31)  # due, but within the grace (2 min at x60: 2 s)
    assert await guard.check() == []
    clock.advance(seconds=2)
    [late] = await guard.check()
    assert late.due_at == DRILL_T0 + timedelta(seconds=30)
    assert [a.kind for a in board.active()] == ["overdue_update"]
    # outside a drill the same text is read as 10:45 the next day: no alert for hours
    real = Rhythm(minor=None)
    assert next_update_due(incident_, rhythm=real).due_at > DRILL_T0 + timedelta(hours=12)  # type: ignore[union-attr]


async def test_the_team_rhythm_is_compressed_by_the_speed() -> None:
    live = drill_feed("We are investigating.", impact="major")
    rhythm = rhythm_from(
        RhythmSettings(major_minutes=30, grace_minutes=2),
        _drill(speed=60.0),
    )
    assert rhythm.major == timedelta(seconds=30) and rhythm.grace == timedelta(seconds=2)
    clock = FakeClock(DRILL_T0)
    guard = OverdueGuard(live, AlertBoard(), rhythm=rhythm, clock=clock)
    clock.advance(seconds=31)
    assert await guard.check() == []
    clock.advance(seconds=2)
    assert len(await guard.check()) == 1
    # speed 1 or no drill: the rhythm as configured
    assert rhythm_from(RhythmSettings(major_minutes=30)).major == timedelta(minutes=30)


def _drill(*, speed: float) -> DrillSettings:
    return DrillSettings(on=True, speed=speed, origin=RECORDED)


def test_drill_settings_are_read_and_checked(tmp_path: Path) -> None:
    settings = Settings.from_env(
        _env(tmp_path, FARO_DRILL="1", FARO_DRILL_SPEED="60",
             FARO_DRILL_ORIGIN="2026-11-22T10:15:00.000Z")
    )  # fmt: skip
    assert settings.drill.on and settings.drill.speed == 60.0
    assert settings.drill.origin == RECORDED
    with pytest.raises(SettingsError, match="FARO_DRILL_ORIGIN"):
        Settings.from_env(_env(tmp_path, FARO_DRILL_ORIGIN="yesterday"))
    with pytest.raises(SettingsError, match="FARO_DRILL_SPEED"):
        Settings.from_env(_env(tmp_path, FARO_DRILL_SPEED="-5"))


def test_the_console_shows_a_drill_banner_while_a_drill_runs(tmp_path: Path) -> None:
    env = _env(tmp_path, FARO_DRILL="1", FARO_ADMIN_PASSWORD="pw-drill-0123456789")
    services = build_services(Settings.from_env(env), encoder=load_encoder("hashing"))
    with TestClient(create_app(services), base_url="https://testserver") as client:
        token = _CSRF.search(client.get("/admin/login").text)
        assert token
        client.post(
            "/admin/login",
            data={"csrf": token.group(1), "name": "Ana", "password": "pw-drill-0123456789"},
        )
        page = client.get("/admin").text
        assert "DRILL: this is a rehearsal" in page and "marked [DRILL]" in page
    services.store.dispose()
    # the drill is over (same database): the banner went with it
    plain = build_services(Settings.from_env(_env(tmp_path)), encoder=load_encoder("hashing"))
    assert not any(a.kind == "drill" for a in plain.rhythm.board.active())  # type: ignore[union-attr]
    plain.store.dispose()
