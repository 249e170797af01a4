"""Early warning from questions: a topic asked about far above its usual rate.

For each topic (a status-page component the question names, or a tag of the
FAQ entry that answered it) the detector keeps the times of recent questions.
At each check it compares the count ``k`` in the last ``window`` with the
count expected from the topic's baseline rate (the ``baseline`` before the
window, never less than ``floor_per_min``): ``mu = rate * window``. It fires
when all three hold:

- ``k >= min_count`` (a handful of questions is never a surge),
- ``k >= min_ratio * mu`` (well above usual, not just unusual),
- the Poisson upper tail ``P(X >= k | mu) <= p_value`` (not a chance burst).

After a start the detector first needs ``warmup`` of history; until
``baseline`` has passed, the baseline is the history there is.

A topic the caller says is already known (its component is marked down, or an
open incident touches it) never fires: the status page already says so.
See docs/early-warning.md for the reasoning behind the defaults.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """The detector's thresholds."""

    window: timedelta = timedelta(minutes=2)
    baseline: timedelta = timedelta(minutes=60)
    min_count: int = 20
    min_ratio: float = 3.0
    p_value: float = 1e-6
    floor_per_min: float = 0.2  # a topic never asked about still "usually" gets this many
    warmup: timedelta = timedelta(minutes=10)  # history needed before any baseline is trusted


@dataclass(frozen=True, slots=True)
class Surge:
    """A topic asked about far above its usual rate."""

    topic: str
    count: int  # questions in the window
    expected: float  # from the baseline, for the same window
    rate_per_min: float
    baseline_per_min: float
    p_value: float
    samples: tuple[str, ...]
    at: datetime

    @property
    def ratio(self) -> float:
        """How many times the usual rate."""
        return self.count / self.expected if self.expected else math.inf


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), summed from k upwards in log space (k > mu)."""
    if k <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    if k <= mu:
        return 1.0  # not above the mean: never a surge, no need to be exact
    term = math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1))
    total, i = term, k
    while term > total * 1e-12:
        i += 1
        term *= mu / i
        total += term
    return min(total, 1.0)


class SurgeDetector:
    """Counts questions per topic and reports topics surging now."""

    def __init__(self, rule: SurgeRule | None = None) -> None:
        self.rule = rule or SurgeRule()
        self._times: dict[str, deque[datetime]] = {}
        self._samples: dict[str, deque[str]] = {}
        self._last_asked: dict[tuple[str, str], datetime] = {}
        self._since: datetime | None = None  # the first question seen: how much history exists

    def record(self, topics: Iterable[str], text: str, at: datetime, *, who: str = "") -> None:
        """One question about ``topics`` by ``who`` (sample text kept for staff, never logged).

        A conversation asking again about a topic within the window counts once: one
        frustrated customer repeating themselves is not a surge.
        """
        if len(self._last_asked) > 100_000:
            cutoff = at - self.rule.window
            self._last_asked = {k: v for k, v in self._last_asked.items() if v > cutoff}
        if self._since is None or at < self._since:
            self._since = at
        for topic in dict.fromkeys(topics):
            if who:
                last = self._last_asked.get((topic, who))
                if last is not None and at - last < self.rule.window:
                    continue
                self._last_asked[(topic, who)] = at
            self._times.setdefault(topic, deque()).append(at)
            self._samples.setdefault(topic, deque(maxlen=MAX_SAMPLES)).append(text[:200])

    def check(
        self, now: datetime, *, known: Callable[[str], bool] = lambda _t: False
    ) -> list[Surge]:
        """Topics surging at ``now`` that ``known`` does not say are already on the page."""
        rule = self.rule
        window_start = now - rule.window
        horizon = window_start - rule.baseline
        if self._since is None or window_start - self._since < rule.warmup:
            return []  # too little history to know what is usual
        # the baseline is the history there is, up to ``rule.baseline``
        span = min(window_start - max(self._since, horizon), rule.baseline)
        surges = []
        for topic, times in self._times.items():
            while times and times[0] < horizon:
                times.popleft()
            recent = sum(1 for t in times if window_start < t <= now)
            if recent < rule.min_count:
                continue
            before = len(times) - recent - sum(1 for t in times if t > now)
            baseline_per_min = max(before / _minutes(span), rule.floor_per_min)
            expected = baseline_per_min * _minutes(rule.window)
            if recent < rule.min_ratio * expected:
                continue
            p = poisson_tail(recent, expected)
            if p > rule.p_value or known(topic):
                continue
            surges.append(
                Surge(
                    topic=topic,
                    count=recent,
                    expected=expected,
                    rate_per_min=recent / _minutes(rule.window),
                    baseline_per_min=baseline_per_min,
                    p_value=p,
                    samples=tuple(self._samples.get(topic, ())),
                    at=now,
                )
            )
        return sorted(surges, key=lambda s: s.p_value)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60
