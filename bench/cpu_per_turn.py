"""CPU per turn of each process of a throwaway stack (app, Rasa replicas), from /proc.

Unlike msg/s, CPU time per message does not depend on what else the machine
is doing, so two commits can be compared on a shared machine: run this once
per checkout with that checkout's interpreter, alternating, e.g.

    (cd ../old && .venv/bin/python /path/to/bench/cpu_per_turn.py --json)
    .venv/bin/python bench/cpu_per_turn.py --json

It starts Rasa and the app as ``faro up`` would (in a temporary data folder),
warms up, then drives ``-n`` turns over ``-c`` concurrent conversations and
reads each process's user+system CPU time before and after. The turns are the
FAQ's own questions, drawn with repeats, unless ``--questions FILE`` names
other ones (e.g. ``bench/questions/unseen.jsonl``), each asked at most once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

from bot.benchmark import app_sender, drive, read_questions
from bot.stack import ROOT, running_stack
from faq_index import load_faq_files

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def faq_questions() -> list[str]:
    """The sample FAQ's questions and paraphrases, every language."""
    entries = load_faq_files([ROOT / "data" / "faq"])
    texts = [q for e in entries for q in e.question.values()]
    return texts + [p for e in entries for ps in e.paraphrases.values() for p in ps]


def main() -> None:
    """Start a stack, warm it up, measure one run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--conversations", type=int, default=50)
    parser.add_argument("-n", "--messages", type=int, default=1500)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--questions", type=Path, default=None,
        help="measure on these questions (JSON lines or plain text), each asked once",
    )  # fmt: skip
    args = parser.parse_args()
    questions = faq_questions()
    measured = read_questions(args.questions) if args.questions else questions
    failure = "technical trouble"
    # all simulated users share one loopback address
    extra_env = {"FARO_WEB_RATE_PER_IP": "1000000"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), replicas=args.replicas, extra_env=extra_env) as stack,
    ):
        send = app_sender(stack.app_url, failure_text=failure)
        asyncio.run(
            drive(name="warmup", send=send, questions=questions, conversations=10,
                  messages=args.warmup)
        )  # fmt: skip
        assert stack.app is not None
        pids = {"app": stack.app.pid, "rasa": [p.pid for p in stack.rasa_procs]}
        before_app = cpu_seconds(stack.app.pid)
        before_rasa = sum(cpu_seconds(p.pid) for p in stack.rasa_procs)
        result = asyncio.run(
            drive(name=str(ROOT), send=send, questions=measured,
                  conversations=args.conversations, messages=args.messages,
                  warmup=0 if args.questions else 20, repeat=args.questions is None)
        )  # fmt: skip
        app_ms = (cpu_seconds(stack.app.pid) - before_app) * 1000 / result.messages
        rasa_ms = (
            (sum(cpu_seconds(p.pid) for p in stack.rasa_procs) - before_rasa)
            * 1000
            / result.messages
        )
    figures = {
        **result.as_dict(),
        "app_cpu_ms_per_msg": round(app_ms, 2),
        "rasa_cpu_ms_per_msg": round(rasa_ms, 2),
        "pids": pids,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{result.msg_per_s} msg/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
            f"errors {result.errors}; CPU per message: app {app_ms:.2f} ms, "
            f"Rasa {rasa_ms:.2f} ms (all replicas)"
        )


if __name__ == "__main__":
    main()
