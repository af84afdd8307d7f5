"""Where in time a slice's interactions are, read from the hour rollups.

Listing the newest interactions of a slice (a prompt version, a route, a language) walks
the newest-first index until it has a page: over a week of a million interactions, all
of it when the value is rare or absent. The hour rollups count every slice's
interactions per hour, so a listing needs to read only the hours that hold some, plus
the rows the rollups have not read yet: those above the refresh's watermarks (and, on
PostgreSQL, the ids still in its gaps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from liveeval.store.rollups import HOUR, floor_to
from liveeval.store.schema import interaction_features, interactions, rollups
from liveeval.store.watermarks import Mark, read_marks

MAX_GAP_IDS = 1_000  # more ids not yet visible than this: do not narrow, walk as before
MAX_UNCOVERED = 5_000  # more rows not counted yet than this: likewise


@dataclass(frozen=True)
class SliceHours:
    """The hours with interactions of the slice, newest first and merged where they touch,
    and the rows the rollups do not cover yet (by id)."""

    ranges: list[tuple[datetime, datetime]]
    uncovered: list[int]


def slice_conditions(
    model: str | None,
    prompt_version: str | None,
    route: str | None,
    segment: str | None,
    language: str | None,
) -> list[sa.ColumnElement[bool]]:
    """The rollup rows of a slice: each given dimension must match (the model either the
    requested or the served one)."""
    c = rollups.c
    where: list[sa.ColumnElement[bool]] = []
    if model is not None:
        where.append(sa.or_(c.model_requested == model, c.model_served == model))
    for column, value in (
        (c.prompt_version, prompt_version),
        (c.route, route),
        (c.segment, segment),
        (c.language, language),
    ):
        if value is not None:
            where.append(column == value)
    return where


def slice_hours(
    conn: sa.Connection,
    project: str,
    dimensions: list[sa.ColumnElement[bool]],
    since: datetime | None,
    until: datetime | None,
    *,
    by_language: bool,
) -> SliceHours | None:
    """None when there is nothing to narrow by, or the rollups cannot say (never
    refreshed, too many ids in flight, or too many rows not counted yet)."""
    if not dimensions:
        return None
    marks = read_marks(conn, ("interactions", "features"))
    mark = marks.get("interactions")
    if mark is None:
        return None
    features = marks.get("features", Mark(0, {}))
    if len(mark.gaps) + len(features.gaps) > MAX_GAP_IDS:
        return None
    query = (
        sa.select(rollups.c.bucket_at)
        .where(
            rollups.c.project == project,
            rollups.c.grain_s == HOUR,
            rollups.c.interactions > 0,
            *dimensions,
        )
        .group_by(rollups.c.bucket_at)
        .order_by(rollups.c.bucket_at.desc())
    )
    if since is not None:
        query = query.where(rollups.c.bucket_at >= floor_to(since, HOUR))
    if until is not None:
        query = query.where(rollups.c.bucket_at < until)
    hour = timedelta(seconds=HOUR)
    ranges: list[tuple[datetime, datetime]] = []
    for (start,) in conn.execute(query):
        if ranges and ranges[-1][0] == start + hour:
            ranges[-1] = (start, ranges[-1][1])
        else:
            ranges.append((start, start + hour))
    uncovered = _uncovered(conn, project, mark, features if by_language else None)
    return None if uncovered is None else SliceHours(ranges, uncovered)


def _uncovered(
    conn: sa.Connection, project: str, mark: Mark, features: Mark | None
) -> list[int] | None:
    """Interactions the rollups have not counted yet, or (for a language) whose features
    they have not read yet; None when there are too many to list (the monitor is behind).
    Read by id, never by walking the start-time index."""
    # Only the id in the condition: with the project too the planner may pick the
    # (project, start_at) index and walk it all. Other projects' rows count in the limit.
    c = interactions.c
    either = [c.interaction_id > mark.last_id]
    if mark.gaps:
        either.append(c.interaction_id.in_(sorted(mark.gaps)))
    query = sa.select(c.interaction_id, c.project).where(sa.or_(*either))
    rows = list(conn.execute(query.limit(MAX_UNCOVERED + 1)))
    if features is not None:
        f = interaction_features.c
        late = [f.feature_id > features.last_id]
        if features.gaps:
            late.append(f.feature_id.in_(sorted(features.gaps)))
        query = sa.select(f.interaction_id, f.project).where(sa.or_(*late))
        rows += conn.execute(query.limit(MAX_UNCOVERED + 1))
    if len(rows) > MAX_UNCOVERED:
        return None
    found = [interaction_id for interaction_id, owner in rows if owner == project]
    return sorted(set(found))
