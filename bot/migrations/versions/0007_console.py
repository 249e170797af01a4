"""The console: unanswered questions grouped by meaning, staff verdicts, live templates.

Revision ID: 0007_console
Revises: 0004_contacts

Frozen copies of ``bot/console/groups.py`` and ``bot/console/templates_db.py``;
``unanswered_questions`` gains the group each question joined.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables and the group column with its index."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "unanswered_groups",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("centroid", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("nearest_faq_id", sa.String(200)),
        sa.Column("nearest_score", sa.Float),
        sa.Column("nearest_revision", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("closed_at", tz),
        sa.Column("closed_by", sa.String(200)),
        sa.Column("faq_id", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_unanswered_groups"),
    )
    op.create_index("ix_unanswered_groups_state", "unanswered_groups", ["state", "lang"])
    op.create_table(
        "faq_feedback",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("verdict", sa.String(12), nullable=False),
        sa.Column("faq_id", sa.String(200)),
        sa.Column("group_id", sa.Integer),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_feedback"),
    )
    op.create_index("ix_faq_feedback_verdict", "faq_feedback", ["verdict", "at"])
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("texts", sa.Text, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_versions"),
    )
    op.create_index("ix_template_versions_key", "template_versions", ["key", "id"])
    op.add_column("unanswered_questions", sa.Column("group_id", sa.Integer, nullable=True))
    op.create_index(
        "ix_unanswered_questions_group",
        "unanswered_questions",
        ["group_id", "normalized", "asked_at"],
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_unanswered_questions_group", table_name="unanswered_questions")
    with op.batch_alter_table("unanswered_questions") as batch:
        batch.drop_column("group_id")
    op.drop_index("ix_template_versions_key", table_name="template_versions")
    op.drop_table("template_versions")
    op.drop_index("ix_faq_feedback_verdict", table_name="faq_feedback")
    op.drop_table("faq_feedback")
    op.drop_index("ix_unanswered_groups_state", table_name="unanswered_groups")
    op.drop_table("unanswered_groups")
