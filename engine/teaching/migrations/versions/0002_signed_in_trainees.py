"""Trainees who sign in: a unique identity (sign-in subject or typed name) and an e-mail.

A trainee was a unique free-text name. Now each has a unique ``identity``:
``name:<name>`` for a typed name (every existing trainee becomes this, so no progress is
lost or merged) or ``oidc:<issuer>|<subject>`` for someone who signed in; ``name`` is only
what is shown, and two people who sign in may share it. Also an index for the educator's
cohort view by case.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite reports the first release's UNIQUE (name) without a name; batch mode names it so.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _name_constraint() -> str:
    """The name of the unique constraint on trainees.name, as this database knows it."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("trainees"):
        if constraint["column_names"] == ["name"]:
            return constraint["name"] or "uq_trainees_name"
    raise RuntimeError("trainees.name has no unique constraint: not the 0001 schema")


def upgrade() -> None:
    name_constraint = _name_constraint()
    with op.batch_alter_table("trainees", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("identity", sa.String(400), nullable=True))
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
    trainees = sa.table("trainees", sa.column("name", sa.String), sa.column("identity", sa.String))
    op.execute(trainees.update().values(identity=sa.literal("name:") + trainees.c.name))
    with op.batch_alter_table("trainees", naming_convention=NAMING) as batch:
        batch.alter_column("identity", existing_type=sa.String(400), nullable=False)
        batch.drop_constraint(name_constraint, type_="unique")
        batch.create_unique_constraint("uq_trainees_identity", ["identity"])
    op.create_index("ix_attempts_case_id", "attempts", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_attempts_case_id", table_name="attempts")
    with op.batch_alter_table("trainees", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_trainees_identity", type_="unique")
        batch.drop_column("email")
        batch.drop_column("identity")
        batch.create_unique_constraint("uq_trainees_name", ["name"])
