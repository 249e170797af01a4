"""The crisis rhythm (issue 16): the question log, shared staff alerts, review marks.

Revision ID: 0005_rhythm
Revises: 0004_contacts

- ``question_log``: every customer question with its topics and outcome (the
  post-incident report and the per-minute volume read it);
- ``staff_alerts``: the console's alerts, shared by every replica;
- ``review_marks``: "to review" items confirmed or edited, per incident phase.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rhythm"
down_revision = "0004_contacts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables (frozen copies of ``bot/rhythm/tables.py``)."""
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("asked_at", tz, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("normalized", sa.String(500), nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
    )
    op.create_index("ix_question_log_asked_at", "question_log", ["asked_at"])
    op.create_index("ix_question_log_conversation_id", "question_log", ["conversation_id"])
    op.create_table(
        "staff_alerts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("raised_at", tz, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("action_url", sa.Text),
        sa.Column("cleared_at", tz),
        sa.Column("cleared_by", sa.String(200)),
    )
    op.create_table(
        "review_marks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(100), nullable=False),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("item_kind", sa.String(10), nullable=False),
        sa.Column("item_key", sa.String(200), nullable=False),
        sa.Column("component", sa.String(200), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", tz, nullable=False),
        sa.Column("update_id", sa.String(100)),
    )
    op.create_index("ix_review_marks_phase", "review_marks", ["incident_id", "phase"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_review_marks_phase", table_name="review_marks")
    op.drop_table("review_marks")
    op.drop_table("staff_alerts")
    op.drop_index("ix_question_log_conversation_id", table_name="question_log")
    op.drop_index("ix_question_log_asked_at", table_name="question_log")
    op.drop_table("question_log")
