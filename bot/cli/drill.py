"""``faro drill run``: rehearse an incident on a sandbox stack and get the drill report."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from bot.cli.errors import UserError
from bot.drill.replay import DrillError
from bot.drill.run import iter_lines, read_questions, run_drill
from bot.settings import Settings, SettingsError


@click.group("drill")
def drill() -> None:
    """Rehearse: replay a recorded incident with simulated customers, safely."""


@drill.command("run")
@click.argument("incident", type=click.Path(path_type=Path))
@click.option(
    "--speed", default=60.0, show_default=True, help="Replay this many times faster than real."
)
@click.option(
    "--questions",
    "questions_path",
    type=click.Path(path_type=Path),
    help="Questions of simulated customers: JSON lines {text, lang} or one per line.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--keep",
    "keep_dir",
    type=click.Path(path_type=Path),
    help="Keep the drill's data folder here (default: a temporary folder, removed after).",
)
def run(
    incident: Path, speed: float, questions_path: Path | None, as_json: bool, keep_dir: Path | None
) -> None:
    """Replay INCIDENT (a recorded Statuspage incident, JSON) through a sandbox stack.

    The drill starts its own Rasa server and app with their own data folder:
    real subscribers are never reached, Telegram, Slack and alert webhooks are
    off, and every reply is marked as a drill. Staff may practise in the drill's
    console while it runs (its address is printed).
    """
    try:
        settings = Settings.from_env(secrets=False)
        questions = read_questions(questions_path) if questions_path else None
        if not incident.exists():
            raise DrillError(f"{incident}: no such file")
        with tempfile.TemporaryDirectory(prefix="faro-drill-") as tmp:
            data_dir = keep_dir or Path(tmp)
            report = run_drill(
                incident,
                project=settings.project_dir,
                data_dir=data_dir,
                speed=speed,
                questions=questions,
                progress=lambda m: click.echo(m, err=True),
            )
    except (DrillError, SettingsError) as exc:
        raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=1))
    else:
        for line in iter_lines(report):
            click.echo(line)
