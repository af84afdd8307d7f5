"""Where in time a slice's interactions are (or its low judge scores), from the hour rollups.

Listing the newest interactions of a slice (a prompt version, a route, a language) walks
the newest-first index until it has a page: over a week of a million interactions, all
of it when the value is rare or absent. The hour rollups count every slice's
interactions per hour, so a listing needs to read only the hours that hold some, plus
the rows the rollups have not read yet: those above the refresh's watermarks (and, on
PostgreSQL, the ids still in its gaps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from liveeval.store.rollups import HOUR, floor_to
from liveeval.store.schema import interaction_features, interactions, rollups, scores
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
    max_score: float | None = None,
) -> SliceHours | None:
    """None when there is nothing to narrow by, or the rollups cannot say (never
    refreshed, too many ids in flight, or too many rows not counted yet). With
    `max_score`, only hours where some judge score was at most that (by the rollups'
    counts per rounded level, a superset) count."""
    if not dimensions and max_score is None:
        return None
    marks = read_marks(conn, ("interactions", "features", "scores"))
    mark = marks.get("interactions")
    if mark is None:
        return None
    late = [marks.get("features", Mark(0, {}))] if by_language else []
    if max_score is not None:
        late.append(marks.get("scores", Mark(0, {})))
    if len(mark.gaps) + sum(len(m.gaps) for m in late) > MAX_GAP_IDS:
        return None
    starts = _hours(conn, project, dimensions, since, until, max_score)
    hour = timedelta(seconds=HOUR)
    ranges: list[tuple[datetime, datetime]] = []
    for start in sorted(starts, reverse=True):
        if ranges and ranges[-1][0] == start + hour:
            ranges[-1] = (start, ranges[-1][1])
        else:
            ranges.append((start, start + hour))
    sources = [(interaction_features, late[0])] if by_language else []
    if max_score is not None:
        sources.append((scores, late[-1]))
    uncovered = _uncovered(conn, project, mark, sources)
    return None if uncovered is None else SliceHours(ranges, uncovered)


def _hours(
    conn: sa.Connection,
    project: str,
    dimensions: list[sa.ColumnElement[bool]],
    since: datetime | None,
    until: datetime | None,
    max_score: float | None,
) -> set[datetime]:
    """The hours whose rollup rows match, and (with `max_score`) hold a low enough score."""
    c = rollups.c
    query = sa.select(c.bucket_at).where(
        c.project == project, c.grain_s == HOUR, c.interactions > 0, *dimensions
    )
    if since is not None:
        query = query.where(c.bucket_at >= floor_to(since, HOUR))
    if until is not None:
        query = query.where(c.bucket_at < until)
    if max_score is None:
        return set(conn.execute(query.distinct()).scalars())
    highest = math.floor(max_score + 0.5)  # levels are scores rounded half up
    found: set[datetime] = set()
    query = query.add_columns(sa.type_coerce(c.scores, sa.Text).label("scores"))
    for start, stored in conn.execute(query):
        if start in found or not stored:
            continue
        summaries = orjson.loads(stored) if isinstance(stored, str | bytes) else stored
        for summary in summaries.values():
            levels = summary[4]  # [n, total, total_sq, bad, {level: count}]
            if any(float(level) <= highest and count for level, count in levels.items()):
                found.add(start)
                break
    return found


def _uncovered(
    conn: sa.Connection,
    project: str,
    mark: Mark,
    sources: list[tuple[sa.Table, Mark]],
) -> list[int] | None:
    """Interactions the rollups have not counted yet, or whose features or scores (the
    `sources`, by their watermarks) they have not read yet; None when there are too many
    to list (the monitor is behind). Read by id, never by walking the start-time index."""
    # Only the id in the condition: with the project too the planner may pick the
    # (project, start_at) index and walk it all. Other projects' rows count in the limit.
    c = interactions.c
    either = [c.interaction_id > mark.last_id]
    if mark.gaps:
        either.append(c.interaction_id.in_(sorted(mark.gaps)))
    query = sa.select(c.interaction_id, c.project).where(sa.or_(*either))
    rows = list(conn.execute(query.limit(MAX_UNCOVERED + 1)))
    for table, late_mark in sources:
        row_id = table.primary_key.columns.values()[0]
        late = [row_id > late_mark.last_id]
        if late_mark.gaps:
            late.append(row_id.in_(sorted(late_mark.gaps)))
        query = sa.select(table.c.interaction_id, table.c.project).where(sa.or_(*late))
        rows += conn.execute(query.limit(MAX_UNCOVERED + 1))
    if len(rows) > MAX_UNCOVERED:
        return None
    found = [interaction_id for interaction_id, owner in rows if owner == project]
    return sorted(set(found))
