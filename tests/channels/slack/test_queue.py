"""bot.channels.slack.queue: order per conversation, isolation of failures, capacity, stop."""

from __future__ import annotations

import asyncio

from bot.channels.slack.queue import Job, TurnQueue


async def test_jobs_of_one_conversation_run_in_order_others_in_parallel() -> None:
    queue = TurnQueue(workers=3)
    await queue.start()
    log: list[str] = []

    def job(name: str, delay: float) -> Job:
        async def run() -> None:
            log.append(f"start {name}")
            await asyncio.sleep(delay)
            log.append(f"end {name}")

        return run

    assert queue.submit("a", job("a1", 0.2))
    assert queue.submit("a", job("a2", 0.0))
    assert queue.submit("b", job("b1", 0.0))
    await queue.join()
    await queue.stop()
    assert log.index("end a1") < log.index("start a2")  # same conversation: in order
    assert log.index("end b1") < log.index("end a1")  # another one did not wait


async def test_a_failing_job_does_not_stop_the_worker() -> None:
    queue = TurnQueue(workers=1)
    await queue.start()
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.append(1)

    queue.submit("a", boom)
    queue.submit("a", ok)
    await queue.join()
    await queue.stop()
    assert done == [1]


async def test_a_full_queue_refuses_and_stop_finishes_queued_work() -> None:
    queue = TurnQueue(workers=1, capacity=1, stop_grace_s=2)
    done: list[str] = []

    async def ok() -> None:
        done.append("x")

    assert queue.submit("a", ok)
    assert not queue.submit("b", ok)  # no worker yet, one slot
    await queue.start()
    await queue.stop()
    assert done == ["x"]
