"""The early-warning thresholds on replayed traffic: false-alarm runs and alert delay per setting.

Run from the project folder: ``PYTHONPATH=. .venv/bin/python bench/surge_grid.py``
(the figures in docs/crisis-rhythm.md). Traffic and replay are the tests' own
(tests/rhythm/test_detector.py): 3 h of normal traffic with random bursts, and a
surge of 15 questions/min on one topic.
"""

from __future__ import annotations

import random
from datetime import timedelta

from bot.rhythm.detector import SurgeDetector, SurgeRule
from tests.rhythm.test_detector import T0, normal_traffic, replay, surge

SEEDS_QUIET, SEEDS_SURGE = 30, 10


def main() -> None:
    """Print one line per (min_count, p_value)."""
    for min_count in (12, 15, 20):
        for p_value in (1e-4, 1e-6):
            rule = SurgeRule(min_count=min_count, p_value=p_value)
            false_alarms = 0
            for seed in range(SEEDS_QUIET):
                events = normal_traffic(random.Random(seed), hours=3)
                if replay(SurgeDetector(rule), events, until=T0 + timedelta(hours=3)):
                    false_alarms += 1
            delays: list[float | None] = []
            for seed in range(SEEDS_SURGE):
                rng = random.Random(seed)
                start = T0 + timedelta(hours=2)
                events = sorted(
                    normal_traffic(rng, hours=2.5)
                    + surge(rng, "Card payments", start=start, per_min=15, minutes=20)
                )
                fired = replay(SurgeDetector(rule), events, until=start + timedelta(minutes=10))
                times = [at for at, topic in fired if topic == "Card payments"]
                delays.append((times[0] - start).total_seconds() if times else None)
            print(
                f"min_count={min_count} p={p_value:g}: false-alarm runs "
                f"{false_alarms}/{SEEDS_QUIET}; surge alert after (s) {delays}"
            )


if __name__ == "__main__":
    main()
