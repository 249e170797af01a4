"""Hypothesis budgets for the property-based tests of the untrusted-input parsers.

Each test runs 150 examples (the ``ci`` profile, loaded by default) with no
per-example deadline: a few seconds per parser on a slow machine. For a longer
local run: ``pytest tests/fuzz --hypothesis-profile=deep`` (2000 examples each).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=_SLOW_OK)
settings.load_profile("ci")
