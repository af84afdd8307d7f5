"""Shadow runs in the store: the live inputs of a routed task (its decisions and the
interactions they served), and the runs themselves.

A shadow run is a pairwise comparison of two variants on the same inputs, which is what
the A/B run table holds (`liveeval ab --pairwise`): it is stored there, production as
variant A and the candidate as B, with `report["kind"] == "shadow"` and its task. So the
dashboard's A/B runs and judge-bias pages list shadow runs beside offline A/B runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model import Interaction
from liveeval.store.ab_runs import insert_ab_run
from liveeval.store.interactions import interaction_from_row
from liveeval.store.schema import ab_runs, interactions, routing_decisions

# At most this many decisions are read to sample from (the newest of the window).
MAX_POOL = 20_000
_CHUNK = 500  # trace ids per IN (...)
SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class RoutedDecision:
    """A routed decision as a shadow run needs it: the arm and the trace it served."""

    decision_id: str
    arm: str
    trace_id: str
    decided_at: datetime


def task_decisions(
    conn: sa.Connection,
    project: str,
    task: str,
    since: datetime,
    until: datetime,
    *,
    arm: str | None = None,
    limit: int = MAX_POOL,
) -> list[RoutedDecision]:
    """The task's decisions in [since, until) that name their trace, newest first."""
    c = routing_decisions.c
    where = [
        c.project == project,
        c.task == task,
        c.decided_at >= since,
        c.decided_at < until,
        c.trace_id.is_not(None),
    ]
    if arm is not None:
        where.append(c.arm == arm)
    query = (
        sa.select(c.decision_id, c.arm, c.trace_id, c.decided_at)
        .where(*where)
        .order_by(c.decided_at.desc(), c.decision_id.desc())
        .limit(limit)
    )
    return [RoutedDecision(*row) for row in conn.execute(query)]


def trace_interactions(
    conn: sa.Connection, project: str, trace_ids: Sequence[str]
) -> list[Interaction]:
    """The interactions of these traces whose content retention has not purged."""
    c = interactions.c
    found: list[Interaction] = []
    unique = sorted(set(trace_ids))
    for start in range(0, len(unique), _CHUNK):
        query = sa.select(interactions).where(
            c.project == project,
            c.trace_id.in_(unique[start : start + _CHUNK]),
            c.content_purged_at.is_(None),
        )
        found.extend(interaction_from_row(row) for row in conn.execute(query).mappings())
    return found


def save_shadow_run(
    conn: sa.Connection, project: str, report: dict[str, Any], now: datetime
) -> int:
    """Store a run as `shadow_report` made it; returns its id."""
    stats = report["statistics"]
    comparison = stats.get("comparison") or {}
    flips = stats["flips"]
    return insert_ab_run(
        conn,
        project,
        report,
        now,
        target_a=report["production"],
        target_b=report["candidate"],
        cases=report["sampled"],
        compared=stats["n"],
        comparison=comparison,
        p_value=comparison.get("t_p_value"),
        flips={**flips, "rate": flips["rate"] if flips["n"] else None},
        pairwise_rubric=report["rubric"],
    )


def load_shadow_run(conn: sa.Connection, project: str, run_id: int) -> dict[str, Any] | None:
    """The report of shadow run `run_id` of the project; None when there is no such run
    (an offline A/B run of that id is not one)."""
    c = ab_runs.c
    query = sa.select(c.report).where(c.run_id == run_id, c.project == project)
    report = conn.execute(query).scalar_one_or_none()
    if not isinstance(report, dict) or report.get("kind") != SHADOW:
        return None
    return report
