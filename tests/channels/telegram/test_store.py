"""bot.channels.telegram.store and dispatcher: update ids, long payloads, per-chat order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.channels.telegram import callbacks
from bot.channels.telegram.dispatcher import ChatDispatcher
from bot.channels.telegram.store import StoreUnavailable, TelegramStore
from bot.db import Database, StorageError


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state' / 'faro.db'}"


def test_an_update_is_claimed_once_across_processes(url: str) -> None:
    first, second = (
        TelegramStore(Database.open(url).engine),
        TelegramStore(Database.open(url).engine),
    )
    assert first.claim_update(1) is True
    assert first.claim_update(1) is False
    assert second.claim_update(1) is False  # another replica, or after a restart
    assert second.claim_update(2) is True


def test_a_released_update_can_be_claimed_again(url: str) -> None:
    store = TelegramStore(Database.open(url).engine)
    assert store.claim_update(5)
    store.release_update(5)
    assert TelegramStore(Database.open(url).engine).claim_update(5)


def test_long_payloads_survive_a_restart(url: str) -> None:
    payload = '/choose_faq{"faq_id":"' + "x" * 80 + '"}'
    key = callbacks.key_for(payload)
    TelegramStore(Database.open(url).engine).save_payload(key, payload)
    TelegramStore(Database.open(url).engine).save_payload(key, payload)  # idempotent
    assert TelegramStore(Database.open(url).engine).load_payload(key) == payload
    assert TelegramStore(Database.open(url).engine).load_payload("#unknown") is None


def test_an_unusable_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open the app database"):
        Database.open(f"sqlite:///{tmp_path / 'file' / 'x.db'}")
    assert issubclass(StoreUnavailable, StorageError)


async def test_dispatcher_keeps_each_chats_order_and_runs_chats_in_parallel() -> None:
    done: list[tuple[str, int]] = []
    running: set[str] = set()
    overlap: list[bool] = []

    async def work(item: tuple[str, int]) -> None:
        chat, _ = item
        assert chat not in running  # one at a time per chat
        running.add(chat)
        overlap.append(len(running) > 1)
        await asyncio.sleep(0.01)
        running.discard(chat)
        done.append(item)

    dispatcher: ChatDispatcher[tuple[str, int]] = ChatDispatcher(work)
    for i in range(5):
        for chat in ("a", "b"):
            assert dispatcher.submit(chat, (chat, i))
    await dispatcher.join()
    for chat in ("a", "b"):
        assert [i for c, i in done if c == chat] == list(range(5))
    assert any(overlap)
    assert dispatcher.pending == 0


async def test_dispatcher_is_bounded_and_survives_a_failing_item() -> None:
    seen: list[int] = []

    async def work(item: int) -> None:
        seen.append(item)
        if item == 1:
            raise RuntimeError("boom")

    dispatcher: ChatDispatcher[int] = ChatDispatcher(work, max_pending=2)
    assert dispatcher.submit("c", 1) and dispatcher.submit("c", 2)
    assert not dispatcher.submit("c", 3)  # full
    await dispatcher.join()
    assert seen == [1, 2] and dispatcher.pending == 0
    await dispatcher.stop()
    assert not dispatcher.submit("c", 4)  # stopped
