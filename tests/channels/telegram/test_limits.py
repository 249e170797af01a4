"""bot.channels.telegram.limits: slots per chat and overall, pauses, with a test clock."""

from __future__ import annotations

import itertools

import pytest

from bot.channels.telegram.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_one_chat_gets_one_slot_per_second_in_call_order() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    slots = [limiter.reserve(7) for _ in range(5)]
    assert slots == sorted(slots)
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(slots))
    assert slots[0] == clock.now  # the first one goes at once


def test_groups_get_one_slot_per_three_seconds() -> None:
    limiter = RateLimiter(clock=Clock())
    slots = [limiter.reserve(-100) for _ in range(4)]
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(slots))


def test_many_chats_stay_under_thirty_per_second() -> None:
    limiter = RateLimiter(clock=Clock())
    slots = [limiter.reserve(chat) for chat in range(1, 301) for _ in range(2)]
    assert max_in_window(slots) <= 30
    assert max(slots) - min(slots) < 600 / 30 * 1.15  # and not much slower than allowed


def test_a_waiting_chat_does_not_hold_up_other_chats() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.reserve(1)
    later = limiter.reserve(1)  # chat 1's second message waits a second
    other = limiter.reserve(2)
    assert later >= clock.now + 1.0
    assert other < clock.now + 0.1


def test_pause_holds_every_chat() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.pause(5)
    assert min(limiter.reserve(chat) for chat in range(10)) >= clock.now + 5


async def test_acquire_waits_out_a_pause() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    await limiter.acquire(1)
    start = clock.now
    limiter.pause(3)
    await limiter.acquire(2)
    assert clock.now >= start + 3


async def test_a_pause_that_starts_while_waiting_is_honoured() -> None:
    clock = Clock()
    paused: list[float] = []

    async def sleep(seconds: float) -> None:
        clock.now += seconds
        if not paused:  # a 429 arrives for another send while this one waits
            paused.append(clock.now)
            limiter.pause(4)

    limiter = RateLimiter(clock=clock, sleep=sleep)
    limiter.reserve(1)
    await limiter.acquire(1)  # waits 1 s for its slot, then the pause begins
    assert clock.now >= paused[0] + 4


@pytest.mark.parametrize("bad", [{"per_second": 0}, {"chat_interval_s": -1}])
def test_nonsense_limits_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(**bad)  # type: ignore[arg-type]
