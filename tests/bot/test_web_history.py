"""bot.channels.web_history: sessions, ordered ids, broadcasts, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.channels.web_history import BROADCAST, HistoryError, WebHistory
from bot.core.messages import BotMessage, Button, Phase, StatusCard
from bot.db import Database, StorageError

CARD = StatusCard(Phase.INVESTIGATING, incident_id="inc-1", as_of=datetime(2024, 5, 1, tzinfo=UTC))


@pytest.fixture
def history(tmp_path: Path) -> Iterator[WebHistory]:
    h = WebHistory(Database.open(f"sqlite:///{tmp_path / 'sub' / 'app.db'}").engine, limit=5)
    yield h
    h.dispose()


def test_messages_come_back_with_buttons_card_and_increasing_ids(history: WebHistory) -> None:
    start = history.start_session("s1")
    history.append("web:s1", "user", [BotMessage("hi")])
    history.append(
        "web:s1",
        "bot",
        [BotMessage("pick", buttons=(Button("A", "/a"),), status=CARD), BotMessage("ok")],
    )
    rows = history.history("web:s1", start_id=start)
    assert [(r.role, r.text) for r in rows] == [("user", "hi"), ("bot", "pick"), ("bot", "ok")]
    assert (
        rows[1].buttons == (Button("A", "/a"),)
        and rows[1].status == CARD
        and rows[2].status is None
    )
    assert [r.id for r in rows] == sorted({r.id for r in rows})
    assert rows[0].at.tzinfo is not None
    assert rows[1].to_json()["buttons"] == [{"title": "A", "payload": "/a"}]
    assert rows[1].to_json()["status"] == CARD.to_json() and "status" not in rows[2].to_json()


@pytest.mark.parametrize(
    ("extra", "card"),
    [
        # rows stored before the typed card kept Rasa's custom payload
        ({"custom": {"status": {"phase": "identified", "incident_id": "inc-9",
                                "components": ["Cards"], "as_of": None, "stale": False}}},
         StatusCard(Phase.IDENTIFIED, incident_id="inc-9", components=("Cards",))),
        ({"custom": {"type": "something else"}}, None),
        ({"custom": "not a mapping"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_rows_from_before_the_typed_card_still_load(
    history: WebHistory, extra: dict[str, object], card: StatusCard | None
) -> None:
    import json

    from bot.channels.web_history import web_messages

    start = history.start_session("s1")
    with history._engine.begin() as conn:
        conn.execute(web_messages.insert().values(
            conversation_id="web:s1", role="bot", text="As of 10:00 UTC, ...",
            extra=json.dumps(extra), created_at=datetime.now(UTC),
        ))  # fmt: skip
    [row] = history.history("web:s1", start_id=start)
    assert row.status == card and row.text == "As of 10:00 UTC, ..."


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


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_changes_after_names_whom_new_pushes_are_for(backend: str, tmp_path: Path) -> None:
    """What the push hub's one fallback poll sees of another replica's messages."""
    from tests.faq_store.builders import postgres_schema, sqlite_url

    def check(url: str) -> None:
        db = Database.open(url)
        h = WebHistory(db.engine)
        try:
            assert h.changes_after(None) == (0, set())
            h.append("web:a", "user", [BotMessage("hi")])  # not a push: nobody to wake
            first, targets = h.changes_after(None)
            assert first > 0 and targets == set()
            assert h.changes_after(first) == (first, set())
            h.append("web:b", "agent", [BotMessage("an agent")])
            [pushed] = h.append(BROADCAST, "push", [BotMessage("to all")])
            assert h.changes_after(first) == (pushed.id, {"web:b", BROADCAST})
            assert h.changes_after(pushed.id) == (pushed.id, set())
        finally:
            db.dispose()

    if backend == "sqlite":
        check(sqlite_url(tmp_path))
    else:
        with postgres_schema() as url:
            check(url)
