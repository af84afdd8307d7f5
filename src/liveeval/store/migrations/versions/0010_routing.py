"""routing: decisions (arm, logged probability, context) and kill switches

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "routing_decisions",
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("arm", sa.String(length=200), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("policy_version", sa.BigInteger(), nullable=False),
        sa.Column("slice", sa.String(length=1000), nullable=False),
        sa.Column("context", JSON, nullable=False),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("goal_id", sa.String(length=200), nullable=True),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_routing_decisions")),
    )
    with op.batch_alter_table("routing_decisions", schema=None) as batch_op:
        for columns in (["project", "task", "decided_at"], ["project", "trace_id"]):
            name = "ix_routing_decisions_" + "_".join(columns)
            batch_op.create_index(batch_op.f(name), columns, unique=False)
        batch_op.create_index(
            batch_op.f("ix_routing_decisions_project_goal_id"), ["project", "goal_id"]
        )
    op.create_table(
        "routing_kills",
        sa.Column("kill_id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("task", sa.String(length=200), nullable=False),
        sa.Column("arm", sa.String(length=200), nullable=False),
        sa.Column("slice", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("killed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kill_id", name=op.f("pk_routing_kills")),
    )
    with op.batch_alter_table("routing_kills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routing_kills_project_task_lifted_at"),
            ["project", "task", "lifted_at"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("routing_kills")
    op.drop_table("routing_decisions")
