"""Throughput and CPU per turn of the scale-out, 1 -> 2 app and Rasa replicas, same run.

Starts the topology of ``faro up --scale-out`` (bot/scaleout.py) once per
shape, against the PostgreSQL and Redis on this machine (a fresh database per
shape, dropped afterwards), and drives unseen questions
(bench/questions/unseen.jsonl, never the same text twice) through the load
balancer, closed loop, ``-c`` concurrent conversations. Prints msg/s,
p50/p95/p99, errors and the CPU per turn of each kind of process (app
replicas, Rasa replicas, HAProxy; PostgreSQL and Redis are not ours to read).

    .venv/bin/python bench/scaleout.py --shapes 1x1,2x2 -n 400 -c 32 [--json]

A shape is APPSxRASA. On a 2-core machine more replicas cannot add cores:
what grows a cluster is the CPU per turn, which more machines divide.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from bot.benchmark import app_sender, cpu_seconds, drive, read_questions
from bot.scaleout import Topology, scale_out, wait_until_serving
from bot.stack import ROOT, free_port
from bot.templates import TemplateStore


def _drop(database_url: str, names: list[str]) -> None:
    from sqlalchemy.engine import make_url

    admin = make_url(database_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_shape(
    apps: int, rasas: int, *, pg: str, redis: str, questions: list[str], n: int, c: int
) -> dict[str, Any]:
    name = f"faro_bench_{uuid.uuid4().hex[:8]}"
    database_url = f"{pg.rstrip('/')}/{name}"
    topology = Topology(
        database_url=database_url,
        redis_url=redis,
        redis_channel=f"faro:bench:{name}",
        app_replicas=apps,
        rasa_replicas=rasas,
        port=free_port(),
    )
    failure = TemplateStore.from_paths([ROOT / "data/templates"]).render(
        "dialogue_unavailable", "en"
    )
    with tempfile.TemporaryDirectory(prefix="faro-bench-scaleout-") as tmp:
        stack = scale_out(
            topology,
            data_dir=Path(tmp),
            extra_env={"FARO_WEB_RATE_PER_IP": "1000000", "FARO_WEB_RATE_PER_SESSION": "10000"},
        )
        try:
            stack.start()
            wait_until_serving(stack, timeout_s=240)
            procs: dict[str, list[int]] = {
                "app": [p.pid for p in stack.apps if p],
                "rasa": [p.pid for p in stack.rasas if p],
                "haproxy": [stack.lb.pid] if stack.lb else [],
            }
            before: dict[str, float] = {}

            def mark() -> None:
                before.update({k: sum(cpu_seconds(p) for p in v) for k, v in procs.items()})

            result = asyncio.run(
                drive(
                    name=f"{apps} app x {rasas} Rasa",
                    send=app_sender(stack.url, failure_text=failure),
                    questions=questions,
                    conversations=c,
                    messages=n,
                    warmup=20,
                    repeat=False,
                    on_start=mark,
                )
            )
            cpu = {
                k: round(1000 * (sum(cpu_seconds(p) for p in v) - before[k]) / n, 1)
                for k, v in procs.items()
            }
            cpu["total"] = round(sum(cpu.values()), 1)
            return result.with_cpu(cpu).as_dict()
        finally:
            stack.close()
            time.sleep(1)
            _drop(pg.rstrip("/") + "/postgres", [name, f"{name}_rasa"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default="1x1,2x2", help="APPSxRASA, comma-separated")
    parser.add_argument("-n", type=int, default=400, help="measured turns per shape")
    parser.add_argument("-c", type=int, default=32, help="concurrent conversations")
    parser.add_argument(
        "--pg",
        default=os.environ.get("FARO_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
    )
    parser.add_argument(
        "--redis", default=os.environ.get("FARO_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--questions", type=Path, default=ROOT / "bench/questions/unseen.jsonl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = read_questions(args.questions)
    rows = []
    for shape in args.shapes.split(","):
        apps, rasas = (int(x) for x in shape.lower().split("x"))
        row = run_shape(
            apps, rasas, pg=args.pg, redis=args.redis, questions=questions, n=args.n, c=args.c
        )
        rows.append(row)
        if not args.json:
            cpu = ", ".join(f"{k} {v}" for k, v in row["cpu_ms_per_msg"].items())
            print(
                f"{row['name']:>16}: {row['msg_per_s']:6.1f} msg/s  p50 {row['p50_ms']:.0f} ms"
                f"  p95 {row['p95_ms']:.0f}  p99 {row['p99_ms']:.0f}  errors {row['errors']}"
                f"  CPU ms/turn: {cpu}",
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
