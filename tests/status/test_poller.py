"""The poller: bad feeds keep the last good state, one log line each; backoff with jitter."""

from __future__ import annotations

import asyncio
import json
import logging
import random

import httpx
import pytest

from bot.status.errors import FeedFormatError, FeedUnavailable
from bot.status.live import LiveStatus
from bot.status.poller import StatusPoller, describe_age
from bot.status.sources import StatuspageSource
from tests.helpers.status_builders import (
    T0,
    FakeClock,
    FakeSource,
    incident,
    snapshot,
    summary,
    update,
)

GOOD = summary(incidents=[incident(update("identified", "Found it", T0))], indicator="major")


def serving(responses: list[httpx.Response | Exception]) -> httpx.AsyncClient:
    """A client whose Statuspage answers with ``responses`` in turn (the last one repeats)."""

    def handler(request: httpx.Request) -> httpx.Response:
        item = responses.pop(0) if len(responses) > 1 else responses[0]
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def ok() -> httpx.Response:
    return httpx.Response(200, json=GOOD)


BAD_FEEDS: dict[str, httpx.Response | Exception] = {
    "timeout": httpx.ReadTimeout("timed out"),
    "500": httpx.Response(500, text="Internal Server Error"),
    "html": httpx.Response(
        200,
        text="<html><body>We'll be back</body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    ),
    "html-as-json": httpx.Response(
        200, text="<!DOCTYPE html><html></html>", headers={"Content-Type": "application/json"}
    ),
    "truncated": httpx.Response(
        200, text=json.dumps(GOOD)[:57], headers={"Content-Type": "application/json"}
    ),
    "refused": httpx.ConnectError("[Errno 111] Connection refused"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FEEDS))
async def test_bad_feed_keeps_last_good_state_and_logs_one_line(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    live = LiveStatus(clock=clock)
    source = StatuspageSource(
        "https://status.example/api/v2/summary.json",
        client=serving([ok(), BAD_FEEDS[kind]]),
        timeout=3,
    )
    poller = StatusPoller(source, live, interval=30, rng=random.Random(1))
    assert await poller.poll_once()
    good, confirmed = live.snapshot, live.confirmed_at
    clock.advance(minutes=6)
    caplog.clear()
    caplog.set_level(logging.WARNING)
    assert not await poller.poll_once()
    assert live.snapshot is good and live.confirmed_at == confirmed
    assert live.last_error and "summary.json" in live.last_error
    (record,) = caplog.records
    line = record.getMessage()
    assert "\n" not in line and record.exc_info is None
    assert "status feed" in line and "serving the state confirmed 6 min ago" in line
    assert "next try in" in line


async def test_unknown_enums_do_not_stop_answers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    odd = summary(incidents=[incident(update("escalated_zz", "Hmm", T0))], indicator="orange_zz")
    live = LiveStatus(clock=FakeClock())
    source = StatuspageSource(
        "https://s.example/api/v2/summary.json", client=serving([httpx.Response(200, json=odd)])
    )
    assert await StatusPoller(source, live).poll_once()
    assert live.snapshot is not None and live.snapshot.open_incidents()[0].updates[0].body == "Hmm"
    assert len(caplog.records) == 2 and all("unknown" in r.getMessage() for r in caplog.records)


async def test_not_modified_confirms_the_state() -> None:
    clock = FakeClock()
    live = LiveStatus(clock=clock)
    source = FakeSource(snapshot(GOOD), None)
    poller = StatusPoller(source, live, interval=30)
    await poller.poll_once()
    first = live.snapshot
    clock.advance(minutes=1)
    await poller.poll_once()
    assert live.snapshot is first and live.confirmed_at == clock.now


async def test_no_state_yet_says_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    poller = StatusPoller(FakeSource(FeedUnavailable("x: HTTP 502")), LiveStatus(clock=FakeClock()))
    assert not await poller.poll_once()
    assert "no state to serve yet" in caplog.records[0].getMessage()


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    poller = StatusPoller(
        FakeSource(None),
        LiveStatus(),
        interval=10,
        max_backoff=300,
        jitter=0.5,
        rng=random.Random(7),
    )
    assert poller.next_delay() == 10
    delays = []
    for failures in range(1, 12):
        poller.failures = failures
        ceiling = min(300, 10 * 2 ** (failures - 1))
        samples = [poller.next_delay() for _ in range(50)]
        assert all(ceiling * 0.5 <= d <= ceiling for d in samples)
        assert len(set(samples)) > 1  # jittered
        delays.append(max(samples))
    assert delays[:5] == sorted(delays[:5])
    assert max(delays) <= 300 and delays[-1] > 150
    poller.failures = 10_000
    assert poller.next_delay() <= 300


async def test_success_resets_the_backoff() -> None:
    poller = StatusPoller(
        FakeSource(FeedUnavailable("down"), FeedUnavailable("down"), snapshot(GOOD)),
        LiveStatus(),
        interval=5,
    )
    await poller.poll_once()
    await poller.poll_once()
    assert poller.failures == 2 and poller.next_delay() > 5
    assert await poller.poll_once()
    assert poller.failures == 0 and poller.next_delay() == 5


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        StatusPoller(FakeSource(None), LiveStatus(), interval=0)
    with pytest.raises(ValueError):
        StatusPoller(FakeSource(None), LiveStatus(), interval=60, max_backoff=30)


async def test_run_loop_survives_bugs_and_stops_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    slept: list[float] = []
    done = asyncio.Event()

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) >= 4:
            done.set()
        await asyncio.sleep(0)

    source = FakeSource(
        RuntimeError("parser bug"), FeedFormatError("x: invalid JSON"), snapshot(GOOD)
    )
    live = LiveStatus()
    poller = StatusPoller(
        source, live, interval=1, max_backoff=8, rng=random.Random(3), sleep=fake_sleep
    )
    poller.start()
    await asyncio.wait_for(done.wait(), 5)
    await poller.stop()
    assert source.closed and live.snapshot is not None
    assert slept[0] >= 0.5 and slept[1] >= 1 and slept[-1] == 1  # backoff, then the interval
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


def test_describe_age() -> None:
    from datetime import timedelta

    assert describe_age(timedelta(seconds=42)) == "42s"
    assert describe_age(timedelta(minutes=6, seconds=59)) == "6 min"
    assert describe_age(timedelta(hours=2, minutes=5)) == "2 h 5 min"
