"""``faro db``: the app database's schema (migrations without starting the app)."""

from __future__ import annotations

import click

from bot.cli.errors import UserError
from bot.cli.serving import load_settings


@click.group()
def db() -> None:
    """The app database (FARO_DATABASE_URL): schema revision and migrations."""


@db.command()
@click.option(
    "--revision",
    default="head",
    show_default=True,
    help="Alembic revision to bring the schema to.",
)
def upgrade(revision: str) -> None:
    """Bring the schema of the app database to REVISION (default: the newest).

    Safe to run from several processes at once (one migrates, the others wait
    and then find nothing to do) and a no-op when the schema is already there.
    The app also migrates when it starts; run this first to migrate once,
    before new replicas start (the Kubernetes manifests' migration Job does).
    """
    from bot.db import Database, StorageError

    settings = load_settings(secrets=False)
    try:
        database = Database.open(settings.database.url, migrate=False)
        try:
            before = database.revision()
            database.upgrade(revision)
            after = database.revision()
        finally:
            database.dispose()
    except StorageError as exc:
        raise UserError(str(exc)) from None
    if before == after:
        click.echo(f"database schema already at {after}")
    else:
        click.echo(f"database schema migrated from {before or 'nothing'} to {after}")


@db.command()
def revision() -> None:
    """Print the schema revision the app database is at ('none' before any migration)."""
    from bot.db import Database, StorageError

    settings = load_settings(secrets=False)
    try:
        database = Database.open(settings.database.url, migrate=False)
        try:
            click.echo(database.revision() or "none")
        finally:
            database.dispose()
    except StorageError as exc:
        raise UserError(str(exc)) from None


__all__ = ["db"]
