"""gate: offline A/B runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ab_runs",
        sa.Column(
            "run_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.String(length=80), nullable=False),
        sa.Column("target_a", sa.Text(), nullable=False),
        sa.Column("target_b", sa.Text(), nullable=False),
        sa.Column("grader", _json(), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("mean_a", sa.Float(), nullable=True),
        sa.Column("mean_b", sa.Float(), nullable=True),
        sa.Column("difference", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("pairwise_rubric", sa.String(length=200), nullable=True),
        sa.Column("pairwise_pairs", sa.Integer(), nullable=True),
        sa.Column("pairwise_flips", sa.Integer(), nullable=True),
        sa.Column("pairwise_flip_rate", sa.Float(), nullable=True),
        sa.Column("git_commit", sa.String(length=64), nullable=True),
        sa.Column("report", _json(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_ab_runs")),
    )
    op.create_index(
        op.f("ix_ab_runs_project_started_at"),
        "ab_runs",
        ["project", "started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ab_runs_project_started_at"), table_name="ab_runs")
    op.drop_table("ab_runs")
