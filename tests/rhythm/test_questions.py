"""The question log: every customer question with its topics and outcome, per minute, on
SQLite and PostgreSQL; written in batches off the event loop; fed by the surge watch."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.core.messages import BotMessage, Phase, StatusCard, Turn
from bot.rhythm.questions import QuestionLog
from bot.rhythm.tables import question_log
from faq_index import Decision
from faq_index.entries import FaqEntry
from faq_index.index import Match
from tests.helpers.status_builders import T0, FakeClock
from tests.rhythm.test_watch import Echo, card_incident, make_watch


def test_per_minute_counts_each_topic_by_minute_and_untagged_questions_as_other(
    engine: sa.Engine,
) -> None:
    log = QuestionLog(engine)
    asked = [
        (0, ["Card payments"]),
        (20, ["Card payments", "tag:cards"]),
        (59, ["ATMs"]),
        (61, ["Card payments"]),
        (75, []),
        (200, ["Card payments"]),  # outside the window asked for
    ]
    for i, (seconds, topics) in enumerate(asked):
        log.record(
            conversation_id=f"web:{i}",
            channel="web",
            lang="en",
            text=f"question {i}",
            topics=topics,
            outcome="answered",
            at=T0 + timedelta(seconds=seconds),
        )
    rows = log.per_minute(since=T0, until=T0 + timedelta(minutes=3))
    m0, m1 = T0, T0 + timedelta(minutes=1)
    assert rows == [
        (m0, "ATMs", 1),
        (m0, "Card payments", 2),
        (m0, "tag:cards", 1),
        (m1, "Card payments", 1),
        (m1, "other", 1),
    ]
    assert all(m.tzinfo is not None for m, _, _ in rows)
    everything = log.per_minute(since=T0)
    assert (T0 + timedelta(minutes=3), "Card payments", 1) in everything
    assert log.per_minute(since=T0 + timedelta(hours=1)) == []


def test_record_only_buffers_and_one_flush_writes_the_batch(engine: sa.Engine) -> None:
    log = QuestionLog(engine)
    for i in range(50):
        log.record(conversation_id=f"telegram:{i}", channel="telegram", lang="es", text="hola")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(question_log)).scalar() == 0
    assert log.flush() == 50
    assert log.flush() == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(question_log)).scalar() == 50
    with pytest.raises(ValueError, match="outcome"):
        log.record(conversation_id="web:x", channel="web", lang="en", text="x", outcome="meh")
    assert log.flush() == 0  # the bad record changed nothing


async def test_the_running_log_writes_from_a_worker_thread_and_on_stop(engine: sa.Engine) -> None:
    log = QuestionLog(engine, interval_s=3600)
    threads: list[str] = []
    flush = log.flush

    def spy() -> int:
        threads.append(threading.current_thread().name)
        return flush()

    log.flush = spy  # type: ignore[method-assign]
    await log.start()
    await asyncio.sleep(0.05)
    log.record(conversation_id="web:1", channel="web", lang="en", text="card declined")
    await log.stop()  # what is still buffered is written
    assert threads and all(name != threading.main_thread().name for name in threads)
    assert [q.text for q in log.questions(since=T0)] == ["card declined"]


async def test_the_watch_logs_each_turn_with_its_topics_and_outcome(engine: sa.Engine) -> None:
    clock = FakeClock(T0)
    watch, _, _ = make_watch(card_incident(), clock)
    log = QuestionLog(engine, clock=clock)
    watch.questions = log
    entry = FaqEntry(id="cards", question={"en": "Card?"}, answer={"en": "Yes."}, tags=("cards",))

    class Faq:
        def decide(self, text: str, lang: str) -> Decision:
            if "fee" in text:
                return Decision(kind="answer", matches=(Match(entry=entry, score=0.9),))
            return Decision(kind="decline", matches=())

        def entry_answer(self, faq_id: str, lang: str) -> tuple[str, str] | None:
            return None

        def record_unanswered(self, text: str, lang: str, *, conversation_id: str) -> None:
            pass

    class Desk:
        def request(self, conversation_id: str, *args: object, **kw: object) -> BotMessage:
            return BotMessage("queued")

        def cancel(self, conversation_id: str, lang: str) -> BotMessage:
            return BotMessage("ok")

    faq = watch.observe_faq(Faq())
    desk = watch.observe_handoffs(Desk())

    class Core(Echo):
        async def handle(self, turn: Turn) -> list[BotMessage]:
            if "fee" in turn.text:
                faq.decide(turn.text, "en")
                return [BotMessage("None.")]
            if "person" in turn.text:
                return [desk.request(turn.conversation_id, turn.channel, "en")]
            if "down" in turn.text:
                return [BotMessage("Investigating.", status=StatusCard(Phase.INVESTIGATING))]
            faq.decide(turn.text, "en")
            faq.record_unanswered(turn.text, "en", conversation_id=turn.conversation_id)
            return [BotMessage("Sorry.")]

    conversation = watch.observe(Core())
    for who, text in [
        ("web:a", "is there a fee?"),
        ("web:b", "is my card payment down"),
        ("telegram:c", "can I speak to a person"),
        ("web:d", "what is the meaning of life"),
    ]:
        await conversation.handle(Turn(conversation_id=who, channel=who.split(":")[0], text=text))
        clock.advance(seconds=30)
    logged = log.questions(since=T0 - timedelta(minutes=1))
    assert [(q.conversation_id, q.outcome) for q in logged] == [
        ("web:a", "answered"),
        ("web:b", "status"),
        ("telegram:c", "handed_off"),
        ("web:d", "declined"),
    ]
    assert logged[0].topics == ("tag:cards",)
    assert logged[1].topics == ("Card payments",)
    assert logged[2].channel == "telegram" and logged[3].topics == ()
    assert logged[1].asked_at == T0 + timedelta(seconds=30)


def test_purge_removes_only_what_is_older(engine: sa.Engine) -> None:
    log = QuestionLog(engine)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    log.record(conversation_id="web:o", channel="web", lang="en", text="old", at=old)
    log.record(conversation_id="web:n", channel="web", lang="en", text="new", at=T0)
    log.flush()
    assert log.purge(T0 - timedelta(days=1)) == 1
    assert [q.text for q in log.questions(since=old)] == ["new"]
