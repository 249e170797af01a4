"""``faro bench``: throughput and latency of FAQ turns through the full stack."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from contextlib import ExitStack
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
    default=2000,
    show_default=True,
    help="Messages in all.",
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
    think: float,
    turns: int,
    rasa_replicas: int | None,
    baseline: bool,
    as_json: bool,
) -> None:
    """Drive N concurrent conversations of FAQ questions and print msg/s, p50, p99, errors."""

    from bot.benchmark import app_sender, drive
    from bot.runner import RunnerError, default_replicas
    from bot.stack import running_stack
    from bot.templates import TemplateStore

    settings = load_settings(secrets=False)
    questions = _faq_questions(settings.faq.paths)
    templates = TemplateStore.from_paths(settings.template_paths)
    failure = templates.render("dialogue_unavailable", "en")
    replicas = rasa_replicas or default_replicas(settings.rasa.replicas)
    results = []
    with ExitStack() as stack:
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
        results.append(
            _run(
                f"faro (FAQ turns, {replicas} Rasa)",
                app_sender(url.rstrip("/"), failure_text=failure),
                questions,
                conversations,
                messages,
                turns,
                think,
                drive,
            )
        )
    if baseline:
        results.append(_baseline(settings, conversations, messages, turns, think))
    _print(results, as_json)


def _run(
    name: str,
    send: Any,
    questions: list[str],
    conversations: int,
    messages: int,
    turns: int,
    think: float,
    drive: Any,
) -> Any:
    with click.progressbar(length=messages, label=name, file=sys.stderr) as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        return asyncio.run(
            drive(
                name=name,
                send=send,
                questions=questions,
                conversations=conversations,
                messages=messages,
                turns=turns,
                think_s=think,
                on_progress=progress,
            )
        )


def _baseline(settings: Any, conversations: int, messages: int, turns: int, think: float) -> Any:
    from bot.baseline import start_rasa_init_bot
    from bot.benchmark import MOODBOT_MESSAGES, drive, rasa_sender
    from bot.runner import RunnerError, stop
    from bot.stack import free_port

    try:
        with spinner("Preparing the bare `rasa init` bot (trained once, then cached)"):
            port = free_port()
            proc = start_rasa_init_bot(settings, port=port)
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    try:
        return _run(
            "baseline: bare `rasa init` bot",
            rasa_sender(f"http://127.0.0.1:{port}"),
            list(MOODBOT_MESSAGES),
            conversations,
            messages,
            turns,
            think,
            drive,
        )
    finally:
        stop(proc)


def _faq_questions(paths: Any) -> list[str]:
    from faq_index import FaqIndexError, load_faq_files

    try:
        entries = load_faq_files(paths)
    except FaqIndexError as exc:
        raise UserError(str(exc)) from None
    questions = [q for e in entries for q in e.question.values()]
    questions += [p for e in entries for ps in e.paraphrases.values() for p in ps]
    if not questions:
        raise UserError("the FAQ has no questions to benchmark with")
    return questions


def _print(results: list[Any], as_json: bool) -> None:
    if as_json:
        out: dict[str, Any] = {"runs": [r.as_dict() for r in results]}
        if len(results) == 2 and results[1].msg_per_s:
            out["ratio_vs_baseline"] = round(results[0].msg_per_s / results[1].msg_per_s, 2)
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(
        f"{'run':44} {'conv':>5} {'msgs':>6} {'msg/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
    )
    for r in results:
        cells = (r.conversations, r.messages, r.msg_per_s, r.p50_ms, r.p99_ms, r.errors)
        click.echo(f"{r.name:44} " + " ".join(f"{c:>8}" for c in cells))
    if len(results) == 2 and results[1].msg_per_s:
        click.echo(
            f"throughput ratio vs baseline: {results[0].msg_per_s / results[1].msg_per_s:.2f}x"
        )
