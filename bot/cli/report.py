"""``faro report INCIDENT_ID``: the post-incident report as a standalone HTML file or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.errors import UserError


@click.command("report", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("incident_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "csv"]),
    default="html",
    show_default=True,
    help="html: the report with its chart, one self-contained file; csv: one row per "
    "timeline event (at, kind, title, status, detail, channel, count).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@click.option("--lang", type=click.Choice(["en", "es"]), default="en", show_default=True)
def report(incident_id: str, fmt: str, output: Path | None, lang: str) -> None:
    """The post-incident report of INCIDENT_ID (an incident id of the status history).

    A timeline of status updates, broadcasts, staff alerts, handoffs and
    reviews; questions by topic over time; the top unanswered questions; who
    was told what and when; the customers who agreed to be contacted.
    Reads the app database (FARO_DATABASE_URL) and the saved status.
    """
    from bot import wiring
    from bot.admin.report import render_csv, render_file
    from bot.db import StorageError
    from bot.rhythm.report import build_report
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(secrets=False)
        store = wiring.open_store(settings)
    except (SettingsError, StorageError) as exc:
        raise UserError(str(exc)) from exc
    try:
        found = build_report(
            wiring.saved_status(settings).snapshot, incident_id, engine=store.engine
        )
    except StorageError as exc:  # UnknownIncident too: one line
        raise UserError(str(exc)) from exc
    finally:
        store.dispose()
    text = render_csv(found) if fmt == "csv" else render_file(found, lang)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(f"report of {incident_id} written to {output}", err=True)
