"""bot.store.AppStore on a real SQLite file: unanswered questions for staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.store
from bot.db import Database, StorageError
from bot.store import AppStore, StoreError, UnansweredGroup

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    """Replaces ``datetime`` in bot.store: each ``now()`` is one minute after the last."""

    def __init__(self) -> None:
        self.t = T0

    def now(self, tz: object = None) -> datetime:
        self.t += timedelta(minutes=1)
        return self.t


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(bot.store, "datetime", clock)
    return clock


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[AppStore]:
    s = AppStore(Database.open(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'faro.db'}").engine)
    yield s
    s.dispose()


def test_creates_the_database_file_and_its_folder(store: AppStore, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "dir" / "faro.db").is_file()


def test_empty(store: AppStore) -> None:
    assert store.unanswered_groups() == []


def test_groups_by_normalised_text_with_counts_newest_first(store: AppStore) -> None:
    store.record_unanswered("Can I open a mortgage?", "en", conversation_id="web:1")  # 09:01
    store.record_unanswered("Do you have crypto?", "en", conversation_id="web:2")  # 09:02
    store.record_unanswered("can i  open a\tMORTGAGE?", "en", conversation_id="web:3")  # 09:03
    store.record_unanswered("  CAN I OPEN A MORTGAGE?\n", "en", conversation_id="tg:4")  # 09:04
    store.record_unanswered("¿Tenéis cripto?", "es", conversation_id="web:5")  # 09:05

    groups = store.unanswered_groups()
    assert [(g.lang, g.count, g.last_asked) for g in groups] == [
        ("es", 1, T0 + timedelta(minutes=5)),
        ("en", 3, T0 + timedelta(minutes=4)),
        ("en", 1, T0 + timedelta(minutes=2)),
    ]
    assert groups[0].text == "¿Tenéis cripto?"
    assert groups[2].text == "Do you have crypto?"
    # One of the spellings customers used, as they typed it.
    assert groups[1].text in {"Can I open a mortgage?", "can i  open a\tMORTGAGE?",
                              "  CAN I OPEN A MORTGAGE?\n"}  # fmt: skip


def test_a_repeat_moves_the_group_to_the_top(store: AppStore) -> None:
    store.record_unanswered("old question", "en", conversation_id="a")
    store.record_unanswered("new question", "en", conversation_id="b")
    store.record_unanswered("Old Question", "en", conversation_id="c")
    assert [(g.text.lower(), g.count) for g in store.unanswered_groups()] == [
        ("old question", 2), ("new question", 1),
    ]  # fmt: skip


def test_same_text_in_two_languages_is_two_groups(store: AppStore) -> None:
    store.record_unanswered("banco", "es", conversation_id="a")
    store.record_unanswered("banco", "en", conversation_id="b")
    assert sorted((g.lang, g.count) for g in store.unanswered_groups()) == [("en", 1), ("es", 1)]


def test_limit(store: AppStore) -> None:
    for i in range(5):
        store.record_unanswered(f"question {i}", "en", conversation_id="a")
    groups = store.unanswered_groups(limit=2)
    assert [g.text for g in groups] == ["question 4", "question 3"]


def test_last_asked_is_timezone_aware(store: AppStore) -> None:
    store.record_unanswered("q", "en", conversation_id="a")
    [group] = store.unanswered_groups()
    assert group.last_asked.tzinfo is not None
    assert group.last_asked == T0 + timedelta(minutes=1)
    assert isinstance(group, UnansweredGroup)


def test_long_text_and_conversation_id_are_stored(store: AppStore) -> None:
    long_text = "why " * 1000
    store.record_unanswered(long_text, "en", conversation_id="web:" + "x" * 1000)
    store.record_unanswered(long_text + " more", "en", conversation_id="web:y")
    groups = store.unanswered_groups()
    # Grouping looks at the first 500 normalised characters only.
    assert [g.count for g in groups] == [2]
    assert groups[0].text.startswith("why why")


def test_survives_a_reopen(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'faro.db'}"
    first = AppStore(Database.open(url).engine)
    first.record_unanswered("q", "en", conversation_id="a")
    first.dispose()
    second = AppStore(Database.open(url).engine)
    second.record_unanswered("Q", "en", conversation_id="b")
    assert [g.count for g in second.unanswered_groups()] == [2]
    second.dispose()


def test_in_memory_database(clock: Clock) -> None:
    store = AppStore(Database.open("sqlite://").engine)
    store.record_unanswered("q", "en", conversation_id="a")
    assert [g.count for g in store.unanswered_groups()] == [1]


def test_unusable_database_raises_storage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open the app database"):
        Database.open(f"sqlite:///{tmp_path / 'a-file' / 'faro.db'}")


def test_unreachable_database_raises_storage_error(tmp_path: Path) -> None:
    folder = tmp_path / "db-is-a-folder"
    folder.mkdir()
    with pytest.raises(StorageError, match="cannot migrate the app database"):
        Database.open(f"sqlite:///{folder}")


def test_a_failing_query_is_a_store_error_and_a_storage_error() -> None:
    database = Database.open("sqlite://")
    store = AppStore(database.engine)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE unanswered_questions")
    with pytest.raises(StoreError, match="cannot record an unanswered question: no such table"):
        store.record_unanswered("q", "en", conversation_id="a")
    assert issubclass(StoreError, StorageError)
