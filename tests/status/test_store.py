"""The last known state on disk: atomic writes, survives a restart, tolerates damage."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.status.live import LiveStatus
from bot.status.poller import StatusPoller
from bot.status.statuspage import loads
from bot.status.store import SavedState, StateStore
from tests.helpers.status_builders import SAMPLE_FEED, FakeClock, FakeSource


def test_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state" / "status.json")
    assert store.load() is None
    snap = loads(SAMPLE_FEED.read_bytes())
    clock = FakeClock()
    store.save(SavedState(snapshot=snap, confirmed_at=clock.now))
    saved = store.load()
    assert saved is not None and saved.snapshot == snap and saved.confirmed_at == clock.now
    assert [p.name for p in store.path.parent.iterdir()] == ["status.json"]  # no temp files left


async def test_restart_serves_the_last_state_at_once(tmp_path: Path) -> None:
    clock = FakeClock()
    store = StateStore(tmp_path / "status.json")
    first = LiveStatus(store=store, clock=clock)
    await StatusPoller(FakeSource(loads(SAMPLE_FEED.read_bytes())), first).poll_once()
    clock.advance(minutes=20)
    # A new process: nothing polled yet, the feed is down.
    second = LiveStatus(store=StateStore(tmp_path / "status.json"), clock=clock)
    assert second.restore()
    assert second.snapshot == first.snapshot
    assert second.age() is not None and second.age().total_seconds() == 20 * 60  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "content",
    ["{broken", '{"version": 99}', '{"version": 1, "snapshot": {"incidents": [{}]}}', "[]"],
)
def test_damaged_state_starts_empty_with_one_line(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    path = tmp_path / "status.json"
    path.write_text(content, encoding="utf-8")
    assert StateStore(path).load() is None
    assert len(caplog.records) == 1 and "unreadable" in caplog.records[0].getMessage()
    assert not LiveStatus(store=StateStore(path)).restore()


def test_unwritable_directory_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    store = StateStore(blocker / "status.json")
    store.save(SavedState(snapshot=loads(SAMPLE_FEED.read_bytes()), confirmed_at=None))
    assert "cannot save" in caplog.text


def test_confirmations_are_saved_at_most_once_a_minute(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "status.json"
    live = LiveStatus(store=StateStore(path), clock=clock)
    live.accept(loads(SAMPLE_FEED.read_bytes()))
    accepted = clock.now
    clock.advance(seconds=20)
    live.confirm()  # too soon after the last save: memory only
    saved = StateStore(path).load()
    assert saved is not None and saved.confirmed_at == accepted
    assert live.confirmed_at == clock.now
    clock.advance(minutes=2)
    live.confirm()
    later = StateStore(path).load()
    assert later is not None and later.confirmed_at == clock.now
