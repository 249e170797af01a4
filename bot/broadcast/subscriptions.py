"""Who gets incident updates: subscriptions, incident askers, offers made."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import sqlalchemy as sa

from bot.broadcast.tables import (
    incident_askers,
    subscription_offers,
    subscriptions,
)
from bot.db import as_utc
from bot.status.live import utc_now

logger = logging.getLogger(__name__)

CHANNELS = ("telegram", "slack", "web", "email", "sms")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where one conversation can be reached without it asking: channel and address."""

    conversation_id: str
    channel: str
    address: str
    lang: str


def recipient_for(conversation_id: str, lang: str) -> Recipient | None:
    """The push address of a conversation id (``telegram:<chat>``, ``slack:<team>:<user>``,
    ``web:<session>``); None for channels that cannot be pushed to."""
    channel, _, rest = conversation_id.partition(":")
    if not rest:
        return None
    if channel == "telegram" and rest.lstrip("-").isdigit():
        return Recipient(conversation_id, channel, rest, lang)
    if channel == "slack":
        # chat.postMessage with a user id as channel posts to the app's DM with that user.
        user = rest.rpartition(":")[2]
        return Recipient(conversation_id, channel, user, lang) if user else None
    if channel == "web":
        return Recipient(conversation_id, channel, conversation_id, lang)
    return None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A conversation that asked for incident updates."""

    id: int
    conversation_id: str
    channel: str
    address: str
    lang: str
    components: tuple[str, ...]  # lower-case names; empty: every incident
    active: bool
    created_at: datetime
    retired_reason: str | None = None

    def wants(self, components: Iterable[str]) -> bool:
        """True when an event about ``components`` (names) concerns this subscriber.

        An event naming no component concerns everyone.
        """
        if not self.components:
            return True
        named = {c.lower() for c in components}
        return not named or bool(named & set(self.components))

    @property
    def recipient(self) -> Recipient:
        """Where to send this subscriber's updates."""
        return Recipient(self.conversation_id, self.channel, self.address, self.lang)


