"""The tables of handoffs: the queue and claims, their messages, agents' presence, the audit."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import metadata

# A handoff's state: waiting in the queue, active (an agent has it), closed.
WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"
OPEN_STATES = (WAITING, ACTIVE)

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(60)),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
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
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "handoff_id",
        sa.Integer,
        sa.ForeignKey("handoffs.id", name="fk_handoff_messages_handoff_id"),
        nullable=False,
    ),
    sa.Column("role", sa.String(8), nullable=False),  # user, bot, agent
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("author", sa.String(60)),
    # agent replies: sent, failed (with the reason)
    sa.Column("delivery", sa.String(8)),
    sa.Column("error", sa.String(300)),
    sa.Index("ix_handoff_messages_handoff_id_id", "handoff_id", "id"),
)

# Who answers handoffs and when they were last seen (inbox open, API used).
handoff_agents = sa.Table(
    "handoff_agents",
    metadata,
    sa.Column("agent", sa.String(60), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

handoff_audit = sa.Table(
    "handoff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(60), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("handoff_id", sa.Integer, nullable=False),
    sa.Column("detail", sa.String(300), nullable=False, default=""),
    sa.Index("ix_handoff_audit_handoff_id", "handoff_id"),
)

# What happened to handoffs, in order, for the outgoing webhook (written with the change).
handoff_events = sa.Table(
    "handoff_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handoff_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON
)

# The cursor and lease of each event consumer (1: the webhook, 2: the Chatwoot bridge):
# one replica consumes, in order.
handoff_webhook_state = sa.Table(
    "handoff_webhook_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(100)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
)

# The Chatwoot bridge: a handoff's conversation there, and agent replies already relayed.
chatwoot_links = sa.Table(
    "chatwoot_links",
    metadata,
    sa.Column("handoff_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    # Chatwoot's id of the conversation (not a Faro conversation id)
    sa.Column("chatwoot_conversation_id", sa.Integer, nullable=False),
    sa.UniqueConstraint(
        "chatwoot_conversation_id", name="uq_chatwoot_links_chatwoot_conversation_id"
    ),
)

chatwoot_replies = sa.Table(
    "chatwoot_replies",
    metadata,
    sa.Column("message_id", sa.String(40), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
