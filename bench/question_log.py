"""The question log's cost: record() on the event loop's side, one batched flush, per_minute.

    PYTHONPATH=. .venv/bin/python bench/question_log.py [--url URL_OF_A_SCRATCH_DATABASE]

(default: a temporary SQLite file; a PostgreSQL URL is migrated and written to: give a
scratch database or schema, e.g. ``...?options=-csearch_path%3Dbench``, never a live one).

Prints CPU and wall time for recording N questions (the part a customer turn pays), flushing
them in batches as the app does every 2 s, and reading an hour per minute and topic.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

import bot.wiring  # noqa: F401 - every table on the metadata
from bot.db import Database
from bot.rhythm.questions import QuestionLog

TOPICS = (["Card payments", "tag:cards"], ["ATMs"], [], ["Mobile app"], ["Card payments"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="questions per flush")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(args.url or f"sqlite:///{tmp}/bench.db")
        log = QuestionLog(db.engine)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        record_cpu = flush_cpu = 0.0
        wall = time.perf_counter()
        for i in range(args.n):
            c0 = time.process_time()
            log.record(
                conversation_id=f"web:{i}", channel="web", lang="en",
                text=f"my card was declined {i % 50}", topics=TOPICS[i % len(TOPICS)],
                outcome="answered", at=start + timedelta(seconds=i * 3600 / args.n),
            )  # fmt: skip
            record_cpu += time.process_time() - c0
            if (i + 1) % args.batch == 0:
                c0 = time.process_time()
                log.flush()
                flush_cpu += time.process_time() - c0
        log.flush()
        wall = time.perf_counter() - wall
        c0, w0 = time.process_time(), time.perf_counter()
        rows = log.per_minute(since=start, until=start + timedelta(hours=1))
        read_cpu, read_wall = time.process_time() - c0, time.perf_counter() - w0
        db.dispose()
    print(f"backend: {db.engine.dialect.name}; {args.n} questions over one hour")
    print(f"record(): {record_cpu / args.n * 1e6:.1f} us CPU per question")
    print(f"flush: {flush_cpu / args.n * 1e6:.1f} us CPU per question (batches of {args.batch})")
    print(f"total wall for record+flush: {wall:.2f} s")
    print(
        f"per_minute(1 h): {len(rows)} rows, {read_cpu * 1e3:.1f} ms CPU, "
        f"{read_wall * 1e3:.1f} ms wall"
    )


if __name__ == "__main__":
    main()
