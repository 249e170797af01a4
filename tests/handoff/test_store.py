"""The handoff store on SQLite and PostgreSQL: queue, atomic claims, endings, messages."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.db import Database
from bot.handoff.store import HandoffStore
from bot.handoff.tables import handoffs

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_open_keeps_the_transcript_and_one_open_handoff_per_conversation(
    store: HandoffStore,
) -> None:
    transcript = [
        ("user", "card declined?", T0),
        ("bot", "Card payments fail...", T0),
        ("x", "?", T0),
    ]
    first, new = store.open("web:abc", "web", "en", transcript=transcript)
    again, new_again = store.open("web:abc", "web", "en")
    assert new and not new_again
    assert again.id == first.id and first.state == "waiting"
    assert [(m.role, m.text) for m in store.transcript(first.id)] == [
        ("user", "card declined?"),
        ("bot", "Card payments fail..."),
    ]
    assert store.current("web:abc") == first
    assert store.current("web:other") is None


def test_queue_place_is_oldest_first(store: HandoffStore) -> None:
    a, _ = store.open("web:a", "web", "en")
    b, _ = store.open("telegram:1", "telegram", "es")
    c, _ = store.open("slack:T:U", "slack", "en")
    assert [store.place(h) for h in (a, b, c)] == [1, 2, 3]
    assert store.claim(a.id, "ana")
    assert store.place(store.get(c.id)) == 2  # type: ignore[arg-type]
    assert [h.id for h in store.in_state("waiting")] == [b.id, c.id]
    assert [h.id for h in store.in_state("active")] == [a.id]


def test_a_claim_someone_else_holds_is_refused(store: HandoffStore) -> None:
    h, _ = store.open("web:a", "web", "en")
    assert store.claim(h.id, "ana")
    assert store.claim(h.id, "ana")  # holder again: fine, nothing changes
    assert not store.claim(h.id, "bob")
    got = store.get(h.id)
    assert got is not None and got.claimed_by == "ana" and got.state == "active"
    assert not store.claim(9999, "ana")


def test_only_the_holder_replies_releases_or_closes(store: HandoffStore) -> None:
    h, _ = store.open("web:a", "web", "en")
    assert store.add_message(h.id, "agent", "hi", author="ana", holder="ana") is None  # not claimed
    store.claim(h.id, "ana")
    assert store.add_message(h.id, "agent", "hi", author="bob", holder="bob") is None
    assert store.end(h.id, "bob", "released", holder="bob") is False
    reply = store.add_message(h.id, "agent", "Hello, I'm Ana", author="ana", holder="ana")
    assert reply is not None and reply.role == "agent"
    assert store.end(h.id, "ana", "released", holder="ana") is True
    assert store.end(h.id, "ana", "closed", holder="ana") is False  # already closed
    ended = store.get(h.id)
    assert ended is not None and (ended.state, ended.outcome) == ("closed", "released")
    assert store.current("web:a") is None
    # a new request after the end opens a new handoff
    again, new = store.open("web:a", "web", "en")
    assert new and again.id != h.id


def test_ended_handoffs_need_rasa_resumed_once(store: HandoffStore) -> None:
    h, _ = store.open("web:a", "web", "en")
    assert not store.needs_resume("web:a")  # open: stays paused
    store.end(h.id, "customer", "cancelled", holder=None)
    assert store.needs_resume("web:a")
    store.resumed("web:a")
    assert not store.needs_resume("web:a")


def test_delivery_outcome_and_audit(store: HandoffStore) -> None:
    h, _ = store.open("telegram:5", "telegram", "en")
    store.claim(h.id, "ana")
    reply = store.add_message(h.id, "agent", "hi", author="ana", holder="ana")
    assert reply is not None
    failed = store.delivered(reply.id, "Telegram 403: Forbidden: bot was blocked by the user")
    assert failed.delivery == "failed" and failed.error and "403" in failed.error
    assert failed.to_json()["delivery"] == "failed"
    actions = [(r.actor, r.action) for r in reversed(store.audit())]
    assert actions == [("customer", "requested"), ("ana", "claimed"), ("ana", "replied")]


def test_figures_count_the_queue_and_recent_times(store: HandoffStore, database: Database) -> None:
    a, _ = store.open("web:a", "web", "en")
    b, _ = store.open("web:b", "web", "en")
    now = datetime.now(UTC)
    with database.engine.begin() as conn:  # a was opened 5 minutes ago
        conn.execute(
            handoffs.update()
            .where(handoffs.c.id == a.id)
            .values(opened_at=now - timedelta(minutes=5))
        )
    store.claim(b.id, "ana")
    store.end(b.id, "ana", "closed", holder="ana")
    store.seen("ana")
    store.seen("ana")
    figures = store.figures()
    assert (figures.waiting, figures.active, figures.handled_today) == (1, 0, 1)
    assert figures.agents_online == 1
    assert figures.longest_wait_s is not None and 290 < figures.longest_wait_s < 400
    assert len(figures.pickup_waits_s) == 1 and len(figures.handling_s) == 1


@pytest.mark.postgres
def test_two_replicas_claiming_at_once_exactly_one_wins(pg_url: str) -> None:
    first, second = Database.open(pg_url), Database.open(pg_url)  # two app replicas
    try:
        stores = [HandoffStore(first.engine), HandoffStore(second.engine)]
        for round_ in range(10):
            h, _ = stores[0].open(f"web:race{round_}", "web", "en")
            barrier = threading.Barrier(2)
            wins: dict[str, bool] = {}

            def claim(
                store: HandoffStore,
                agent: str,
                handoff_id: int = h.id,
                barrier: threading.Barrier = barrier,
                wins: dict[str, bool] = wins,
            ) -> None:
                barrier.wait()
                wins[agent] = store.claim(handoff_id, agent)

            threads = [
                threading.Thread(target=claim, args=(stores[0], "ana")),
                threading.Thread(target=claim, args=(stores[1], "bob")),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(wins.values()) == [False, True]
            winner = next(a for a, won in wins.items() if won)
            got = stores[1].get(h.id)
            assert got is not None and got.claimed_by == winner
        with first.engine.connect() as conn:
            claims = conn.execute(
                sa.text("SELECT count(*) FROM handoff_audit WHERE action = 'claimed'")
            ).scalar()
        assert claims == 10
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.postgres
def test_two_replicas_opening_at_once_make_one_handoff(pg_url: str) -> None:
    dbs = [Database.open(pg_url), Database.open(pg_url)]
    try:
        stores = [HandoffStore(d.engine) for d in dbs]
        barrier = threading.Barrier(2)
        ids: list[int] = []

        def open_(store: HandoffStore) -> None:
            barrier.wait()
            ids.append(store.open("web:same", "web", "en")[0].id)

        threads = [threading.Thread(target=open_, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ids) == 2 and ids[0] == ids[1]
    finally:
        for d in dbs:
            d.dispose()


def test_gate_answers_both_questions_in_one_query(store: HandoffStore) -> None:
    assert store.gate("web:a") == (None, False)
    h, _ = store.open("web:a", "web", "en")
    assert store.gate("web:a") == (h, False)
    store.end(h.id, "customer", "cancelled", holder=None)
    assert store.gate("web:a") == (None, True)
    again, _ = store.open("web:a", "web", "en")
    assert store.gate("web:a") == (again, True)
    store.resumed("web:a")
    assert store.gate("web:a") == (again, False)
