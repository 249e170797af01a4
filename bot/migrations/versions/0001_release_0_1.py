"""The schema of release 0.1, as its create_all calls made it.

Revision ID: 0001
Revises:

Databases of release 0.1 have (some of) these tables and no ``alembic_version``;
each table is created only when missing, so such a database is adopted as it is
(rows kept) and one that lacks a store's tables (e.g. Telegram never configured)
gets them. The definitions are frozen copies: later changes go in new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables(meta: sa.MetaData) -> list[sa.Table]:
    tz = sa.DateTime(timezone=True)
    return [
        sa.Table(
            "unanswered_questions",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("asked_at", tz, nullable=False, index=True),
            sa.Column("conversation_id", sa.String(200), nullable=False),
            sa.Column("lang", sa.String(8), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("normalized", sa.String(500), nullable=False, index=True),
        ),
        sa.Table(
            "faq_entries",
            meta,
            sa.Column("id", sa.String(100), primary_key=True),
            sa.Column("content", sa.Text, nullable=False),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", tz, nullable=False),
            sa.Column("retired", sa.Boolean, nullable=False),
            sa.Column("revision", sa.Integer, nullable=False, index=True),
            sa.Column("position", sa.Integer, nullable=False),
        ),
        sa.Table(
            "faq_audit",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", tz, nullable=False, index=True),
            sa.Column("actor", sa.String(200), nullable=False),
            sa.Column("action", sa.String(20), nullable=False),
            sa.Column("entry_id", sa.String(100), nullable=False, index=True),
            sa.Column("before", sa.Text, nullable=True),
            sa.Column("after", sa.Text, nullable=True),
        ),
        sa.Table(
            "faq_revision",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("revision", sa.Integer, nullable=False),
        ),
        sa.Table(
            "subscriptions",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(200), nullable=False, unique=True),
            sa.Column("channel", sa.String(20), nullable=False),
            sa.Column("address", sa.String(200), nullable=False),
            sa.Column("lang", sa.String(8), nullable=False),
            sa.Column("components", sa.Text, nullable=False),
            sa.Column("active", sa.Boolean, nullable=False, index=True),
            sa.Column("created_at", tz, nullable=False),
            sa.Column("updated_at", tz, nullable=False),
            sa.Column("retired_at", tz),
            sa.Column("retired_reason", sa.String(200)),
        ),
        sa.Table(
            "incident_askers",
            meta,
            sa.Column("incident_id", sa.String(100), primary_key=True),
            sa.Column("conversation_id", sa.String(200), primary_key=True),
            sa.Column("channel", sa.String(20), nullable=False),
            sa.Column("address", sa.String(200), nullable=False),
            sa.Column("lang", sa.String(8), nullable=False),
            sa.Column("asked_at", tz, nullable=False),
        ),
        sa.Table(
            "subscription_offers",
            meta,
            sa.Column("conversation_id", sa.String(200), primary_key=True),
            sa.Column("offered_at", tz, nullable=False),
        ),
        sa.Table(
            "broadcasts",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("key", sa.String(300), nullable=False, unique=True),
            sa.Column("kind", sa.String(30), nullable=False),
            sa.Column("incident_id", sa.String(100)),
            sa.Column("update_id", sa.String(100)),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("components", sa.Text, nullable=False),
            sa.Column("created_at", tz, nullable=False, index=True),
            sa.Column("created_by", sa.String(200), nullable=False),
            sa.Column("recipients", sa.Integer, nullable=False),
        ),
        sa.Table(
            "outbox",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id"), nullable=False),
            sa.Column("subscription_id", sa.Integer),
            sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
            sa.Column("channel", sa.String(20), nullable=False),
            sa.Column("address", sa.String(200), nullable=False),
            sa.Column("lang", sa.String(8), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("state", sa.String(10), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("due_at", tz, nullable=False),
            sa.Column("owner", sa.String(120)),
            sa.Column("lease_until", tz),
            sa.Column("interrupted", sa.Integer, nullable=False),
            sa.Column("sent_at", tz),
            sa.Column("error", sa.String(300)),
            sa.UniqueConstraint("broadcast_id", "conversation_id", name="uq_outbox_recipient"),
            sa.Index("ix_outbox_due", "state", "channel", "due_at", "id"),
        ),
        sa.Table(
            "broadcast_channel_leases",
            meta,
            sa.Column("channel", sa.String(20), primary_key=True),
            sa.Column("owner", sa.String(120), nullable=False),
            sa.Column("until", tz, nullable=False),
        ),
        sa.Table(
            "web_sessions",
            meta,
            sa.Column("sid", sa.String(64), primary_key=True),
            sa.Column("created_at", tz, nullable=False),
            sa.Column("start_id", sa.Integer, nullable=False),
        ),
        sa.Table(
            "web_messages",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("conversation_id", sa.String(200), nullable=False),
            sa.Column("role", sa.String(8), nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("extra", sa.Text, nullable=False),
            sa.Column("created_at", tz, nullable=False),
            sa.Index("ix_web_messages_conversation_id_id", "conversation_id", "id"),
        ),
        sa.Table(
            "telegram_updates",
            meta,
            sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("received_at", tz, nullable=False, index=True),
        ),
        sa.Table(
            "telegram_callbacks",
            meta,
            sa.Column("key", sa.String(32), primary_key=True),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("created_at", tz, nullable=False, index=True),
        ),
    ]


def upgrade() -> None:
    """Create each release-0.1 table (with its indexes) that does not exist yet."""
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    # broadcasts before outbox: sorted_tables follows the foreign key
    for table in _sorted():
        if table.name not in existing:
            table.create(bind)


def downgrade() -> None:
    """Drop every table of the schema (all data is lost)."""
    bind = op.get_bind()
    for table in reversed(_sorted()):
        table.drop(bind, checkfirst=True)


def _sorted() -> list[sa.Table]:
    meta = sa.MetaData()
    _tables(meta)
    return list(meta.sorted_tables)
