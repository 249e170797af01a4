"""The load driver behind `faro bench`: counts, errors, conversation turnover."""

from __future__ import annotations

from collections import Counter

import aiohttp

from bot.benchmark import drive


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
