"""bot.admin.sessions: server-side admin sessions and the sign-in throttle (fake clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.admin.sessions import AdminSessions, SignInThrottle
from bot.db import Database
from tests.faq_store.builders import postgres_schema


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        db = Database.open("sqlite://")
        yield db.engine
        db.engine.dispose()
        return
    with postgres_schema() as url:
        db = Database.open(url)
        yield db.engine
        db.engine.dispose()


def test_a_session_lives_until_revoked_or_expired(engine: sa.Engine) -> None:
    clock = Clock()
    sessions = AdminSessions(engine, clock=clock)
    sessions.start("nonce-1", user="Ana", lifetime=timedelta(hours=8))
    assert sessions.alive("nonce-1") and not sessions.alive("nonce-2")
    sessions.revoke("nonce-1")
    assert not sessions.alive("nonce-1")
    sessions.start("nonce-3", user="Ana", lifetime=timedelta(hours=8))
    clock.now += timedelta(hours=8, seconds=1)
    assert not sessions.alive("nonce-3")
    assert sessions.prune() == 1


def test_the_delay_grows_with_each_failure_and_a_success_clears_it(engine: sa.Engine) -> None:
    clock = Clock()
    throttle = SignInThrottle(engine, clock=clock)
    keys = ("account:ana",)
    waits = []
    for _ in range(6):
        assert throttle.wait_s(keys) == 0
        throttle.failed(keys)
        waits.append(throttle.wait_s(keys))
        clock.now += timedelta(seconds=waits[-1])
    assert waits == [0, 0, 1, 2, 4, 8]
    throttle.succeeded(keys)
    throttle.failed(keys)
    assert throttle.wait_s(keys) == 0


def test_the_delay_is_capped_and_old_failures_are_forgotten(engine: sa.Engine) -> None:
    clock = Clock()
    throttle = SignInThrottle(engine, clock=clock)
    keys = ("address:203.0.113.9",)
    for _ in range(40):
        throttle.failed(keys)
    assert throttle.wait_s(keys) == 15 * 60
    clock.now += timedelta(hours=2)
    assert throttle.wait_s(keys) == 0
    throttle.failed(keys)
    assert throttle.wait_s(keys) == 0  # counted from zero again
    assert throttle.prune() == 0
