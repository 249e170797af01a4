"""The load driver behind `faro bench`: counts, errors, conversation turnover."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from starlette.applications import Starlette

from bot.benchmark import (
    TooFewQuestions,
    app_sender,
    cpu_seconds,
    drive,
    drive_open_loop,
    plan,
    read_questions,
)
from bot.channels.web import SessionSigner, chat_routes
from bot.core.messages import BotMessage, Turn
from tests.helpers.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]


async def test_drive_sends_every_message_and_counts_bad_answers() -> None:
    seen: list[tuple[str, str]] = []

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        seen.append((key, text))
        return text != "bad"

    result = await drive(
        name="fake", send=send, questions=["ok", "bad"], conversations=5, messages=40,
        turns=4, warmup=0,
    )  # fmt: skip
    assert result.messages == 40 == len(seen)
    assert result.errors == sum(1 for _, text in seen if text == "bad")
    assert 0 < result.errors < 40
    assert result.msg_per_s > 0 and result.p99_ms >= result.p50_ms
    # 5 users x 8 messages, a new conversation every 4 questions
    per_key = Counter(key for key, _ in seen)
    assert len(per_key) == 10 and set(per_key.values()) == {4}


async def test_transport_failures_count_as_errors() -> None:
    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        raise aiohttp.ClientConnectionError("refused")

    result = await drive(
        name="down", send=send, questions=["q"], conversations=2, messages=6, warmup=0
    )
    assert result.errors == 6


def test_without_repeats_no_question_is_asked_twice_warmup_included() -> None:
    pool = [f"question {i}" for i in range(50)]
    warm, texts = plan(pool, 40, repeat=False, warmup=10)
    assert len(texts) == 40 and len(warm) == 10
    assert len(set(texts) | set(warm)) == 50  # all distinct, none shared
    with pytest.raises(TooFewQuestions, match="only 50 distinct"):
        plan(pool, 41, repeat=False, warmup=10)
    with pytest.raises(TooFewQuestions):
        plan(["same", "same", "other"], 3, repeat=False)  # duplicates in the file count once
    _, repeated = plan(["a", "b"], 10, repeat=True)
    assert len(repeated) == 10


async def test_a_closed_loop_run_asks_the_planned_questions_once_each() -> None:
    asked: list[str] = []
    started: list[int] = []

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        asked.append(text)
        return True

    pool = [f"q{i}" for i in range(30)]
    result = await drive(
        name="fake", send=send, questions=pool, conversations=4, messages=25, warmup=5,
        repeat=False, on_start=lambda: started.append(len(asked)),
    )  # fmt: skip
    assert started == [5]  # the warm-up came first
    assert len(asked) == 30 == len(set(asked))
    assert result.messages == 25 and result.p95_ms >= result.p50_ms


async def test_open_loop_arrivals_do_not_wait_for_answers() -> None:
    # Each answer takes 0.3 s; 20 arrivals at 100/s must all be sent within ~0.2 s
    # (a closed loop of 2 conversations would take 3 s), and the latency counts
    # from the scheduled arrival.
    sent_at: list[float] = []
    asked: list[str] = []

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        sent_at.append(time.perf_counter())
        asked.append(text)
        await asyncio.sleep(0.3)
        return not text.endswith("3")

    pool = [f"q{i}" for i in range(40)]
    result = await drive_open_loop(
        name="open", send=send, questions=pool, rate=100.0, messages=20, conversations=2,
        warmup=0,
    )  # fmt: skip
    assert result.messages == 20 and result.open_loop_rate == 100.0
    assert sent_at[-1] - sent_at[0] < 1.5
    assert result.p50_ms >= 300
    assert result.seconds < 2.5
    assert result.errors == sum(1 for t in asked if t.endswith("3"))


def test_questions_files_plain_and_json_lines(tmp_path: Path) -> None:
    plain = tmp_path / "q.txt"
    plain.write_text("# comment\nis the app down?\n\n¿está caída la app?\n", encoding="utf-8")
    assert read_questions(plain) == ["is the app down?", "¿está caída la app?"]
    jsonl = tmp_path / "q.jsonl"
    jsonl.write_text('{"text": " card declined ", "lang": "en"}\n', encoding="utf-8")
    assert read_questions(jsonl) == ["card declined"]
    jsonl.write_text('{"lang": "en"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="q.jsonl:1: a JSON line needs a non-empty 'text'"):
        read_questions(jsonl)
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValueError, match="no questions"):
        read_questions(tmp_path / "empty.txt")


def test_the_shipped_questions_are_unseen_by_the_sample_faq() -> None:
    from faq_index import load_faq_files

    shipped = read_questions(ROOT / "bench" / "questions" / "unseen.jsonl")
    assert len(shipped) == len(set(shipped)) >= 1000

    def fold(text: str) -> str:
        return " ".join(text.lower().split())

    entries = load_faq_files([ROOT / "data" / "faq"])
    faq_texts = {fold(q) for e in entries for q in e.question.values()}
    faq_texts |= {fold(p) for e in entries for ps in e.paraphrases.values() for p in ps}
    assert not faq_texts & {fold(t) for t in shipped}


def test_cpu_seconds_grow_with_work() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:
        pass
    assert cpu_seconds(os.getpid()) > before


@dataclass
class HoldingConversation:
    """Replies to questions, except that after "a person please" its turns go to the queue
    (no reply, as :class:`bot.dialogue.RasaConversation` does for a held turn)."""

    waiting: set[str] = field(default_factory=set)

    async def handle(self, turn: Turn) -> list[BotMessage]:
        if turn.conversation_id in self.waiting:
            return []
        if turn.text == "a person please":
            self.waiting.add(turn.conversation_id)
            return [BotMessage("I've asked a person to take over.")]
        if turn.text == "broken":
            return [BotMessage(FAILURE)]
        return [BotMessage("an answer")]


FAILURE = "Sorry, I'm having technical trouble."


async def test_the_app_sender_counts_held_turns_apart_from_errors() -> None:
    routes = chat_routes(conversation=HoldingConversation(), signer=SessionSigner("s"))
    with live_server(Starlette(routes=routes)) as url:
        send = app_sender(url, failure_text=FAILURE)
        questions = ["q1", "a person please", "q2", "q3", "broken", "q4", "q5", "q6"]
        result = await drive(
            name="app", send=send, questions=questions, conversations=2, messages=8,
            turns=4, warmup=0, repeat=False,
        )  # fmt: skip
    # one conversation asked for a person: its later turns were held, not failed
    assert result.errors == 1  # the "technical trouble" reply
    assert send.held >= 1
    assert send.held + result.errors <= 8
