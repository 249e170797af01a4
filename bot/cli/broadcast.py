"""``faro announce``, ``faro broadcasts``, ``faro deliveries``: staff announcements from a shell.

They work on the app database (``FARO_DATABASE_URL``); the running app's
delivery worker polls the outbox, so what ``announce`` writes is delivered by
the app without a restart.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click

from bot.cli.errors import UserError


class OneLineCommand(click.Command):
    """A command whose usage mistakes (bad flags, values) end in one ``error:`` line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does; a usage error becomes a :class:`UserError`."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise UserError(f"{exc.format_message()} (see faro {self.name} --help)") from exc


@dataclass
class _Context:
    """What the commands work with: the broadcaster over the app database, no poller."""

    broadcaster: Any  # bot.broadcast.watcher.Broadcaster (imported lazily)
    components: list[str] | None  # the saved status page's components; None: no saved status


@contextlib.contextmanager
def _open(*, with_templates: bool = True) -> Iterator[_Context]:
    """Settings from the environment, the database, templates and the last saved status."""
    import sqlalchemy as sa

    from bot import wiring
    from bot.db import StorageError
    from bot.settings import Settings, SettingsError
    from bot.templates import TemplateError, TemplateStore

    try:
        settings = Settings.from_env(secrets=False)
    except SettingsError as exc:
        raise UserError(str(exc)) from exc
    try:
        templates = (
            wiring.load_templates(settings) if with_templates else TemplateStore.from_paths(())
        )
    except (TemplateError, OSError) as exc:
        raise UserError(f"cannot load the templates: {exc}") from exc
    try:
        store = wiring.open_store(settings)
    except StorageError as exc:
        raise UserError(str(exc)) from exc
    live = wiring.saved_status(settings)
    snapshot = live.snapshot
    try:
        broadcaster = wiring.build_broadcaster(settings, store, templates, live)
        components = [c.name for c in snapshot.leaf_components()] if snapshot else None
        yield _Context(broadcaster, components)
    except sa.exc.SQLAlchemyError as exc:
        raise UserError(f"the app database failed: {type(exc).__name__}: {exc}") from exc
    finally:
        store.dispose()


@click.command("announce", cls=OneLineCommand)
@click.option("--en", "en", default="", metavar="TEXT", help="The announcement in English.")
@click.option("--es", "es", default="", metavar="TEXT", help="The announcement in Spanish.")
@click.option(
    "--component",
    metavar="NAME",
    default=None,
    help="Only subscribers of this status page component (and those of every incident).",
)
@click.option("--preview", is_flag=True, help="Show what each channel would get; send nothing.")
@click.option("--yes", "-y", is_flag=True, help="Send without asking for confirmation.")
def announce(en: str, es: str, component: str | None, preview: bool, yes: bool) -> None:
    """Send a staff announcement to subscribers (at least one of --en, --es)."""
    from bot.broadcast.announce import (
        AnnouncementError,
        announcement_texts,
        new_key,
        recipients,
        resolve_component,
    )
    from bot.broadcast.announce import preview as preview_of

    try:
        texts = announcement_texts(en, es)
    except AnnouncementError as exc:
        raise UserError(str(exc)) from exc
    with _open() as ctx:
        target: list[str] = []
        if component is not None:
            if not component.strip():
                raise UserError("--component: give a component name (or leave it out)")
            if ctx.components is None:
                click.echo(
                    "warning: no saved status to check the component name against; "
                    f"targeting {component.strip()!r} as given",
                    err=True,
                )
                target = [" ".join(component.split())]
            else:
                try:
                    target = [resolve_component(component, ctx.components)]
                except AnnouncementError as exc:
                    raise UserError(str(exc)) from exc
        broadcaster = ctx.broadcaster
        subscribers = broadcaster.subscriptions.active()
        audience = f"subscribers of {target[0]}" if target else "all subscribers"
        count = len(recipients(subscribers, target))
        if preview:
            click.echo(f"Preview (nothing sent): {count} recipient(s), {audience}")
            for p in preview_of(
                broadcaster.composer,
                broadcaster.renderers,
                subscribers,
                texts,
                target,
                details=broadcaster.details,
            ):
                click.echo("")
                click.echo(f"== {p.channel} / {p.lang}: {p.recipients} recipient(s)")
                # email: the subject and text part; SMS: the text as sent and its segments
                if p.detail is not None and p.detail.subject:
                    click.echo(f"Subject: {p.detail.subject}")
                    click.echo(p.detail.text.rstrip("\n"))
                    continue
                for message in p.messages:
                    click.echo(message)
                if p.detail is not None and p.detail.segments:
                    d = p.detail
                    click.echo(f"({d.segments} segment(s), {d.encoding}, {d.units} characters)")
            return
        if not yes:
            click.confirm(f"Send to {count} recipient(s), {audience}?", abort=True, err=True)
        broadcast_id = broadcaster.announce(
            texts, components=target, created_by=f"cli:{_user()}", key=new_key()
        )
        click.echo(f"broadcast {broadcast_id}: {count} recipient(s), {audience}")
        click.echo("the running app delivers it; follow with: faro broadcasts", err=True)