class SubscribeOutcome(Enum):
    """What :meth:`SubscriptionStore.subscribe` did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class SubscriptionStore:
    """Subscriptions and incident askers in the app database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> sa.Engine:
        """The app database engine."""
        return self._engine

    def subscribe(self, recipient: Recipient, components: Sequence[str] = ()) -> SubscribeOutcome:
        """Subscribe (or re-activate, or change the components of) a conversation."""
        names = "\n".join(sorted({c.strip().lower() for c in components if c.strip()}))
        now = utc_now()
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(subscriptions).where(
                    subscriptions.c.conversation_id == recipient.conversation_id
                )
            ).first()
            values = {
                "channel": recipient.channel,
                "address": recipient.address,
                "lang": recipient.lang,
                "components": names,
                "active": True,
                "updated_at": now,
                "retired_at": None,
                "retired_reason": None,
            }
            if row is None:
                conn.execute(
                    subscriptions.insert().values(
                        conversation_id=recipient.conversation_id, created_at=now, **values
                    )
                )
                return SubscribeOutcome.CREATED
            if row.active and row.components == names and row.lang == recipient.lang:
                return SubscribeOutcome.UNCHANGED
            conn.execute(
                subscriptions.update().where(subscriptions.c.id == row.id).values(**values)
            )
            return SubscribeOutcome.UPDATED

    def unsubscribe(self, conversation_id: str, *, reason: str = "unsubscribed") -> bool:
        """Stop updates to a conversation; False when it was not subscribed."""
        return self._retire(subscriptions.c.conversation_id == conversation_id, reason)

    def retire(self, subscription_id: int, reason: str) -> bool:
        """Stop updates to a subscriber that cannot be reached (e.g. blocked the bot)."""
        return self._retire(subscriptions.c.id == subscription_id, reason)

    def _retire(self, where: sa.ColumnElement[bool], reason: str) -> bool:
        with self._engine.begin() as conn:
            result = conn.execute(
                subscriptions.update()
                .where(where, subscriptions.c.active.is_(True))
                .values(
                    active=False,
                    retired_at=utc_now(),
                    retired_reason=reason[:200],
                    updated_at=utc_now(),
                )
            )
        return result.rowcount > 0

    def get(self, conversation_id: str) -> Subscription | None:
        """The subscription of a conversation (active or not), if any."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(subscriptions).where(subscriptions.c.conversation_id == conversation_id)
            ).first()
        return _subscription(row) if row is not None else None

    def active(self) -> list[Subscription]:
        """Every active subscription, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(subscriptions)
                .where(subscriptions.c.active.is_(True))
                .order_by(subscriptions.c.id)
            ).all()
        return [_subscription(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Active subscribers per channel, and retired ones under ``retired``."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    subscriptions.c.channel, subscriptions.c.active, sa.func.count()
                ).group_by(subscriptions.c.channel, subscriptions.c.active)
            ).all()
        counts: dict[str, int] = {}
        for channel, active, n in rows:
            key = channel if active else "retired"
            counts[key] = counts.get(key, 0) + n
        return counts

    def add_many(self, items: Iterable[tuple[Recipient, Sequence[str]]]) -> int:
        """Subscribe many conversations in one transaction (imports, benchmarks)."""
        now = utc_now()
        rows = [
            {
                "conversation_id": r.conversation_id,
                "channel": r.channel,
                "address": r.address,
                "lang": r.lang,
                "components": "\n".join(sorted({c.lower() for c in comps})),
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for r, comps in items
        ]
        if rows:
            with self._engine.begin() as conn:
                conn.execute(subscriptions.insert(), rows)
        return len(rows)

    def note_asker(self, incident_id: str, recipient: Recipient) -> None:
        """Remember that a conversation asked about an open incident."""
        with self._engine.begin() as conn:
            _note_asker(conn, incident_id, recipient)

    def asked_about(self, incident_id: str, recipient: Recipient) -> bool:
        """Note the asker of an open incident; True when a subscription should be offered now.

        One transaction on the per-question path: not subscribed, and never offered before.
        """
        with self._engine.begin() as conn:
            _note_asker(conn, incident_id, recipient)
            subscribed = conn.execute(_SUBSCRIBED, {"cid": recipient.conversation_id}).first()
            return subscribed is None and _offer_once(conn, recipient.conversation_id)

    def askers(self, incident_id: str) -> list[Recipient]:
        """Everyone who asked about an incident while it was open."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(incident_askers)
                .where(incident_askers.c.incident_id == incident_id)
                .order_by(incident_askers.c.asked_at)
            ).all()
        return [Recipient(r.conversation_id, r.channel, r.address, r.lang) for r in rows]

    def offer_once(self, conversation_id: str) -> bool:
        """True the first time a conversation may be offered a subscription, then False."""
        with self._engine.begin() as conn:
            return _offer_once(conn, conversation_id)


# The status action's path (every status question about an open incident): statements
# built once (building one costs more than running it on SQLite).
_SUBSCRIBED = sa.select(subscriptions.c.id).where(
    subscriptions.c.conversation_id == sa.bindparam("cid"), subscriptions.c.active.is_(True)
)
_ASKED_AGAIN = (
    incident_askers.update()
    .where(
        incident_askers.c.incident_id == sa.bindparam("b_incident"),
        incident_askers.c.conversation_id == sa.bindparam("b_conversation"),
    )
    .values(
        channel=sa.bindparam("b_channel"),
        address=sa.bindparam("b_address"),
        lang=sa.bindparam("b_lang"),
        asked_at=sa.bindparam("b_asked_at"),
    )
)
_ASKED_FIRST = incident_askers.insert()
_OFFERED = sa.select(subscription_offers.c.conversation_id).where(
    subscription_offers.c.conversation_id == sa.bindparam("cid")
)
_OFFER = subscription_offers.insert()


def _note_asker(conn: sa.Connection, incident_id: str, recipient: Recipient) -> None:
    values = {
        "channel": recipient.channel,
        "address": recipient.address,
        "lang": recipient.lang,
        "asked_at": utc_now(),
    }
    keys = {"b_incident": incident_id, "b_conversation": recipient.conversation_id}
    updated = conn.execute(_ASKED_AGAIN, keys | {f"b_{k}": v for k, v in values.items()})
    if updated.rowcount == 0:
        conn.execute(
            _ASKED_FIRST,
            {"incident_id": incident_id, "conversation_id": recipient.conversation_id, **values},
        )


def _offer_once(conn: sa.Connection, conversation_id: str) -> bool:
    # offered before (the usual case after the first status question): no failing insert
    if conn.execute(_OFFERED, {"cid": conversation_id}).first() is not None:
        return False
    try:
        with conn.begin_nested():
            conn.execute(_OFFER, {"conversation_id": conversation_id, "offered_at": utc_now()})
    except sa.exc.IntegrityError:  # another replica offered it meanwhile
        return False
    return True


def _subscription(row: sa.Row[tuple[object, ...]]) -> Subscription:
    names = tuple(n for n in str(row.components or "").split("\n") if n)
    return Subscription(
        id=int(row.id),
        conversation_id=row.conversation_id,
        channel=row.channel,
        address=row.address,
        lang=row.lang,
        components=names,
        active=bool(row.active),
        created_at=as_utc(row.created_at),
        retired_reason=row.retired_reason,
    )
