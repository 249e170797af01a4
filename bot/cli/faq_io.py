"""``faro faq import`` and ``faro faq export``: the FAQ in the app database, as YAML or CSV."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.errors import UserError

if TYPE_CHECKING:
    from bot.faqdb.store import FaqStore

FORMATS = click.Choice(["yaml", "csv"])


def _faq_store() -> FaqStore:
    """The FAQ store of the configured app database (``FARO_DATABASE_URL``)."""
    from bot import wiring
    from bot.db import StorageError
    from bot.faqdb.store import FaqStore
    from bot.settings import Settings, SettingsError

    try:
        return FaqStore(wiring.open_store(Settings.from_env(secrets=False)).engine)
    except (SettingsError, StorageError) as exc:
        raise UserError(str(exc)) from exc


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default=None, help="Default: from the suffix.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--retire-missing", is_flag=True, help="Retire live entries that are not in FILE.")
def import_cmd(file: Path, fmt: str | None, dry_run: bool, retire_missing: bool) -> None:
    """Add and update FAQ entries in the app database from a YAML or CSV file."""
    from bot.faqdb.files import format_of, read_entries
    from bot.store import StoreError
    from faq_index import FaqFileError

    try:
        entries = read_entries(file, format_of(file, fmt))
    except FaqFileError as exc:
        raise UserError(f"{exc} (nothing was changed)") from exc
    store = _faq_store()
    try:
        plan = store.import_entries(
            entries,
            actor=f"cli:{_user()}",
            retire_missing=retire_missing,
            dry_run=dry_run,
        )
    except StoreError as exc:
        raise UserError(f"{exc} (nothing was changed)") from exc
    prefix = "would be " if dry_run else ""
    for label, ids in (
        ("added", plan.added),
        ("changed", plan.changed),
        ("unchanged", plan.unchanged),
        ("retired", plan.retired),
    ):
        click.echo(f"{prefix}{label}: {len(ids)}" + (f"  ({', '.join(ids)})" if ids else ""))
    if dry_run:
        click.echo("dry run: nothing was changed")
    elif plan.has_changes:
        click.echo("imported: running apps serve the changes within seconds")


@click.command("export")
@click.option("--format", "fmt", type=FORMATS, default=None, help="Default: from -o, else yaml.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout."
)
def export_cmd(fmt: str | None, output: Path | None) -> None:
    """Write the live FAQ entries of the app database as YAML or CSV."""
    from bot.faqdb.files import dump_csv, dump_yaml, format_of
    from bot.store import StoreError

    chosen = fmt or (format_of(output) if output else "yaml")
    try:
        entries, _ = _faq_store().snapshot()
    except StoreError as exc:
        raise UserError(str(exc)) from exc
    text = dump_csv(entries) if chosen == "csv" else dump_yaml(entries)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"exported {len(entries)} entries to {output}", err=True)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
