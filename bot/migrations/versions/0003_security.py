"""Security hardening (issue 19): Slack event ids, admin sessions, sign-in throttling.

Revision ID: 0003_security
Revises: 0002_handoff

- ``slack_events``: Slack event ids already taken (a retry after a restart or
  on another replica is answered once), pruned after a horizon;
- ``admin_sessions``: signed-in admin sessions, kept server-side so signing
  out revokes them;
- ``signin_failures``: failed admin sign-ins per account and per address, for
  a growing delay shared by every replica;
- ``privacy_audit``: every export, erase and purge of customers' data (who,
  when, how many rows; the subject only as a digest);
- ``web_sessions.last_seen_at``: a widget session's last use (rolling expiry;
  NULL for sessions of earlier releases, which count from ``created_at``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_security"
down_revision = "0002_handoff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables and the column."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("received_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_slack_events"),
    )
    op.create_index("ix_slack_events_received_at", "slack_events", ["received_at"])
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_sessions"),
    )
    op.create_index("ix_admin_sessions_expires_at", "admin_sessions", ["expires_at"])
    op.create_table(
        "signin_failures",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_at", tz, nullable=False),
        sa.Column("locked_until", tz, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_signin_failures"),
    )
    op.create_index("ix_signin_failures_last_at", "signin_failures", ["last_at"])
    op.create_table(
        "privacy_audit",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("subject_digest", sa.String(64), nullable=True),
        sa.Column("counts", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_audit"),
    )
    op.create_index("ix_privacy_audit_at", "privacy_audit", ["at"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", tz, nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("last_seen_at")
    for table in ("privacy_audit", "signin_failures", "admin_sessions", "slack_events"):
        op.drop_table(table)
