"""``faro privacy export|erase|purge|audit``: customers' data, on the app database and Rasa's
tracker stores (``FARO_DATABASE_URL``, ``FARO_RASA_TRACKER_URL`` or the embedded files)."""

from __future__ import annotations

import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from bot.cli.errors import UserError

SUBJECT_HELP = "a conversation id (web:..., telegram:..., slack:T:U), an email or a phone"


@contextlib.contextmanager
def _open() -> Iterator[tuple[Any, Any]]:
    """(PersonalData, Settings) over the configured databases."""
    from bot import wiring
    from bot.db import StorageError
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(secrets=False)
    except SettingsError as exc:
        raise UserError(str(exc)) from exc
    try:
        store = wiring.open_store(settings)
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    try:
        yield wiring.personal_data(settings, store), settings
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.dispose()


def _actor(given: str | None) -> str:
    return f"cli:{given or getpass.getuser()}"[:200]


@click.group("privacy", context_settings={"help_option_names": ["-h", "--help"]})
def privacy() -> None:
    """Export or erase one customer's data; purge what is past its retention horizon."""


@privacy.command("export")
@click.argument("subject")
@click.option("--by", "by", default=None, metavar="NAME", help="Who asks (for the audit).")
def export(subject: str, by: str | None) -> None:
    """Print everything Faro holds about SUBJECT as JSON (conversation id, email or phone)."""
    with _open() as (data, _settings):
        found = data.find(subject)
        rows = data.export(found, actor=_actor(by))
    json.dump(
        {"subject": subject, "conversations": sorted(found.conversation_ids), "data": rows},
        sys.stdout,
        ensure_ascii=False,
        indent=1,
        default=str,
    )
    click.echo()


@privacy.command("erase")
@click.argument("subject")
@click.option("--yes", "-y", is_flag=True, help="Erase without asking for confirmation.")
@click.option("--by", "by", default=None, metavar="NAME", help="Who asks (for the audit).")
def erase(subject: str, yes: bool, by: str | None) -> None:
    """Erase everything Faro holds about SUBJECT (incl. Rasa's tracker); prints the counts."""
    with _open() as (data, _settings):
        found = data.find(subject)
        before = data.count(found)
        total = sum(before.values())
        if total == 0:
            click.echo(f"nothing found about {subject}")
            return
        shown = ", ".join(f"{k} {v}" for k, v in sorted(before.items()) if v)
        click.echo(f"found {total} rows ({shown}) in {len(found.conversation_ids)} conversation(s)")
        if not yes and not click.confirm("erase them all?", default=False):
            raise UserError("nothing erased")
        gone = data.erase(found, actor=_actor(by))
    click.echo(json.dumps({"erased": gone, "total": sum(gone.values())}, sort_keys=True))


@privacy.command("purge")
def purge() -> None:
    """Delete what is older than its retention horizon (FARO_RETAIN_*_DAYS) now."""
    from bot.privacy import retention_of

    with _open() as (data, settings):
        gone = data.purge(retention_of(settings), actor=_actor(None))
    click.echo(json.dumps({"purged": gone, "total": sum(gone.values())}, sort_keys=True))


@privacy.command("audit")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def audit(limit: int) -> None:
    """The latest exports, erasures and purges (subjects only as digests)."""
    with _open() as (data, _settings):
        for row in data.audit_log(limit=limit):
            counts = sum(row["counts"].values())
            digest = (row["subject_digest"] or "-")[:12]
            click.echo(
                f"{row['at']}  {row['action']:<6}  {row['actor']:<24}  {digest:<12}  {counts} rows"
            )
