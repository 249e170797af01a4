"""``faro status``: read a status feed and show the normalized state."""

from __future__ import annotations

import asyncio
import json
import logging

import click

from bot.cli.errors import UserError
from bot.status.codec import snapshot_to_dict
from bot.status.errors import StatusError
from bot.status.model import ComponentStatus, Incident, StatusSnapshot
from bot.status.sources import source_for
from bot.status.wording import plain_text

logger = logging.getLogger(__name__)


def _default_feed() -> str:
    from bot.cli.serving import load_settings

    return load_settings(secrets=False).status.feed


@click.group()
def status() -> None:
    """Read the incident status from a feed."""


@status.command()
@click.option(
    "--feed",
    "feed",
    default=None,
    metavar="URL_OR_FILE",
    help="A Statuspage URL, an Atom/RSS URL or a local file [FARO_STATUS_FEED, "
    "data/status/sample.json].",
)
@click.option("--timeout", default=10.0, show_default=True, help="HTTP timeout in seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the normalized state as JSON.")
def show(feed: str | None, timeout: float, as_json: bool) -> None:
    """Fetch the feed once and print its normalized state."""
    spec = feed or _default_feed()
    try:
        snapshot = asyncio.run(_fetch(spec, timeout))
    except StatusError as exc:
        raise UserError(f"cannot read the status feed: {exc}") from exc
    if as_json:
        click.echo(json.dumps(snapshot_to_dict(snapshot), indent=2, ensure_ascii=False))
    else:
        click.echo(render(snapshot))


async def _fetch(spec: str, timeout: float) -> StatusSnapshot:
    source = source_for(spec, timeout=timeout)
    try:
        snapshot = await source.fetch()
    finally:
        await source.aclose()
    assert snapshot is not None  # a first fetch always returns a document
    return snapshot


def render(snapshot: StatusSnapshot) -> str:
    """The snapshot as text for a terminal."""
    lines = [f"{snapshot.page.name or 'Status page'}: {snapshot.description or snapshot.indicator}"]
    if snapshot.as_of:
        lines.append(f"as of {snapshot.as_of:%Y-%m-%d %H:%M} UTC")
    if snapshot.components:
        lines.append("")
        lines.append("Components:")
        for c in snapshot.leaf_components():
            mark = "ok" if c.status is ComponentStatus.OPERATIONAL else "!!"
            lines.append(f"  {mark} {c.name}: {c.status.value}")
    for title, items in (
        ("Open incidents", snapshot.open_incidents()),
        ("Maintenances", sorted(snapshot.maintenances, key=lambda m: m.id)),
        ("Resolved incidents", snapshot.resolved_incidents()[:5]),
    ):
        if items:
            lines.append("")
            lines.append(f"{title}:")
            lines.extend(_incident_lines(i) for i in items)
    if not snapshot.open_incidents():
        lines.append("")
        lines.append("No open incidents.")
    return "\n".join(lines)


def _incident_lines(incident: Incident) -> str:
    phase = f"[{incident.status.value}, impact {incident.impact.value}]"
    head = f"  {phase} {incident.name} ({incident.id})"
    update = incident.latest_update
    if not update:
        return head
    when = f"{update.display_at:%Y-%m-%d %H:%M} UTC" if update.display_at else "undated"
    text = plain_text(update.body)
    text = text if len(text) <= 200 else text[:197] + "..."
    return f"{head}\n      latest ({when}, {update.status.value}): {text}"
