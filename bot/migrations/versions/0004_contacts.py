"""Email and SMS subscriptions: subscribe requests awaiting confirmation, and their audit.

Revision ID: 0004_contacts
Revises: 0003_security

The subscribers themselves live in ``subscriptions`` (channel ``email`` or
``sms``), and what they are sent in ``outbox``, like every other channel's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_contacts"
down_revision = "0003_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables (frozen copies of ``bot/channels/contact/tables.py``)."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("components", sa.Text, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("confirmed_at", tz),
        sa.PrimaryKeyConstraint("id", name="pk_contact_requests"),
    )
    op.create_index(
        "ix_contact_requests_address", "contact_requests", ["channel", "address", "created_at"]
    )
    op.create_table(
        "contact_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("at", tz, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_events"),
    )
    op.create_index("ix_contact_events_address", "contact_events", ["channel", "address"])


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_index("ix_contact_events_address", table_name="contact_events")
    op.drop_table("contact_events")
    op.drop_index("ix_contact_requests_address", table_name="contact_requests")
    op.drop_table("contact_requests")
