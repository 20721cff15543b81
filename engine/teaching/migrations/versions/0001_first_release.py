"""The first released schema: trainees by free-text name, attempts, choices, quiz answers.

The first release created these tables with ``metadata.create_all`` and kept no version
table; ``ossdx db upgrade`` recognises such a database as this revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainees",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trainee_id", sa.Integer, sa.ForeignKey("trainees.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("kb_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("choice_count", sa.Integer, nullable=False),
        sa.Column("truth", sa.String(64), nullable=False),
        sa.Column("system_leader", sa.String(64), nullable=False),
        sa.Column("top1", sa.Boolean, nullable=False),
        sa.Column("top3", sa.Boolean, nullable=False),
        sa.Column("brier", sa.Float, nullable=False),
        sa.Column("log_score", sa.Float, nullable=False),
        sa.Column("rank", sa.Integer, nullable=True),
    )
    op.create_index("ix_attempts_trainee_id", "attempts", ["trainee_id"])
    op.create_table(
        "attempt_choices",
        sa.Column("attempt_id", sa.Integer, sa.ForeignKey("attempts.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("diagnosis", sa.String(64), nullable=False),
    )
    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("trainee_id", sa.Integer, sa.ForeignKey("trainees.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("question_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("chosen", sa.String(200), nullable=False),
        sa.Column("answer", sa.String(200), nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("kb_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_quiz_answers_trainee_id", "quiz_answers", ["trainee_id"])


def downgrade() -> None:
    for table in ("quiz_answers", "attempt_choices", "attempts", "trainees"):
        op.drop_table(table)
