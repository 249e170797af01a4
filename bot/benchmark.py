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
import json
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
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
    p95_ms: float
    p99_ms: float
    open_loop_rate: float = 0.0  # arrivals per second; 0: closed loop
    cpu_ms_per_msg: dict[str, float] = field(default_factory=dict)
    held: int = 0  # turns passed to a person's queue (answered by the app, not the bot)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly figures."""
        return asdict(self)

    def with_cpu(self, cpu_ms_per_msg: dict[str, float]) -> BenchResult:
        """The same figures with CPU per message of each process."""
        return replace(self, cpu_ms_per_msg=cpu_ms_per_msg)

    def with_held(self, held: int) -> BenchResult:
        """The same figures with the number of turns passed to a person."""
        return replace(self, held=held)


Sender = Callable[[aiohttp.ClientSession, str, str], Any]


class TooFewQuestions(ValueError):
    """The question pool cannot fill the run without repeating a question."""


def plan(
    questions: Sequence[str], messages: int, *, repeat: bool, warmup: int = 0, seed: int = 7
) -> tuple[list[str], list[str]]:
    """The warm-up texts and the ``messages`` texts of a run.

    Without ``repeat`` no text is asked twice (warm-up included): the pool is
    shuffled and dealt out, so an index's memory of recent questions cannot
    make the run easy. With it, texts are drawn at random with replacement.
    """
    rng = random.Random(seed)
    if repeat:
        warm = [questions[i % len(questions)] for i in range(warmup)]
        return warm, [rng.choice(questions) for _ in range(messages)]
    distinct = list(dict.fromkeys(questions))
    if len(distinct) < messages + warmup:
        raise TooFewQuestions(
            f"only {len(distinct)} distinct questions for {messages} messages and {warmup}"
            " warm-up turns: ask fewer or allow repeats"
        )
    rng.shuffle(distinct)
    return distinct[messages : messages + warmup], distinct[:messages]


def _figures(
    name: str, latencies: list[float], errors: int, seconds: float, **extra: Any
) -> BenchResult:
    latencies = sorted(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * q))], 1)

    return BenchResult(
        name=name,
        messages=len(latencies),
        errors=errors,
        seconds=round(seconds, 2),
        msg_per_s=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(latencies), 1),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        **extra,
    )


def _session(conversations: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=conversations + 10)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60.0))


async def _ask(
    send: Sender, client: aiohttp.ClientSession, key: str, text: str
) -> tuple[float, bool]:
    started = time.perf_counter()
    try:
        ok = bool(await send(client, key, text))
    except (aiohttp.ClientError, TimeoutError, ValueError):
        ok = False  # transport failure, time-out, or a body that is not JSON
    return (time.perf_counter() - started) * 1000, ok


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
    repeat: bool = True,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> BenchResult:
    """Send ``messages`` turns over ``conversations`` concurrent conversations (closed loop).

    Each of the ``conversations`` concurrent users asks ``turns`` questions in
    one conversation, then starts a new one (as customers do: a few questions
    each). ``think_s`` is the mean pause (exponential) between a user's
    answer and their next question; 0 saturates the server. ``send(client,
    conversation_key, text)`` performs one turn and returns True when the
    answer was good. ``repeat``: see :func:`plan`. ``on_start`` is called once the
    warm-up turns are done, just before the measured ones.
    """
    warm, texts = plan(questions, messages, repeat=repeat, warmup=warmup, seed=seed)
    async with _session(conversations) as client:
        for i, text in enumerate(warm):
            await send(client, f"warmup-{seed}-{i}", text)
        per_conv = [messages // conversations + (1 if c < messages % conversations else 0)
                    for c in range(conversations)]  # fmt: skip
        starts = [sum(per_conv[:c]) for c in range(conversations)]
        latencies: list[float] = []
        errors = 0

        async def conversation(index: int) -> None:
            nonlocal errors
            pauses = random.Random(seed * 1000 + index)
            for n in range(per_conv[index]):
                key = f"bench-{seed}-{index}-{n // max(1, turns)}"
                if think_s > 0:
                    await asyncio.sleep(pauses.expovariate(1 / think_s))
                ms, ok = await _ask(send, client, key, texts[starts[index] + n])
                latencies.append(ms)
                errors += 0 if ok else 1
                if on_progress:
                    on_progress(len(latencies))

        if on_start:
            on_start()  # after the warm-up
        started = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(conversations)))
        seconds = time.perf_counter() - started
    return _figures(name, latencies, errors, seconds, conversations=conversations, think_s=think_s)


