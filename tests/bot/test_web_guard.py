"""bot.channels.web_guard: token buckets and the Origin policy."""

from __future__ import annotations

import pytest

from bot.channels.web_guard import OriginPolicy, RateLimiter, WebGuard, normalize_origin


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_of_a_minute_then_refills_evenly() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)  # 6 per minute: one token every 10 s
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == pytest.approx(10.0)
    clock.now += 5
    assert limiter.take("a") == pytest.approx(5.0)  # a refused take spends nothing
    clock.now += 5
    assert limiter.take("a") == 0.0
    assert limiter.take("b") == 0.0  # keys are independent


def test_bucket_never_holds_more_than_its_capacity() -> None:
    clock = Clock()
    limiter = RateLimiter(3, clock=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") == 0.0 for _ in range(4)] == [True, True, True, False]


def test_pruning_bounds_memory_without_forgetting_busy_keys() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock, max_keys=10)
    limiter.take("busy")
    limiter.take("busy")
    for i in range(30):
        clock.now += 0.001
        limiter.take(f"k{i}")
    assert len(limiter._buckets) <= 10
    assert limiter.take("busy") > 0  # still limited


def test_rate_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)


def test_guard_refusal_says_how_long_to_wait() -> None:
    guard = WebGuard(session_per_minute=1, ip_per_minute=1)
    assert guard.check_session("s") is None
    refusal = guard.check_session("s")
    assert refusal is not None and refusal.status == 429
    assert refusal.retry_after == 60
    assert refusal.message == "too many messages: please wait 60 s and try again"
    assert guard.check_ip("1.2.3.4") is None and guard.check_ip("1.2.3.4") is not None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("https://Example.COM/", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://example.com:8080", "http://example.com:8080"),
    ],
)
def test_normalize_origin(raw: str, normal: str) -> None:
    assert normalize_origin(raw) == normal


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser, or a same-origin GET
        ("http://app.example:8000", True),  # the app's own origin
        # loopback pages are no longer special (issue 19)
        ("http://localhost", False),
        ("https://localhost:8443", False),
        ("http://[::1]:3000", False),
        ("http://127.0.0.1.evil.example", False),
        ("http://localhost.evil.example", False),
        ("null", False),
        ("ftp://localhost", False),
        ("https://evil.example", False),
    ],
)
def test_default_policy(origin: str | None, allowed: bool) -> None:
    assert OriginPolicy().allows(origin, own="http://app.example:8000") is allowed
