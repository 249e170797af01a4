"""CPU per call of the database work on a customer turn's path, on a SQLite file.

What one web chat turn does besides Rasa and the FAQ search: read (and at most
once a minute touch) its session, read the handoff gate, store the turn
(question and replies, one transaction), and for some turns record an
unanswered question or note a status question's asker. Each is called
``--calls`` times on fresh conversation ids, in the calling thread; the figure
is process CPU time per call (microseconds), best of ``--rounds``. Run it with
two checkouts' interpreters to compare them:

    .venv/bin/python bench/turn_sql.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.broadcast.subscriptions import SubscriptionStore, recipient_for
from bot.channels.web_history import WebHistory
from bot.core.messages import BotMessage
from bot.db import Database
from bot.handoff.store import HandoffStore
from bot.store import AppStore


def per_call_us(work: Callable[[int], object], calls: int, rounds: int) -> float:
    """Best of ``rounds`` of the process CPU time per call of ``work(i)``, in microseconds."""
    best = float("inf")
    for r in range(rounds):
        started = time.process_time()
        for i in range(calls):
            work(r * calls + i)
        best = min(best, (time.process_time() - started) / calls * 1e6)
    return round(best, 1)


def main() -> None:
    """Measure each step and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(f"sqlite:///{Path(tmp) / 'app.db'}")
        history = WebHistory(db.engine)
        handoffs = HandoffStore(db.engine)
        store = AppStore(db.engine)
        subscriptions = SubscriptionStore(db.engine)
        for i in range(args.calls * args.rounds):
            history.start_session(f"s{i}")
        idle = timedelta(days=30)
        asked, replies = [BotMessage("why was my card declined?")], [BotMessage("Because…")]

        def status_question(i: int) -> None:
            recipient = recipient_for(f"web:s{i // 2}", "en")  # each conversation asks twice
            assert recipient is not None
            subscriptions.asked_about("inc-1", recipient)

        steps: dict[str, Callable[[int], object]] = {
            "web session read": lambda i: history.resume_session(f"s{i}", idle=idle),
            "handoff gate": lambda i: handoffs.gate(f"web:s{i}"),
            "web turn stored": lambda i: history.append_turn(f"web:s{i}", asked, replies),
            "unanswered recorded": lambda i: store.record_unanswered(
                "what is the meaning of life", "en", conversation_id=f"web:s{i}"
            ),
            "status asker noted (asked twice)": status_question,
        }
        figures = {name: per_call_us(work, args.calls, args.rounds) for name, work in steps.items()}
        db.dispose()
    if args.json:
        print(json.dumps(figures))
    else:
        for name, us in figures.items():
            print(f"{name:34} {us:8.1f} us CPU per call")


if __name__ == "__main__":
    main()
