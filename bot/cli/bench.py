"""``faro bench``: throughput and latency of FAQ turns through the full stack."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bot.cli.errors import UserError
from bot.cli.serving import load_settings, spinner


@click.command()
@click.option(
    "--url",
    default=None,
    help="A running app (e.g. from `faro up`); default: start a throwaway stack.",
)
@click.option(
    "-c",
    "--conversations",
    type=click.IntRange(1, 2000),
    default=100,
    show_default=True,
    help="Concurrent conversations.",
)
@click.option(
    "-n",
    "--messages",
    type=click.IntRange(1, 1_000_000),
    default=1000,
    show_default=True,
    help="Messages in all.",
)
@click.option(
    "--questions",
    "questions_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Questions to ask: JSON lines with 'text', or one per line "
    "[default: bench/questions/unseen.jsonl, questions the sample FAQ never saw].",
)
@click.option(
    "--repeat",
    is_flag=True,
    help="Allow a question to be asked more than once (by default none is: an index "
    "remembers recent questions, so repeats are cheaper than a surge of new ones).",
)
@click.option(
    "--open-loop",
    "open_loop",
    type=click.FloatRange(0.1, 10_000),
    default=None,
    help="Arrivals per second, independent of the answers (a surge), instead of "
    "conversations that wait for each answer.",
)
@click.option(
    "--think",
    type=click.FloatRange(0, 600),
    default=0.0,
    show_default=True,
    help="Mean pause in seconds between a user's questions (0: saturate the server).",
)
@click.option(
    "--turns",
    type=click.IntRange(1, 1000),
    default=4,
    show_default=True,
    help="Questions per conversation before a user starts a new one.",
)
@click.option(
    "--rasa-replicas",
    type=click.IntRange(1, 16),
    default=None,
    help="Rasa processes of the throwaway stack [FARO_RASA_REPLICAS, 2 on multi-core machines].",
)
@click.option(
    "--baseline",
    is_flag=True,
    help="Also measure a bare `rasa init` bot on this machine, in the same run.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def bench(
    url: str | None,
    conversations: int,
    messages: int,
    questions_file: Path | None,
    repeat: bool,
    open_loop: float | None,
    think: float,
    turns: int,
    rasa_replicas: int | None,
    baseline: bool,
    as_json: bool,
) -> None:
    """Drive N concurrent conversations of unseen questions; print msg/s, p50/p95/p99, errors.

    Against a throwaway stack (the default) it also prints the CPU per message
    of each process, which unlike msg/s does not depend on the machine's load.
    """

    from bot.benchmark import app_sender
    from bot.runner import RunnerError, default_replicas
    from bot.stack import running_stack
    from bot.templates import TemplateStore

    settings = load_settings(secrets=False)
    source = questions_file or settings.project_dir / "bench" / "questions" / "unseen.jsonl"
    questions = _questions(source)
    run = Run(messages, conversations, turns, think, open_loop, repeat)
    run.check(questions)
    templates = TemplateStore.from_paths(settings.template_paths)
    failure = templates.render("dialogue_unavailable", "en")
    replicas = rasa_replicas or default_replicas(settings.rasa.replicas)
    results = []
    with ExitStack() as stack:
        pids: dict[str, int] = {}
        if url is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faro-bench-")))
            try:
                with spinner(f"Starting a throwaway stack ({replicas} Rasa replica(s))"):
                    running = stack.enter_context(
                        running_stack(
                            tmp,
                            root=settings.project_dir,
                            replicas=replicas,
                            # all simulated users share one loopback address
                            extra_env={"FARO_WEB_RATE_PER_IP": "1000000"},
                        )
                    )
            except RunnerError as exc:
                raise UserError(str(exc)) from None
            url = running.app_url
            assert running.app is not None
            pids = {"app": running.app.pid}
            pids.update({f"rasa-{i}": p.pid for i, p in enumerate(running.rasa_procs)})
        sender = app_sender(url.rstrip("/"), failure_text=failure)
        results.append(run.measure(f"faro ({replicas} Rasa)", sender, questions, pids))
    if baseline:
        results.append(_baseline(settings, run, questions))
    _print(results, as_json)


@dataclass(frozen=True)
class Run:
    """One load shape, applied the same way to Faro and the baseline."""

    messages: int
    conversations: int
    turns: int
    think: float
    open_loop: float | None
    repeat: bool

    def check(self, questions: list[str]) -> None:
        """Refuse a run the question pool cannot fill without repeats."""
        from bot.benchmark import TooFewQuestions, plan

        try:
            plan(questions, self.messages, repeat=self.repeat, warmup=WARMUP)
        except TooFewQuestions as exc:
            raise UserError(f"{exc} (-n, or --repeat)") from None

    def measure(self, name: str, send: Any, questions: list[str], pids: dict[str, int]) -> Any:
        """Drive the run with a progress bar; CPU per message of ``pids`` when given."""
        from bot.benchmark import AppSender, cpu_seconds, drive, drive_open_loop

        with click.progressbar(length=self.messages, label=name, file=sys.stderr) as bar:
            last = [0]

            def progress(done: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            before: dict[str, float] = {}

            def start() -> None:
                before.update({k: cpu_seconds(p) for k, p in pids.items()})
                if isinstance(send, AppSender):
                    send.held = 0  # the measured turns only

            common: dict[str, Any] = dict(
                name=name,
                send=send,
                questions=questions,
                messages=self.messages,
                conversations=self.conversations,
                warmup=WARMUP,
                repeat=self.repeat,
                on_progress=progress,
                on_start=start,
            )
            if self.open_loop:
                result = asyncio.run(drive_open_loop(rate=self.open_loop, **common))
            else:
                result = asyncio.run(drive(turns=self.turns, think_s=self.think, **common))
        used = {k: (cpu_seconds(p) - before[k]) * 1000 / result.messages for k, p in pids.items()}
        if isinstance(send, AppSender):
            result = result.with_held(send.held)
        return result.with_cpu({k: round(v, 2) for k, v in used.items()})


WARMUP = 20


def _baseline(settings: Any, run: Run, questions: list[str]) -> Any:
    from bot.baseline import start_rasa_init_bot
    from bot.benchmark import rasa_sender
    from bot.runner import RunnerError, stop
    from bot.stack import free_port

    try:
        with spinner("Preparing the bare `rasa init` bot (trained once, then cached)"):
            port = free_port()
            proc = start_rasa_init_bot(settings, port=port)
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    try:
        return run.measure(
            "baseline: bare `rasa init` bot",
            rasa_sender(f"http://127.0.0.1:{port}"),
            questions,
            {"rasa": proc.pid},
        )
    finally:
        stop(proc)


def _questions(path: Path) -> list[str]:
    from bot.benchmark import read_questions

    try:
        return read_questions(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"cannot read questions: {exc}") from None


def _print(results: list[Any], as_json: bool) -> None:
    ratio = (
        round(results[0].msg_per_s / results[1].msg_per_s, 2)
        if len(results) == 2 and results[1].msg_per_s
        else None
    )
    if as_json:
        out: dict[str, Any] = {"runs": [r.as_dict() for r in results]}
        if ratio is not None:
            out["ratio_vs_baseline"] = ratio
        click.echo(json.dumps(out, indent=2))
        return
    head = ("conv", "msgs", "msg/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    click.echo(f"{'run':36} " + " ".join(f"{h:>8}" for h in head))
    for r in results:
        cells = (r.conversations, r.messages, r.msg_per_s, r.p50_ms, r.p95_ms, r.p99_ms, r.errors)
        click.echo(f"{r.name:36} " + " ".join(f"{c:>8}" for c in cells))
        if r.open_loop_rate:
            click.echo(f"  open loop: {r.open_loop_rate} arrivals/s offered")
        if r.held:
            click.echo(f"  passed to a person's queue (not errors): {r.held}")
        if r.cpu_ms_per_msg:
            parts = ", ".join(f"{k} {v} ms" for k, v in r.cpu_ms_per_msg.items())
            click.echo(f"  CPU per message: {parts}")
    if ratio is not None:
        click.echo(f"throughput ratio vs baseline: {ratio:.2f}x")
