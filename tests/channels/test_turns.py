"""bot.channels.turns: order per conversation, parallel across them, bounds, failures, stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.channels.turns import Job, TurnDispatcher


def recorder(log: list[str], name: str, delay: float = 0.0) -> Job:
    async def run() -> None:
        log.append(f"start {name}")
        await asyncio.sleep(delay)
        log.append(f"end {name}")

    return run


async def test_one_conversation_runs_in_order_others_in_parallel() -> None:
    turns = TurnDispatcher(name="test")
    log: list[str] = []
    assert turns.submit("a", recorder(log, "a1", 0.2))
    assert turns.submit("a", recorder(log, "a2"))
    assert turns.submit("b", recorder(log, "b1"))
    await turns.join()
    assert log.index("end a1") < log.index("start a2")  # same conversation: in order
    assert log.index("end b1") < log.index("end a1")  # another one did not wait
    assert turns.pending == 0


async def test_many_turns_keep_each_conversations_order_and_never_overlap_in_one() -> None:
    done: list[tuple[str, int]] = []
    running: set[str] = set()
    overlap: list[bool] = []

    def job(chat: str, i: int) -> Job:
        async def run() -> None:
            assert chat not in running  # one at a time per conversation
            running.add(chat)
            overlap.append(len(running) > 1)
            await asyncio.sleep(0.01)
            running.discard(chat)
            done.append((chat, i))

        return run

    turns = TurnDispatcher(name="test")
    for i in range(5):
        for chat in ("a", "b"):
            assert turns.submit(chat, job(chat, i))
    await turns.join()
    for chat in ("a", "b"):
        assert [i for c, i in done if c == chat] == list(range(5))
    assert any(overlap)


async def test_concurrency_is_bounded_across_conversations() -> None:
    running, peak = 0, 0

    async def run() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    turns = TurnDispatcher(name="test", concurrency=3)
    for key in range(10):
        assert turns.submit(key, run)
    await turns.join()
    assert peak == 3


async def test_a_busy_conversation_does_not_hold_the_only_slot() -> None:
    # slots are taken per turn, so another conversation gets in between a's turns
    turns = TurnDispatcher(name="test", concurrency=1)
    log: list[str] = []
    for i in range(3):
        assert turns.submit("a", recorder(log, f"a{i}", 0.01))
    await asyncio.sleep(0.001)  # a0 is running
    assert turns.submit("b", recorder(log, "b0"))
    await turns.join()
    assert log.index("end b0") < log.index("end a2")


async def test_a_failing_turn_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    turns = TurnDispatcher(name="test")
    done: list[int] = []

    async def boom() -> None:
        raise RuntimeError("boom")

    async def ok() -> None:
        done.append(1)

    assert turns.submit("a", boom) and turns.submit("a", ok)
    await turns.join()
    assert done == [1] and turns.pending == 0
    assert "a turn failed" in caplog.text and "boom" in caplog.text


async def test_the_backlog_is_bounded_in_all_and_per_conversation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    turns = TurnDispatcher(name="test", max_pending=4, max_per_key=2)
    assert turns.submit("a", blocked) and turns.submit("a", blocked)
    assert not turns.submit("a", blocked)  # a has two waiting
    assert "one conversation has 2 turns waiting" in caplog.text
    assert turns.submit("b", blocked) and turns.submit("c", blocked)
    assert not turns.submit("d", blocked)  # four in all
    assert "backlog full (4 turns)" in caplog.text
    assert turns.pending == 4
    gate.set()
    await turns.join()
    assert turns.pending == 0
    assert turns.submit("a", blocked)  # room again
    await turns.join()


async def test_idle_conversations_are_forgotten() -> None:
    turns = TurnDispatcher(name="test")
    for key in range(100):
        assert turns.submit(key, recorder([], str(key)))
    assert turns.active_keys == 100
    await turns.join()
    assert turns.active_keys == 0


async def test_stop_finishes_queued_turns_and_refuses_new_ones() -> None:
    turns = TurnDispatcher(name="test", stop_grace_s=2)
    log: list[str] = []
    assert turns.submit("a", recorder(log, "a1", 0.05))
    assert turns.submit("a", recorder(log, "a2"))
    await turns.stop()
    assert log == ["start a1", "end a1", "start a2", "end a2"]
    assert not turns.submit("a", recorder(log, "late"))  # stopped
    await turns.start()
    assert turns.submit("a", recorder(log, "again"))  # started again
    await turns.join()
    assert log[-1] == "end again"


async def test_stop_cancels_what_outlives_the_grace_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    turns = TurnDispatcher(name="test", stop_grace_s=0.05)
    log: list[str] = []
    assert turns.submit("a", recorder(log, "a1", 60))
    assert turns.submit("a", recorder(log, "a2"))
    await turns.stop()
    assert log == ["start a1"]  # a1 cancelled, a2 never started
    assert turns.pending == 0 and turns.active_keys == 0
    assert "stopped with 2 turns unfinished" in caplog.text


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TurnDispatcher(name="test", concurrency=0)
