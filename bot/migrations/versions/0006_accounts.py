"""Staff console accounts: per-person accounts with roles, one-time sign-in links, their audit.

Revision ID: 0006_accounts
Revises: 0004_contacts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_accounts"
down_revision = "0005_rhythm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables (frozen copies of ``bot/admin/accounts.py``)."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "admin_accounts",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("login", sa.String(60), nullable=False, unique=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("sso_subject", sa.String(400), unique=True),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_accounts"),
    )
    op.create_table(
        "admin_links",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Integer, nullable=False),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("expires_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_links"),
    )
    op.create_index("ix_admin_links_account_id", "admin_links", ["account_id"])
    op.create_table(
        "admin_account_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("at", tz, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("account", sa.String(60), nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("detail", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_admin_account_events"),
    )
    op.create_index("ix_admin_account_events_at", "admin_account_events", ["at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_admin_account_events_at", table_name="admin_account_events")
    op.drop_table("admin_account_events")
    op.drop_index("ix_admin_links_account_id", table_name="admin_links")
    op.drop_table("admin_links")
    op.drop_table("admin_accounts")
