"""Handoffs to a person: the queue and claims, their messages, agents' presence, the audit.

Revision ID: 0002_handoff
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_handoff"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tables(meta: sa.MetaData) -> list[sa.Table]:
    tz = sa.DateTime(timezone=True)
    handoffs = sa.Table(
        "handoffs",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("opened_at", tz, nullable=False),
        sa.Column("claimed_by", sa.String(60)),
        sa.Column("claimed_at", tz),
        sa.Column("closed_at", tz),
        # how it ended: released (back to the bot), closed, cancelled (by the customer)
        sa.Column("outcome", sa.String(10)),
        sa.Column("closed_by", sa.String(60)),
        # Rasa's tracker was paused for it and not yet resumed (the dialogue resumes it)
        sa.Column("rasa_paused", sa.Boolean, nullable=False, default=True),
        sa.CheckConstraint("state IN ('waiting', 'active', 'closed')", name="ck_handoffs_state"),
        sa.Index("ix_handoffs_state_opened_at", "state", "opened_at"),
        sa.Index("ix_handoffs_conversation_id", "conversation_id"),
        # At most one open handoff per conversation, whichever replica opens it.
        sa.Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=sa.text("state IN ('waiting', 'active')"),
            postgresql_where=sa.text("state IN ('waiting', 'active')"),
        ),
    )

    handoff_messages = sa.Table(
        "handoff_messages",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "handoff_id",
            sa.Integer,
            sa.ForeignKey("handoffs.id", name="fk_handoff_messages_handoff_id"),
            nullable=False,
        ),
        sa.Column("role", sa.String(8), nullable=False),  # user, bot, agent
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("author", sa.String(60)),
        # agent replies: sent, failed (with the reason)
        sa.Column("delivery", sa.String(8)),
        sa.Column("error", sa.String(300)),
        sa.Index("ix_handoff_messages_handoff_id_id", "handoff_id", "id"),
    )

    # Who answers handoffs and when they were last seen (inbox open, API used).
    handoff_agents = sa.Table(
        "handoff_agents",
        meta,
        sa.Column("agent", sa.String(60), primary_key=True),
        sa.Column("seen_at", tz, nullable=False),
    )

    handoff_audit = sa.Table(
        "handoff_audit",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", tz, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("handoff_id", sa.Integer, nullable=False),
        sa.Column("detail", sa.String(300), nullable=False, default=""),
        sa.Index("ix_handoff_audit_handoff_id", "handoff_id"),
    )
    handoff_events = sa.Table(
        "handoff_events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    handoff_webhook_state = sa.Table(
        "handoff_webhook_state",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(100)),
        sa.Column("lease_until", tz),
    )
    chatwoot_links = sa.Table(
        "chatwoot_links",
        meta,
        sa.Column("handoff_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("chatwoot_conversation_id", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "chatwoot_conversation_id", name="uq_chatwoot_links_chatwoot_conversation_id"
        ),
    )
    chatwoot_replies = sa.Table(
        "chatwoot_replies",
        meta,
        sa.Column("message_id", sa.String(40), primary_key=True),
        sa.Column("at", tz, nullable=False),
    )
    return [
        handoffs,
        handoff_messages,
        handoff_agents,
        handoff_audit,
        handoff_events,
        handoff_webhook_state,
        chatwoot_links,
        chatwoot_replies,
    ]


def upgrade() -> None:
    """Create the handoff tables (frozen copies of ``bot.handoff.tables``)."""
    bind = op.get_bind()
    for table in _tables(sa.MetaData()):
        table.create(bind)


def downgrade() -> None:
    """Drop the handoff tables (their rows are lost)."""
    bind = op.get_bind()
    for table in reversed(_tables(sa.MetaData())):
        table.drop(bind, checkfirst=True)