@click.command("broadcasts", cls=OneLineCommand)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def broadcasts(limit: int, as_json: bool) -> None:
    """List recent broadcasts with their delivery progress."""
    from bot.broadcast.outbox import STATES

    with _open(with_templates=False) as ctx:
        items = ctx.broadcaster.outbox.progress(limit=limit)
    rows = [
        {
            "id": b.id,
            "key": b.key,
            "kind": b.kind,
            "title": b.title,
            "created_at": b.created_at.isoformat(),
            "created_by": b.created_by,
            "recipients": b.recipients,
            "counts": {s: b.counts.get(s, 0) for s in STATES},
            "done": b.done,
        }
        for b in items
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No broadcasts yet.")
        return
    for r in rows:
        counts = " ".join(f"{s} {n}" for s, n in r["counts"].items())
        state = "done" if r["done"] else "in progress"
        when = r["created_at"][:19].replace("T", " ")
        click.echo(
            f"#{r['id']} {when} UTC {r['kind']} by {r['created_by']}: "
            f"{r['recipients']} recipient(s), {counts} ({state})"
        )
        if r["title"]:
            click.echo(f"    {_one_line(r['title'])}")


@click.command("deliveries", cls=OneLineCommand)
@click.argument("conversation_id")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def deliveries(conversation_id: str, limit: int, as_json: bool) -> None:
    """Show what one conversation was sent (newest first) and its subscription."""
    conversation_id = conversation_id.strip()
    if not conversation_id:
        raise UserError("CONVERSATION_ID: give a conversation id such as telegram:123456789")
    with _open(with_templates=False) as ctx:
        sub = ctx.broadcaster.subscriptions.get(conversation_id)
        rows = ctx.broadcaster.outbox.audit(conversation_id=conversation_id, limit=limit)
    doc: dict[str, Any] = {
        "conversation_id": conversation_id,
        "subscription": None
        if sub is None
        else {
            "active": sub.active,
            "channel": sub.channel,
            "lang": sub.lang,
            "components": list(sub.components),
            "created_at": sub.created_at.isoformat(),
            "retired_reason": sub.retired_reason,
        },
        "deliveries": [
            {
                "outbox_id": r.outbox_id,
                "broadcast_id": r.broadcast_id,
                "broadcast_key": r.broadcast_key,
                "kind": r.kind,
                "update_id": r.update_id,
                "channel": r.channel,
                "lang": r.lang,
                "state": r.state,
                "attempts": r.attempts,
                "interrupted": r.interrupted,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "error": r.error,
                "text": r.text,
            }
            for r in rows
        ],
    }
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    subscription = doc["subscription"]
    if subscription is None:
        click.echo(f"{conversation_id}: no subscription")
    else:
        state = "active" if subscription["active"] else "stopped"
        if subscription["retired_reason"]:
            state += f" ({subscription['retired_reason']})"
        topics = ", ".join(subscription["components"]) or "every incident"
        click.echo(f"{conversation_id}: {state}, {subscription['lang']}, {topics}")
    if not doc["deliveries"]:
        click.echo("Nothing was sent to this conversation.")
    for d in doc["deliveries"]:
        when = (d["sent_at"] or "")[:19].replace("T", " ") or "not sent"
        extra = f" ({d['error']})" if d["error"] else ""
        click.echo(
            f"#{d['broadcast_id']} {d['kind']} {d['broadcast_key']}: {d['state']}{extra}, "
            f"{when}, {d['attempts']} attempt(s)"
        )
        click.echo(f"    {_one_line(d['text'])}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
