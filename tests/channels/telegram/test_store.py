"""bot.channels.telegram.store: update ids and long payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.telegram import callbacks
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
