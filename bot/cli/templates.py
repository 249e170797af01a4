"""``faro templates export``: the templates in service (edited in the console) as YAML files."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.errors import UserError


@click.group()
def templates() -> None:
    """The message templates kept in the app database."""


@templates.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export_cmd(folder: Path) -> None:
    """Write the templates in service to FOLDER, one YAML file per source file."""
    from bot import wiring
    from bot.console.templates_db import TemplateDb
    from bot.db import StorageError
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(secrets=False)
        db = TemplateDb.from_paths(wiring.open_store(settings).engine, settings.template_paths)
        db.seed()  # a database that never ran the app: the files' texts
        written = db.export(folder)
    except (SettingsError, StorageError, OSError) as exc:
        raise UserError(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {path}")
