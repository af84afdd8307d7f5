"""store: check scores keyed by (interaction_id, name), decision reasons deflated

A check score stores no dedup_key (`check:<id>:<name>` repeated its interaction and
name, and filled a unique index); a partial unique index on (interaction_id, name) keys
it instead, and the (project, dedup_key) index holds only the scores that have a key.
A sampling decision's reason is stored as bytes, deflated (store/decision_reasons.py);
the reasons stored before become their UTF-8 bytes, which read back as they were. Only
the sampled decisions, the few the budget and strata count, are indexed by time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEYED = "dedup_key IS NOT NULL"
CHECK = "kind = 'check'"
SAMPLED_BEFORE = "ix_sampling_decisions_project_sampled_decided_at"
SAMPLED_NOW = "ix_sampling_decisions_project_decided_at"


def upgrade() -> None:
    op.execute(
        "UPDATE scores SET dedup_key = NULL WHERE kind = 'check' "
        "AND dedup_key = 'check:' || interaction_id || ':' || name"
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_constraint("uq_scores_project_dedup_key", type_="unique")
    _partial_unique("uq_scores_project_dedup_key", ["project", "dedup_key"], KEYED)
    _partial_unique("uq_scores_check", ["interaction_id", "name"], CHECK)
    with op.batch_alter_table("sampling_decisions", schema=None) as batch_op:
        batch_op.alter_column(
            "reason",
            existing_type=sa.Text(),
            type_=sa.LargeBinary(),
            existing_nullable=False,
            postgresql_using="convert_to(reason, 'UTF8')",
        )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite keeps a copied value's storage class: make the old text bytes.
        op.execute("UPDATE sampling_decisions SET reason = CAST(reason AS BLOB)")
    op.drop_index(SAMPLED_BEFORE, table_name="sampling_decisions")
    op.create_index(
        SAMPLED_NOW,
        "sampling_decisions",
        ["project", "decided_at"],
        sqlite_where=sa.text("sampled = 1"),
        postgresql_where=sa.text("sampled"),
    )


def downgrade() -> None:
    from liveeval.store.decision_reasons import expand_reason

    op.drop_index(SAMPLED_NOW, table_name="sampling_decisions")
    op.create_index(SAMPLED_BEFORE, "sampling_decisions", ["project", "sampled", "decided_at"])
    bind = op.get_bind()
    decisions = sa.table(
        "sampling_decisions",
        sa.column("decision_id", sa.Integer),
        sa.column("reason", sa.LargeBinary),
    )
    stored = bind.execute(sa.select(decisions.c.decision_id, decisions.c.reason)).all()
    for decision_id, reason in stored:
        bind.execute(
            decisions.update()
            .where(decisions.c.decision_id == decision_id)
            .values(reason=expand_reason(reason).encode())
        )
    with op.batch_alter_table("sampling_decisions", schema=None) as batch_op:
        batch_op.alter_column(
            "reason",
            existing_type=sa.LargeBinary(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="convert_from(reason, 'UTF8')",
        )
    if bind.dialect.name == "sqlite":
        op.execute("UPDATE sampling_decisions SET reason = CAST(reason AS TEXT)")
    op.drop_index("uq_scores_check", table_name="scores")
    op.drop_index("uq_scores_project_dedup_key", table_name="scores")
    op.execute(
        "UPDATE scores SET dedup_key = 'check:' || interaction_id || ':' || name "
        "WHERE kind = 'check' AND dedup_key IS NULL"
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_scores_project_dedup_key", ["project", "dedup_key"])


def _partial_unique(name: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        "scores",
        columns,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )
