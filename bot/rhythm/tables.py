"""The crisis rhythm's tables: the question log, staff alerts, and review marks.

Frozen copies live in ``bot/migrations/versions/0005_rhythm.py``.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.db import metadata

_TZ = sa.DateTime(timezone=True)

# Every customer question (one row per typed turn): when, where, in which language,
# which topics it touched ("\n"-joined; components by name, FAQ tags as "tag:<tag>"),
# and how it ended. Personal data (conversation_id, text): covered by bot.privacy.
question_log = sa.Table(
    "question_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asked_at", _TZ, nullable=False, index=True),
    sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("normalized", sa.String(500), nullable=False),
    sa.Column("topics", sa.Text, nullable=False),
    # answered | declined | handed_off | status | other
    sa.Column("outcome", sa.String(12), nullable=False),
)

# Staff alerts standing now (and cleared ones, until pruned): the console banner of
# every replica reads them here; dismissing on one replica clears them everywhere.
staff_alerts = sa.Table(
    "staff_alerts",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("raised_at", _TZ, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON
    sa.Column("action_url", sa.Text),
    sa.Column("cleared_at", _TZ),
    sa.Column("cleared_by", sa.String(200)),
)

# "To review" items staff confirmed or edited, for one phase of one incident
# (phase: the incident's status, its components and its latest update id, hashed).
review_marks = sa.Table(
    "review_marks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.String(100), nullable=False),
    sa.Column("phase", sa.String(64), nullable=False),
    sa.Column("item_kind", sa.String(10), nullable=False),
    sa.Column("item_key", sa.String(200), nullable=False),
    sa.Column("component", sa.String(200), nullable=False),
    sa.Column("action", sa.String(10), nullable=False),  # confirmed | edited
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", _TZ, nullable=False),
    sa.Column("update_id", sa.String(100)),
    sa.Index("ix_review_marks_phase", "incident_id", "phase"),
)
