"""The tables of subscriptions, broadcasts and the outbox (the delivery audit)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import metadata

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False, unique=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    # Component names (lower case) joined by "\n"; "" means every incident.
    sa.Column("components", sa.Text, nullable=False, default=""),
    sa.Column("active", sa.Boolean, nullable=False, default=True, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True)),
    sa.Column("retired_reason", sa.String(200)),
)

# Who asked about an incident while it was open: told when it is resolved.
incident_askers = sa.Table(
    "incident_askers",
    metadata,
    sa.Column("incident_id", sa.String(100), primary_key=True),
    sa.Column("conversation_id", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
)

# Conversations already offered a subscription (offered once only).
subscription_offers = sa.Table(
    "subscription_offers",
    metadata,
    sa.Column("conversation_id", sa.String(200), primary_key=True),
    sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
)

broadcasts = sa.Table(
    "broadcasts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # What the broadcast is about, unique: one broadcast per status update even
    # when several replicas see the same snapshot.
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("incident_id", sa.String(100)),
    sa.Column("update_id", sa.String(100)),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("components", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("created_by", sa.String(200), nullable=False, default="status feed"),
    sa.Column("recipients", sa.Integer, nullable=False, default=0),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id"), nullable=False),
    sa.Column("subscription_id", sa.Integer),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("address", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # pending -> sending -> sent | failed | retired (recipient blocked the bot)
    sa.Column("state", sa.String(10), nullable=False, default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("owner", sa.String(120)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("interrupted", sa.Integer, nullable=False, default=0),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("error", sa.String(300)),
    sa.UniqueConstraint("broadcast_id", "conversation_id", name="uq_outbox_recipient"),
    # claims read due rows in (due_at, id) order straight off this index
    sa.Index("ix_outbox_due", "state", "channel", "due_at", "id"),
)

# Which worker sends a channel's broadcasts: one per channel across replicas, so the
# channel's rate limiter (per process) holds for all broadcasts of the bot.
channel_leases = sa.Table(
    "broadcast_channel_leases",
    metadata,
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("owner", sa.String(120), nullable=False),
    sa.Column("until", sa.DateTime(timezone=True), nullable=False),
)
