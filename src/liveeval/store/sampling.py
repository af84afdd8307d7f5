"""Sampling decisions as recorded, and the counts the sampler's budget and strata need."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.store.decision_reasons import compress_reason, expand_reason
from liveeval.store.dialect import bulk_insert, db_json, db_time
from liveeval.store.schema import sampling_decisions, scores

COLUMNS = (
    "project",
    "interaction_id",
    "trigger",
    "sampled",
    "policy",
    "priority",
    "reason",
    "slice",
    "decided_at",
)


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    project: str
    interaction_id: int
    trigger: str  # "ingest" | "signal:<kind>" | "check:<name>"
    sampled: bool
    policy: str | None
    priority: int
    reason: str
    slice: dict[str, str | None]
    decided_at: datetime


def triggers_of(
    conn: sa.Connection, interaction_ids: Collection[int]
) -> dict[int, dict[str, bool]]:
    """For each interaction: the triggers it was decided under, and whether it was sampled."""
    if not interaction_ids:
        return {}
    c = sampling_decisions.c
    query = sa.select(c.interaction_id, c.trigger, c.sampled).where(
        c.interaction_id.in_(list(interaction_ids))
    )
    found: dict[int, dict[str, bool]] = {}
    for iid, trigger, sampled in conn.execute(query):
        found.setdefault(iid, {})[trigger] = bool(sampled)
    return found


def record_decisions(conn: sa.Connection, decisions: Sequence[RecordedDecision]) -> None:
    """Store decisions; one per (interaction, trigger), a repeat is ignored."""
    as_time = db_time(conn)
    rows = [
        (
            d.project,
            d.interaction_id,
            d.trigger,
            d.sampled,
            d.policy,
            d.priority,
            compress_reason(d.reason),
            db_json(d.slice),
            as_time(d.decided_at),
        )
        for d in decisions
    ]
    bulk_insert(conn, sampling_decisions, COLUMNS, rows, ("interaction_id", "trigger"))


def decisions_of(conn: sa.Connection, interaction_id: int) -> list[RecordedDecision]:
    c = sampling_decisions.c
    query = (
        sa.select(sampling_decisions)
        .where(c.interaction_id == interaction_id)
        .order_by(c.decision_id)
    )
    return [_decision(row) for row in conn.execute(query).mappings()]


def first_slices(
    conn: sa.Connection, interaction_ids: Collection[int]
) -> dict[int, dict[str, Any]]:
    """The slice each interaction was first decided with (its language came from a check)."""
    if not interaction_ids:
        return {}
    c = sampling_decisions.c
    query = sa.select(c.interaction_id, c.slice).where(
        c.interaction_id.in_(list(interaction_ids)), c.trigger == "ingest"
    )
    return {iid: value for iid, value in conn.execute(query)}


def sampled_per_stratum(
    conn: sa.Connection, project: str, dimensions: Sequence[str], since: datetime
) -> dict[tuple[str, str], int]:
    """Interactions sampled since `since`, per (dimension, value) of their slice."""
    # `c.sampled`, not `c.sampled.is_(True)`: each dialect then writes the predicate of the
    # partial index on sampled decisions (schema.SAMPLED), and the index is used.
    c = sampling_decisions.c
    counts: dict[tuple[str, str], int] = {}
    for dimension in dimensions:
        value = c.slice[dimension].as_string()
        query = (
            sa.select(value, sa.func.count(sa.distinct(c.interaction_id)))
            .where(c.project == project, c.sampled, c.decided_at >= since)
            .group_by(value)
        )
        for found, count in conn.execute(query):
            if found is not None:
                counts[(dimension, found)] = count
    return counts


def sampled_since(conn: sa.Connection, project: str, since: datetime) -> int:
    """Interactions sampled for judging since `since`: what a daily budget counts."""
    c = sampling_decisions.c
    query = sa.select(sa.func.count(sa.distinct(c.interaction_id))).where(
        c.project == project, c.sampled, c.decided_at >= since
    )
    return int(conn.execute(query).scalar_one())


def judge_cost_since(conn: sa.Connection, project: str, since: datetime) -> float | None:
    """What the judge scores since `since` cost: 0 when there were none, None (unknown)
    when there were some and none has a cost, else the sum of the known costs."""
    c = scores.c
    query = sa.select(sa.func.count(), sa.func.count(c.cost_usd), sa.func.sum(c.cost_usd)).where(
        c.project == project, c.kind == "judge", c.created_at >= since
    )
    judged, priced, total = conn.execute(query).one()
    if not judged:
        return 0.0
    if not priced:
        return None
    return float(total)


def _decision(row: sa.RowMapping) -> RecordedDecision:
    return RecordedDecision(
        project=row["project"],
        interaction_id=row["interaction_id"],
        trigger=row["trigger"],
        sampled=bool(row["sampled"]),
        policy=row["policy"],
        priority=row["priority"],
        reason=expand_reason(row["reason"]),
        slice=row["slice"],
        decided_at=row["decided_at"],
    )
