"""The early-warning detector on replayed traffic with a controllable clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.rhythm.detector import SurgeDetector, SurgeRule, poisson_tail

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CHECK_EVERY = timedelta(seconds=10)
TOPICS = {"Card payments": 1.0, "Transfers": 0.5, "tag:security": 2.0, "Mobile app": 4.0}


def normal_traffic(rng: random.Random, *, hours: float) -> list[tuple[datetime, str, str]]:
    """Poisson arrivals per topic at its usual rate, plus random bursts of 3-6 questions."""
    events = []
    end = T0 + timedelta(hours=hours)
    for topic, per_min in TOPICS.items():
        t = T0
        while True:
            t += timedelta(minutes=rng.expovariate(per_min))
            if t >= end:
                break
            events.append((t, topic, f"{topic} question"))
        # a burst every ~20 minutes: a few people at once after a tweet, a shared link
        for _ in range(int(hours * 3)):
            start = T0 + timedelta(minutes=rng.uniform(0, hours * 60))
            for _ in range(rng.randint(3, 6)):
                at = start + timedelta(seconds=rng.uniform(0, 30))
                events.append((at, topic, f"{topic} burst"))
    return sorted(events)


def replay(
    detector: SurgeDetector,
    events: list[tuple[datetime, str, str]],
    *,
    until: datetime,
    known: frozenset[str] = frozenset(),
) -> list[tuple[datetime, str]]:
    """Feed ``events`` in time order, checking every 10 s as the app does; (when, topic) fired."""
    fired: list[tuple[datetime, str]] = []
    now, i, asker = T0, 0, 0
    while now <= until:
        while i < len(events) and events[i][0] <= now:
            at, topic, text = events[i]
            asker += 1
            detector.record([topic], text, at, who=f"web:{asker}")
            i += 1
        for surge in detector.check(now, known=lambda t: t in known):
            fired.append((now, surge.topic))
        now += CHECK_EVERY
    return fired


@pytest.mark.parametrize("seed", range(30))
def test_normal_traffic_with_random_bursts_stays_quiet(seed: int) -> None:
    rng = random.Random(seed)
    events = normal_traffic(rng, hours=3)
    assert replay(SurgeDetector(), events, until=T0 + timedelta(hours=3)) == []


def surge(
    rng: random.Random, topic: str, *, start: datetime, per_min: float, minutes: float
) -> list[tuple[datetime, str, str]]:
    events: list[tuple[datetime, str, str]] = []
    t = start
    while True:
        t += timedelta(minutes=rng.expovariate(per_min))
        if t >= start + timedelta(minutes=minutes):
            return events
        events.append((t, topic, "my card was declined at the shop"))


@pytest.mark.parametrize("seed", range(5))
def test_a_simulated_surge_fires_within_two_minutes(seed: int) -> None:
    rng = random.Random(seed)
    start = T0 + timedelta(hours=2)
    events = sorted(
        normal_traffic(rng, hours=2.5)
        + surge(rng, "Card payments", start=start, per_min=15, minutes=20)
    )
    fired = replay(SurgeDetector(), events, until=start + timedelta(minutes=10))
    assert fired, "the surge was not noticed"
    first_at, topic = fired[0]
    assert topic == "Card payments"
    assert first_at - start <= timedelta(minutes=2)
    assert {t for _, t in fired} == {"Card payments"}  # the other topics stay quiet


def test_the_alert_carries_count_rate_baseline_and_samples() -> None:
    detector = SurgeDetector()
    for minute in range(60):  # one question a minute for an hour
        detector.record(["Card payments"], "usual", T0 + timedelta(minutes=minute))
    now = T0 + timedelta(minutes=62)
    for second in range(0, 120, 4):  # 30 in the last two minutes
        detector.record(
            ["Card payments"], f"card declined {second}", now - timedelta(seconds=second)
        )
    [found] = detector.check(now)
    assert found.count == 30
    assert found.baseline_per_min == pytest.approx(1.0, rel=0.05)
    assert found.rate_per_min == pytest.approx(15.0)
    assert found.ratio == pytest.approx(15.0, rel=0.05)
    assert found.p_value < 1e-6
    assert len(found.samples) == 5 and all("declined" in s for s in found.samples)


def test_a_component_already_marked_degraded_stays_quiet() -> None:
    rng = random.Random(1)
    start = T0 + timedelta(hours=2)
    events = sorted(
        normal_traffic(rng, hours=2.5)
        + surge(rng, "Card payments", start=start, per_min=15, minutes=20)
    )
    fired = replay(
        SurgeDetector(),
        events,
        until=start + timedelta(minutes=10),
        known=frozenset({"Card payments"}),
    )
    assert fired == []


def warm() -> SurgeDetector:
    """A detector that has seen questions since an hour before T0 (none on the topics here)."""
    detector = SurgeDetector()
    detector.record(["Opening hours"], "when do you open?", T0 - timedelta(hours=1))
    return detector


def test_nothing_fires_before_the_warmup_has_history() -> None:
    detector = SurgeDetector()
    for i in range(50):
        detector.record(["ATMs"], "atm?", T0 + timedelta(seconds=i), who=f"w{i}")
    assert detector.check(T0 + timedelta(minutes=1)) == []
    assert detector.check(T0 + timedelta(minutes=12, seconds=30)) == []  # the 50 are the baseline


def test_one_conversation_repeating_itself_is_not_a_surge() -> None:
    detector = warm()
    for second in range(0, 60, 2):
        detector.record(["Card payments"], "hello??", T0 + timedelta(seconds=second), who="web:1")
    assert detector.check(T0 + timedelta(seconds=60)) == []


def test_a_small_count_never_fires_even_on_a_silent_topic() -> None:
    detector = SurgeDetector(SurgeRule(min_count=10, p_value=1e-4))
    detector.record(["Opening hours"], "when do you open?", T0 - timedelta(hours=1))
    for i in range(9):
        detector.record(["ATMs"], "atm?", T0 + timedelta(seconds=i), who=f"w{i}")
    assert detector.check(T0 + timedelta(seconds=30)) == []
    detector.record(["ATMs"], "atm?", T0 + timedelta(seconds=20), who="w10")
    assert [s.topic for s in detector.check(T0 + timedelta(seconds=30))] == ["ATMs"]


@pytest.mark.parametrize(
    ("k", "mu", "expected"), [(10, 2.0, 4.6498e-5), (3, 1.0, 0.080301), (1, 0.5, 0.393469)]
)
def test_poisson_tail(k: int, mu: float, expected: float) -> None:
    assert poisson_tail(k, mu) == pytest.approx(expected, rel=1e-3)
