"""bot.channels.web_history: sessions, ordered ids, broadcasts, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.channels.web_history import BROADCAST, HistoryError, WebHistory
from bot.conversation import BotMessage, Button
from bot.db import Database, StorageError


@pytest.fixture
def history(tmp_path: Path) -> Iterator[WebHistory]:
    h = WebHistory(Database.open(f"sqlite:///{tmp_path / 'sub' / 'app.db'}").engine, limit=5)
    yield h
    h.dispose()


def test_messages_come_back_with_buttons_custom_and_increasing_ids(history: WebHistory) -> None:
    start = history.start_session("s1")
    history.append("web:s1", "user", [BotMessage("hi")])
    history.append(
        "web:s1",
        "bot",
        [BotMessage("pick", buttons=(Button("A", "/a"),), custom={"k": 1}), BotMessage("ok")],
    )
    rows = history.history("web:s1", start_id=start)
    assert [(r.role, r.text) for r in rows] == [("user", "hi"), ("bot", "pick"), ("bot", "ok")]
    assert rows[1].buttons == (Button("A", "/a"),) and rows[1].custom == {"k": 1}
    assert [r.id for r in rows] == sorted({r.id for r in rows})
    assert rows[0].at.tzinfo is not None
    assert rows[1].to_json()["buttons"] == [{"title": "A", "payload": "/a"}]


def test_a_turn_is_stored_in_one_transaction_user_first(history: WebHistory) -> None:
    start = history.start_session("s1")
    commits: list[object] = []
    sa.event.listen(history._engine, "commit", lambda conn: commits.append(conn))
    asked_at = datetime.now(UTC) - timedelta(seconds=2)
    user, replies = history.append_turn(
        "web:s1",
        [BotMessage("is it down?")],
        [BotMessage("pick", buttons=(Button("A", "/a"),)), BotMessage("ok")],
        asked_at=asked_at,
    )
    assert len(commits) == 1
    assert [(m.role, m.text) for m in [*user, *replies]] == [
        ("user", "is it down?"), ("bot", "pick"), ("bot", "ok"),
    ]  # fmt: skip
    assert [m.id for m in [*user, *replies]] == [user[0].id, user[0].id + 1, user[0].id + 2]
    assert user[0].at == asked_at and replies[0].at > asked_at
    rows = history.history("web:s1", start_id=start)
    assert rows == [*user, *replies]
    assert history.append_turn("web:s1", [], [BotMessage("only a reply")])[0] == []


def test_start_session_is_idempotent(history: WebHistory) -> None:
    first = history.start_session("s1")
    history.append(BROADCAST, "push", [BotMessage("update")])
    assert history.start_session("s1") == first
    assert history.start_session("s2") > first


def test_history_keeps_the_latest_messages_up_to_the_limit(history: WebHistory) -> None:
    history.append("web:s1", "user", [BotMessage(str(i)) for i in range(8)])
    assert [r.text for r in history.history("web:s1", start_id=0)] == ["3", "4", "5", "6", "7"]


def test_pushed_after_returns_only_pushes_above_the_cursor(history: WebHistory) -> None:
    start = history.start_session("s1")
    history.append("web:s1", "bot", [BotMessage("reply")])
    [a] = history.append("web:s1", "push", [BotMessage("a")])
    [b] = history.append(BROADCAST, "push", [BotMessage("b")])
    history.append("web:s2", "push", [BotMessage("not mine")])
    got = history.pushed_after("web:s1", after=0, start_id=start)
    assert [r.text for r in got] == ["a", "b"]
    assert [r.text for r in history.pushed_after("web:s1", after=a.id, start_id=start)] == ["b"]
    assert history.pushed_after("web:s1", after=b.id, start_id=start) == []


def test_unknown_role_is_refused(history: WebHistory) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        history.append("web:s1", "admin", [BotMessage("x")])


def test_an_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open the app database"):
        Database.open(f"sqlite:///{blocker / 'app.db'}")
    assert issubclass(HistoryError, StorageError)
