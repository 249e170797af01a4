"""bot.channels.slack.store: Slack event ids claimed once by any process (SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.channels.slack.store import EVENT_MEMORY, SeenEvents, SlackStoreUnavailable
from bot.db import Database
from tests.faq_store.builders import postgres_schema


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        db = Database.open(f"sqlite:///{tmp_path}/app.db")
        yield db.engine
        db.engine.dispose()
        return
    with postgres_schema() as url:
        db = Database.open(url)
        yield db.engine
        db.engine.dispose()


def test_an_event_is_claimed_once_by_any_process(engine: sa.Engine) -> None:
    one, other = SeenEvents(engine), SeenEvents(engine)  # two replicas, or before/after a restart
    assert one.claim("Ev1") is True
    assert one.claim("Ev1") is False and other.claim("Ev1") is False
    assert other.claim("Ev2") is True


def test_replicas_racing_for_one_event_let_exactly_one_win(engine: sa.Engine) -> None:
    replicas = [SeenEvents(engine) for _ in range(6)]
    barrier, wins = threading.Barrier(len(replicas)), []

    def claim(seen: SeenEvents) -> None:
        barrier.wait()
        wins.append(seen.claim("EvRace"))

    threads = [threading.Thread(target=claim, args=(s,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]


def test_a_released_event_can_be_claimed_again(engine: sa.Engine) -> None:
    one, other = SeenEvents(engine), SeenEvents(engine)
    assert one.claim("Ev1")
    one.release("Ev1")
    assert other.claim("Ev1")


def test_ids_past_the_horizon_are_pruned(engine: sa.Engine) -> None:
    clock = Clock()
    seen = SeenEvents(engine, clock=clock)
    assert seen.claim("EvOld")
    clock.now += EVENT_MEMORY + timedelta(seconds=1)
    assert seen.claim("EvNew")
    assert seen.prune() == 1
    assert SeenEvents(engine, clock=clock).claim("EvOld") is True  # forgotten: no retry so late


def test_a_database_failure_is_one_storage_error() -> None:
    db = Database.open("sqlite://")
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE slack_events"))
    with pytest.raises(SlackStoreUnavailable, match="cannot record a Slack event"):
        SeenEvents(db.engine).claim("Ev1")
