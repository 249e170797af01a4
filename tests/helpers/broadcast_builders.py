"""Builders for broadcast tests: subscribers, a status page with components, a broadcaster."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import sqlalchemy as sa

from bot.broadcast.compose import Composer
from bot.broadcast.outbox import Broadcast, Delivery, Outbox
from bot.broadcast.subscriptions import SubscriptionStore, recipient_for
from bot.broadcast.watcher import Broadcaster
from bot.status.live import LiveStatus
from bot.status.model import StatusSnapshot
from bot.status.statuspage import parse_document
from bot.status.store import SavedState, StateStore
from bot.templates import TemplateStore
from bot.wiring import details, renderers
from tests.helpers.status_builders import PROJECT, component, summary

TEMPLATES = TemplateStore.from_paths([PROJECT / "data" / "templates"])
COMPONENTS = ("Card payments", "ATMs", "Mobile app")

# (conversation id, language, components followed; none: every incident)
SUBSCRIBERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("telegram:101", "en", ()),
    ("telegram:102", "es", ("Card payments",)),
    ("slack:T1:U1", "en", ("ATMs",)),
    ("slack:T1:U2", "es", ()),
    ("web:s-1", "en", ("Card payments", "ATMs")),
)


def subscribe(
    store: SubscriptionStore,
    specs: Iterable[tuple[str, str, Sequence[str]]] = SUBSCRIBERS,
) -> int:
    """Subscribe every ``(conversation id, lang, components)`` at once."""
    items = []
    for conversation_id, lang, components in specs:
        recipient = recipient_for(conversation_id, lang)
        assert recipient is not None, conversation_id
        items.append((recipient, components))
    return store.add_many(items)


def status_with(names: Sequence[str] = COMPONENTS) -> StatusSnapshot:
    """A status page whose (leaf) components are ``names``, all operational."""
    doc = summary(components=[component(n, position=i) for i, n in enumerate(names, 1)])
    return parse_document(doc)


def save_status(state_dir: Path, names: Sequence[str] = COMPONENTS) -> None:
    """Write the last known status as the app does (``<state_dir>/status.json``)."""
    StateStore(state_dir / "status.json").save(SavedState(status_with(names), confirmed_at=None))


def broadcaster_for(
    engine: sa.Engine, *, components: Sequence[str] | None = COMPONENTS
) -> Broadcaster:
    """A broadcaster over ``engine``; the live status shows ``components`` (None: no status yet)."""
    live = LiveStatus()
    live.snapshot = status_with(components) if components is not None else None
    return Broadcaster(
        live=live,
        subscriptions=SubscriptionStore(engine),
        outbox=Outbox(engine),
        composer=Composer(TEMPLATES),
        renderers=renderers(),
        details=details(TEMPLATES),
    )


def expected_recipients(component_name: str | None = None) -> set[str]:
    """The conversations of :data:`SUBSCRIBERS` an announcement (about a component) reaches."""
    wanted = component_name.lower() if component_name else None
    return {
        cid
        for cid, _lang, comps in SUBSCRIBERS
        if wanted is None or not comps or wanted in {c.lower() for c in comps}
    }


def enqueue_to_all(
    outbox: Outbox, subscriptions: SubscriptionStore, key: str, *, text: str = "{key} for {address}"
) -> int:
    """A broadcast ``key`` to every active subscriber (``text`` may use {key} and {address})."""
    rows = [
        Delivery(
            conversation_id=s.conversation_id,
            channel=s.channel,
            address=s.address,
            lang=s.lang,
            text=text.format(key=key, address=s.address),
            subscription_id=s.id,
        )
        for s in subscriptions.active()
    ]
    broadcast_id = outbox.enqueue(Broadcast(key=key, kind="update"), rows)
    assert broadcast_id is not None
    return broadcast_id
