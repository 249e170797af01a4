"""The one background loop: steps every interval, outlives a failing step, stops."""

from __future__ import annotations

import asyncio

from bot.periodic import Periodic


async def test_it_runs_on_after_a_failing_step_and_stops() -> None:
    runs: list[int] = []

    async def step() -> None:
        runs.append(len(runs))
        if len(runs) == 2:
            raise RuntimeError("one bad run")

    loop = Periodic(step, interval_s=0.01, name="test-loop")
    await loop.start()
    await asyncio.sleep(0.2)
    await loop.stop()
    done = len(runs)
    assert done >= 4  # went on after the failure
    await asyncio.sleep(0.05)
    assert len(runs) == done  # stopped


async def test_the_first_step_can_wait_one_interval() -> None:
    runs: list[int] = []

    async def step() -> None:
        runs.append(1)

    loop = Periodic(step, interval_s=0.3, name="late", first_after_interval=True)
    await loop.start()
    await asyncio.sleep(0.1)
    assert runs == []
    await asyncio.sleep(0.3)
    await loop.stop()
    assert runs == [1]
