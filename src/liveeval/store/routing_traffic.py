"""Routed traffic over time: how many decisions each arm of a task got per UTC hour.

The dashboard's share chart reads this. The hour is cut in SQL (one row per hour and arm
comes back, not one per decision): SQLite stores timestamps as UTC text, PostgreSQL as
timestamptz, so each dialect has its own expression for "the hour, in UTC".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from liveeval.store.schema import routing_decisions


@dataclass(frozen=True, slots=True)
class HourCount:
    """Decisions that served `arm` in the UTC hour starting at `hour`."""

    hour: datetime
    arm: str
    decisions: int


def decisions_per_hour(
    conn: sa.Connection, project: str, task: str, since: datetime, until: datetime
) -> list[HourCount]:
    """The task's decisions made in [since, until), counted per UTC hour and arm, oldest
    hour first (hours without decisions are absent)."""
    c = routing_decisions.c
    hour = _utc_hour(conn, c.decided_at).label("hour")
    query = (
        sa.select(hour, c.arm, sa.func.count().label("decisions"))
        .where(c.project == project, c.task == task, c.decided_at >= since, c.decided_at < until)
        .group_by(hour, c.arm)
        .order_by(hour, c.arm)
    )
    return [
        HourCount(_hour_of(row.hour), row.arm, int(row.decisions)) for row in conn.execute(query)
    ]


def _utc_hour(conn: sa.Connection, column: sa.ColumnElement[datetime]) -> sa.ColumnElement[str]:
    """'YYYY-MM-DD HH' of a timestamp column, in UTC."""
    if conn.dialect.name == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text
        return sa.func.substr(sa.cast(column, sa.Text), 1, 13)
    return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")


def _hour_of(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
