"""The tables of email and SMS subscriptions: pending confirmations and the audit."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import metadata

# One row per subscribe request: what was asked, the confirmation it waits for.
contact_requests = sa.Table(
    "contact_requests",
    metadata,
    sa.Column("id", sa.Integer, autoincrement=True),
    sa.Column("channel", sa.String(10), nullable=False),  # email | sms
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("components", sa.Text, nullable=False, default=""),
    # what the link carries (email) or a keyed hash of the code (SMS)
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.PrimaryKeyConstraint("id", name="pk_contact_requests"),
    sa.Index("ix_contact_requests_address", "channel", "address", "created_at"),
)

# Who subscribed, confirmed, left (one-click, STOP), bounced: when and how.
contact_events = sa.Table(
    "contact_events",
    metadata,
    sa.Column("id", sa.Integer, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("address", sa.String(254), nullable=False),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("detail", sa.String(300), nullable=False, default=""),
    sa.PrimaryKeyConstraint("id", name="pk_contact_events"),
    sa.Index("ix_contact_events_address", "channel", "address"),
)
