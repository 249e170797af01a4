"""A surge of customers through the load balancer, and what each of them got.

Concurrent conversations, each asking unseen questions one after the other
(the next when the previous was answered), through ``POST /api/chat`` of the
load balancer, as the widget does. Every turn's outcome is kept: answered, an
honest "try again in a moment" (the ``dialogue_unavailable`` template), or
silence (an HTTP error, a timeout, an empty reply).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.stack import ROOT
from bot.templates import TemplateStore

TEMPLATES = TemplateStore.from_paths([ROOT / "data/templates"])
TRY_AGAIN = {TEMPLATES.render("dialogue_unavailable", lang) for lang in ("en", "es")}


@dataclass
class TurnResult:
    """One customer turn."""

    conversation: int
    text: str
    started: float  # time.monotonic()
    ended: float
    status: int  # HTTP status, 0 when no response came
    replies: list[str] = field(default_factory=list)
    reply_ids: list[int] = field(default_factory=list)
    user_id: int | None = None  # the stored question (None: the history was unavailable)

    @property
    def outcome(self) -> str:
        """``answered``, ``try_again`` (the bot's own "try again in a moment"),
        ``http_error`` (the app or the balancer answered 5xx: the widget shows its own
        "can't be reached right now, please try again") or ``silence``."""
        if self.status in (500, 502, 503, 504):
            return "http_error"
        if self.status != 200 or not self.replies:
            return "silence"
        if any(r in TRY_AGAIN for r in self.replies):
            return "try_again"
        return "answered"


@dataclass
class SurgeResult:
    """All turns of a surge, with the session token of each conversation."""

    turns: list[TurnResult]
    sessions: dict[int, str]

    def outcomes(self) -> Counter[str]:
        """How many turns ended each way."""
        return Counter(t.outcome for t in self.turns)

    def recovery_s(self, fault_at: float) -> float:
        """Seconds from the fault until the last turn that was not answered ended (0: none)."""
        bad = [t.ended for t in self.turns if t.outcome != "answered" and t.ended >= fault_at]
        return round(max(bad) - fault_at, 2) if bad else 0.0

    def summary(self, fault_at: float) -> str:
        """One line for the test log."""
        o = self.outcomes()
        return (
            f"{len(self.turns)} turns in {len(self.sessions)} conversations: "
            f"{o['answered']} answered, {o['try_again']} 'try again', "
            f"{o['http_error']} HTTP 5xx (widget: 'try again'), {o['silence']} silent; "
            f"recovery {self.recovery_s(fault_at):.2f} s"
        )


async def _conversation(
    client: httpx.AsyncClient,
    url: str,
    n: int,
    questions: Sequence[dict[str, str]],
    out: list[TurnResult],
    sessions: dict[int, str],
    think_s: float,
) -> None:
    token: str | None = None
    for k, q in enumerate(questions):
        if k:
            await asyncio.sleep(think_s)  # a customer reads, then asks again
        body: dict[str, Any] = {"text": q["text"], "lang": q.get("lang", "en")}
        if token:
            body["session"] = token
        started = time.monotonic()
        result = TurnResult(n, q["text"], started, started, 0)
        try:
            response = await client.post(url + "/api/chat", json=body)
            result.status = response.status_code
            if response.status_code == 200:
                data = response.json()
                token = str(data["session"])
                sessions[n] = token
                user = data.get("user")
                if isinstance(user, dict) and isinstance(user.get("id"), int):
                    result.user_id = int(user["id"])
                for m in data.get("messages", []):
                    result.replies.append(str(m.get("text", "")))
                    if isinstance(m.get("id"), int):
                        result.reply_ids.append(int(m["id"]))
        except httpx.HTTPError:
            pass
        result.ended = time.monotonic()
        out.append(result)


async def _surge(
    url: str,
    questions: Sequence[dict[str, str]],
    conversations: int,
    turns: int,
    think_s: float,
) -> SurgeResult:
    out: list[TurnResult] = []
    sessions: dict[int, str] = {}
    limits = httpx.Limits(max_connections=conversations + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(
            *(
                _conversation(
                    client, url, n, questions[n * turns : (n + 1) * turns], out, sessions, think_s
                )
                for n in range(conversations)
            )
        )
    return SurgeResult(out, sessions)


class Surge:
    """Runs a surge in a background thread; ``with Surge(...) as s:`` then ``s.result``."""

    def __init__(
        self,
        url: str,
        questions: Sequence[dict[str, str]],
        *,
        conversations: int,
        turns: int,
        think_s: float = 0.0,
    ) -> None:
        if len(questions) < conversations * turns:
            raise ValueError("not enough distinct questions for the surge")
        self._args = (url, questions, conversations, turns, think_s)
        self._result: SurgeResult | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="surge", daemon=True)

    def _run(self) -> None:
        try:
            self._result = asyncio.run(_surge(*self._args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self._error = exc

    def __enter__(self) -> Surge:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(timeout=600)

    @property
    def result(self) -> SurgeResult:
        """What customers got (after the ``with`` block)."""
        if self._error is not None:
            raise self._error
        assert self._result is not None, "the surge did not finish"
        return self._result