async def drive_open_loop(
    *,
    name: str,
    send: Sender,
    questions: Sequence[str],
    rate: float,
    messages: int,
    conversations: int = 100,
    warmup: int = 20,
    repeat: bool = False,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> BenchResult:
    """Send ``messages`` turns arriving at ``rate`` per second, whether answered or not.

    Arrivals are a Poisson process (independent of the answers, as a surge
    is); arrival ``i`` is a turn of conversation ``i mod conversations``.
    Latency counts from the scheduled arrival, so a driver that falls behind
    does not hide the server's queue.
    """
    warm, texts = plan(questions, messages, repeat=repeat, warmup=warmup, seed=seed)
    rng = random.Random(seed)
    async with _session(conversations * 4) as client:
        for i, text in enumerate(warm):
            await send(client, f"warmup-{seed}-{i}", text)
        latencies: list[float] = []
        errors = 0

        async def arrival(i: int, due: float) -> None:
            nonlocal errors
            _, ok = await _ask(send, client, f"open-{seed}-{i % conversations}", texts[i])
            latencies.append((time.perf_counter() - due) * 1000)
            errors += 0 if ok else 1
            if on_progress:
                on_progress(len(latencies))

        if on_start:
            on_start()  # after the warm-up
        started = time.perf_counter()
        due = started
        tasks: list[asyncio.Task[None]] = []
        for i in range(messages):
            due += rng.expovariate(rate)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(arrival(i, due)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    return _figures(
        name,
        latencies,
        errors,
        seconds,
        conversations=conversations,
        think_s=0.0,
        open_loop_rate=rate,
    )


class AppSender:
    """A ``send`` that talks to Faro's web chat endpoint (one session per conversation).

    A turn is good when the bot answered (not with its "technical trouble" reply) or
    when the app passed it to a person's queue (``held``: the conversation asked for a
    person earlier, as some bench questions do); ``held`` counts the latter.
    """

    def __init__(self, app_url: str, *, failure_text: str) -> None:
        self._url = app_url + "/api/chat"
        self._failure = failure_text
        self._sessions: dict[str, str] = {}
        self.held = 0

    async def __call__(self, client: aiohttp.ClientSession, key: str, text: str) -> bool:
        body: dict[str, Any] = {"text": text}
        if key in self._sessions:
            body["session"] = self._sessions[key]
        async with client.post(self._url, json=body) as response:
            if response.status != 200:
                return False
            data = await response.json()
        self._sessions[key] = data["session"]
        replies = [m.get("text", "") for m in data.get("messages", [])]
        if not replies and data.get("held") is True:
            self.held += 1
            return True
        return bool(replies) and self._failure not in replies


def app_sender(app_url: str, *, failure_text: str) -> AppSender:
    """The ``send`` of Faro's web chat (see :class:`AppSender`)."""
    return AppSender(app_url, failure_text=failure_text)


def rasa_sender(rasa_url: str) -> Callable[..., Any]:
    """A ``send`` that talks straight to a Rasa server's REST channel."""

    async def send(client: aiohttp.ClientSession, key: str, text: str) -> bool:
        body = {"sender": key, "message": text}
        async with client.post(rasa_url + "/webhooks/rest/webhook", json=body) as response:
            return response.status == 200 and bool(await response.json())

    return send


def read_questions(path: Path) -> list[str]:
    """Questions from a file: JSON lines with a ``text`` field, or plain text, one a line."""
    texts: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                text = json.loads(line).get("text")
            except (json.JSONDecodeError, AttributeError):
                text = None
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{path}:{number}: a JSON line needs a non-empty 'text'")
            line = text.strip()
        texts.append(line)
    if not texts:
        raise ValueError(f"{path}: no questions in the file")
    return texts


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S
