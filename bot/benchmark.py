"""Load driver for ``faro bench``: N concurrent conversations, figures out.

Each conversation sends its messages one after another (a person waits for
the answer); conversations run concurrently. Errors are non-200 answers,
transport failures, and the app's "technical trouble" reply.

The client is aiohttp: on this 2-core machine httpx's pool with 100
connections took ~12 ms of CPU per message in the load generator itself
(more than the app), aiohttp ~0.6 ms, so the driver no longer eats the
CPU it measures.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class BenchResult:
    """Figures of one run."""

    name: str
    conversations: int
    messages: int
    errors: int
    seconds: float
    think_s: float
    msg_per_s: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly figures."""
        return asdict(self)


Sender = Callable[[aiohttp.ClientSession, str, str], Any]


async def drive(
    *,
    name: str,
    send: Sender,
    questions: Sequence[str],
    conversations: int,
    messages: int,
    turns: int = 4,
    think_s: float = 0.0,
    warmup: int = 20,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
) -> BenchResult:
    """Send ``messages`` turns over ``conversations`` concurrent conversations.

    Each of the ``conversations`` concurrent users asks ``turns`` questions in
    one conversation, then starts a new one (as customers do: a few questions
    each). ``think_s`` is the mean pause (exponential) between a user's
    answer and their next question; 0 saturates the server. ``send(client,
    conversation_key, text)`` performs one turn and returns True when the
    answer was good.
    """
    rng = random.Random(seed)
    connector = aiohttp.TCPConnector(limit=conversations + 10)
    timeout = aiohttp.ClientTimeout(total=60.0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        for i in range(warmup):
            await send(client, f"warmup-{i}", questions[i % len(questions)])
        per_conv = [messages // conversations + (1 if c < messages % conversations else 0)
                    for c in range(conversations)]  # fmt: skip
        plan = [[rng.choice(questions) for _ in range(n)] for n in per_conv]
        latencies: list[float] = []
        errors = 0
        done = 0

        async def conversation(index: int, texts: list[str]) -> None:
            nonlocal errors, done
            pauses = random.Random(seed * 1000 + index)
            for n, text in enumerate(texts):
                key = f"bench-{seed}-{index}-{n // max(1, turns)}"
                if think_s > 0:
                    await asyncio.sleep(pauses.expovariate(1 / think_s))
                started = time.perf_counter()
                try:
                    ok = await send(client, key, text)
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    ok = False  # transport failure, time-out, or a body that is not JSON
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1
                done += 1
                if on_progress:
                    on_progress(done)

        started = time.perf_counter()
        await asyncio.gather(*(conversation(i, t) for i, t in enumerate(plan)))
        seconds = time.perf_counter() - started
    latencies.sort()
    return BenchResult(
        name=name,
        conversations=conversations,
        messages=len(latencies),
        errors=errors,
        seconds=round(seconds, 2),
        think_s=think_s,
        msg_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(latencies), 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
    )


def app_sender(app_url: str, *, failure_text: str) -> Callable[..., Any]:
    """A ``send`` that talks to Faro's web chat endpoint (one session per conversation)."""
    sessions: dict[str, str] = {}

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        body: dict[str, Any] = {"text": text}
        if key in sessions:
            body["session"] = sessions[key]
        async with client.post(app_url + "/api/chat", json=body) as response:
            if response.status != 200:
                return False
            data = await response.json()
        sessions[key] = data["session"]
        replies = [m.get("text", "") for m in data.get("messages", [])]
        return bool(replies) and failure_text not in replies

    return send


def rasa_sender(rasa_url: str) -> Callable[..., Any]:
    """A ``send`` that talks straight to a Rasa server's REST channel."""

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        body = {"sender": key, "message": text}
        async with client.post(rasa_url + "/webhooks/rest/webhook", json=body) as response:
            return response.status == 200 and bool(await response.json())

    return send


MOODBOT_MESSAGES = (
    "hello", "hi", "good morning", "I am sad", "very bad", "great", "I am happy",
    "yes", "no", "bye", "are you a bot?", "goodbye",
)  # fmt: skip
