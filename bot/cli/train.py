"""``faro train``: train the Rasa model when its inputs changed."""

from __future__ import annotations

import click

from bot.cli.errors import UserError
from bot.cli.serving import load_settings, spinner


@click.command()
@click.option("--force", is_flag=True, help="Train even if a model for these inputs exists.")
def train(force: bool) -> None:
    """Train the Rasa model into .faro/models (named by the hash of its inputs)."""
    from bot.runner import RasaProject, RunnerError

    settings = load_settings(secrets=False)
    project = RasaProject.from_settings(settings)
    try:
        project.check_rasa()
        if force and project.model_path().exists():
            project.model_path().unlink()
        with spinner("Training the Rasa model") as tick:
            model = project.ensure_model(on_tick=tick)
    except RunnerError as exc:
        raise UserError(str(exc)) from None
    click.echo(str(model))
