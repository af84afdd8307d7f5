"""Rollup upkeep and reads: rebuild the buckets that new rows touched; sum a time range.

New rows are found by the growing ids of their tables (watermarks), so upkeep never
scans. Each touched minute is rebuilt from its raw rows, then its hour from its
minutes: rebuilding is idempotent, so a retried or overlapping run is harmless. On
PostgreSQL ids can commit out of order: the ids below the watermark that were not
visible yet (gaps) are looked up again on later runs, for `GAP_TTL_S` (SQLite has one
writer: its ids become visible in order).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from liveeval.model.rollup import (
    Aggregate,
    RawInteraction,
    RawScore,
    RawSignal,
    aggregate_bucket,
    collapse,
)
from liveeval.model.slices import DIMENSIONS, SliceValues, slice_key
from liveeval.store.dialect import bulk_insert, clip, db_json, db_time, string_widths
from liveeval.store.schema import (
    interaction_features,
    interactions,
    rollups,
    scores,
    signals,
)
from liveeval.store.watermarks import Mark, read_marks, save_marks

MINUTE = 60
HOUR = 3600
CHUNK = 50_000  # new rows read per source per run; the next run takes the rest

_SOURCES = {
    "interactions": (interactions.c.interaction_id, None),
    "signals": (signals.c.signal_id, signals.c.interaction_id),
    "scores": (scores.c.score_id, scores.c.interaction_id),
    "features": (interaction_features.c.feature_id, interaction_features.c.interaction_id),
}
_COLUMNS = (
    "project",
    "grain_s",
    "bucket_at",
    "slice_key",
    *DIMENSIONS,
    "interactions",
    "errors",
    "latency_ms_sum",
    "latency_hist",
    "cost_usd_sum",
    "cost_n",
    "model_mismatch",
    "check_failed",
    "judge_errors",
    "signals",
    "edit_ratio_sum",
    "edit_ratio_n",
    "scores",
)
_JSON = {"latency_hist", "signals", "scores"}
_WIDTHS = string_widths(rollups, _COLUMNS)


@dataclass(frozen=True, slots=True)
class Refreshed:
    minutes: int
    hours: int


def floor_to(at: datetime, grain_s: int) -> datetime:
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % grain_s, UTC)


@dataclass
class RefreshPlan:
    """What a refresh will write: the rebuilt buckets and the new watermarks."""

    marks: dict[str, Mark]
    new_marks: dict[str, Mark]
    minutes: dict[tuple[str, datetime], dict[SliceValues, Aggregate]]
    hours: dict[tuple[str, datetime], dict[SliceValues, Aggregate]]


def refresh_rollups(conn: sa.Connection) -> Refreshed:
    """Rebuild every bucket that rows written since the last run fall into."""
    return apply_refresh(conn, plan_refresh(conn))


def plan_refresh(conn: sa.Connection) -> RefreshPlan:
    """Read what changed and compute its buckets: reads only, so on SQLite the monitor
    does this outside the write lock and ingest does not wait for it."""
    marks = read_marks(conn, _SOURCES)
    track_gaps = conn.dialect.name != "sqlite"  # one writer: ids become visible in order
    touched: set[tuple[str, datetime]] = set()
    new_marks: dict[str, Mark] = {}
    for source, (id_column, interaction_column) in _SOURCES.items():
        mark = marks.get(source, Mark(0, {}))
        found, seen = _touched(conn, id_column, interaction_column, mark)
        touched |= found
        new_marks[source] = mark.advanced(seen, track_gaps, time.time())
    minutes = {key: _minute_sums(conn, *key) for key in sorted(touched)}
    hours = {}
    for project, hour in sorted({(p, floor_to(m, HOUR)) for p, m in touched}):
        hours[(project, hour)] = _hour_sums(conn, project, hour, minutes)
    return RefreshPlan(marks, new_marks, minutes, hours)


def apply_refresh(conn: sa.Connection, plan: RefreshPlan) -> Refreshed:
    for (project, minute), sums in plan.minutes.items():
        _replace(conn, project, MINUTE, minute, sums)
    for (project, hour), sums in plan.hours.items():
        _replace(conn, project, HOUR, hour, sums)
    save_marks(conn, plan.marks, plan.new_marks)
    return Refreshed(len(plan.minutes), len(plan.hours))


def _touched(
    conn: sa.Connection,
    id_column: sa.Column[int],
    interaction_column: sa.Column[int] | None,
    mark: Mark,
) -> tuple[set[tuple[str, datetime]], set[int]]:
    picked = sa.select(id_column.label("row_id"))
    if interaction_column is not None:
        picked = picked.add_columns(interaction_column.label("iid"))
    new = picked.where(id_column > mark.last_id).order_by(id_column).limit(CHUNK)
    if mark.gaps:
        late = picked.where(id_column.in_(sorted(mark.gaps)))
        ids = sa.union_all(new.subquery().select(), late).subquery()
    else:
        ids = new.subquery()
    join_on = (
        interactions.c.interaction_id == ids.c.iid
        if interaction_column is not None
        else interactions.c.interaction_id == ids.c.row_id
    )
    query = sa.select(ids.c.row_id, interactions.c.project, interactions.c.start_at).select_from(
        ids.outerjoin(interactions, join_on)
    )
    found: set[tuple[str, datetime]] = set()
    seen: set[int] = set()
    for row_id, project, start_at in conn.execute(query):
        seen.add(row_id)
        if project is not None:
            found.add((project, floor_to(start_at, MINUTE)))
    return found, seen


def _minute_sums(
    conn: sa.Connection, project: str, minute: datetime
) -> dict[SliceValues, Aggregate]:
    """A minute's sums, its raw rows streamed into them: a busy minute has tens of
    thousands of interactions and several scores each, which are never all held at once
    (held, they cost 34 MB at 300 spans/s; kept by the allocator afterwards)."""
    end = minute + timedelta(seconds=MINUTE)
    window = sa.and_(
        interactions.c.project == project,
        interactions.c.start_at >= minute,
        interactions.c.start_at < end,
    )
    return aggregate_bucket(
        _raw_interactions(conn, window),
        _raw_signals(conn, window),
        _raw_scores(conn, window),
    )


def _raw_interactions(
    conn: sa.Connection, window: sa.ColumnElement[bool]
) -> Iterator[RawInteraction]:
    dims = [interactions.c[d] for d in DIMENSIONS if d != "language"]
    query = (
        sa.select(
            interactions.c.interaction_id,
            *dims,
            interaction_features.c.language,
            interactions.c.status,
            interactions.c.latency_ms,
            interactions.c.cost_usd,
        )
        .select_from(interactions.outerjoin(interaction_features))
        .where(window)
    )
    shared: dict[SliceValues, SliceValues] = {}  # one tuple per slice, not one per row
    for row in conn.execute(query):
        values = (*row[1 : len(dims) + 1], row.language)
        yield RawInteraction(
            row.interaction_id,
            shared.setdefault(values, values),
            row.status,
            row.latency_ms,
            row.cost_usd,
            row.model_requested,
            row.model_served,
        )


def _raw_signals(conn: sa.Connection, window: sa.ColumnElement[bool]) -> Iterator[RawSignal]:
    query = (
        sa.select(signals.c.interaction_id, signals.c.kind, signals.c.value)
        .select_from(signals.join(interactions))
        .where(window)
    )
    for row in conn.execute(query):
        yield RawSignal(*row)


def _raw_scores(conn: sa.Connection, window: sa.ColumnElement[bool]) -> Iterator[RawScore]:
    query = (
        sa.select(
            scores.c.interaction_id,
            scores.c.name,
            scores.c.kind,
            scores.c.status,
            scores.c.value,
            scores.c.details,
        )
        .select_from(scores.join(interactions))
        .where(window, scores.c.kind.in_(("check", "judge")))
    )
    for row in conn.execute(query):
        yield RawScore(
            row.interaction_id,
            row.name,
            row.kind,
            row.status,
            row.value,
            _passed(row),
            _binary(row),
        )


def _passed(row: sa.Row) -> bool | None:
    details = row.details
    if row.kind != "check" or not isinstance(details, dict):
        return None
    passed = details.get("passed")
    return passed if isinstance(passed, bool) else None


def _binary(row: sa.Row) -> bool:
    """A judge score of a binary rubric (the grader records the rubric's scale)."""
    details = row.details
    return row.kind == "judge" and isinstance(details, dict) and details.get("scale") == "binary"


def _hour_sums(
    conn: sa.Connection,
    project: str,
    hour: datetime,
    rebuilt: dict[tuple[str, datetime], dict[SliceValues, Aggregate]],
) -> dict[SliceValues, Aggregate]:
    """An hour's sums: its stored minutes, with the ones just rebuilt in their place."""
    sums: dict[SliceValues, Aggregate] = defaultdict(Aggregate)
    end = hour + timedelta(hours=1)
    for at, values, agg in read_series(conn, project, MINUTE, hour, end):
        if (project, at) not in rebuilt:
            sums[values].add(agg)
    for (where, minute), by_slice in rebuilt.items():
        if where == project and hour <= minute < end:
            for values, agg in by_slice.items():
                sums[values].add(agg)
    return dict(sums)


def _replace(
    conn: sa.Connection,
    project: str,
    grain_s: int,
    bucket_at: datetime,
    sums: dict[SliceValues, Aggregate],
) -> None:
    conn.execute(
        rollups.delete().where(
            rollups.c.project == project,
            rollups.c.grain_s == grain_s,
            rollups.c.bucket_at == bucket_at,
        )
    )
    as_time = db_time(conn)
    rows = []
    for values, agg in sums.items():
        columns = agg.to_columns()
        stored = [db_json(columns[c]) if c in _JSON else columns[c] for c in _COLUMNS[10:]]
        row = (project, grain_s, as_time(bucket_at), slice_key(values), *values, *stored)
        rows.append(clip(row, _WIDTHS))
    bulk_insert(
        conn, rollups, _COLUMNS, rows, unique=("project", "grain_s", "bucket_at", "slice_key")
    )


def read_buckets(
    conn: sa.Connection, project: str, grain_s: int, start: datetime, end: datetime
) -> Iterator[tuple[SliceValues, Aggregate]]:
    for _, values, agg in read_series(conn, project, grain_s, start, end):
        yield values, agg


def read_series(
    conn: sa.Connection, project: str, grain_s: int, start: datetime, end: datetime
) -> Iterator[tuple[datetime, SliceValues, Aggregate]]:
    """Each bucket of [start, end) at `grain_s`, per slice, in time order."""
    columns = ("bucket_at", *DIMENSIONS, *_COLUMNS[10:])
    # JSON columns come back as driver values (text on SQLite, parsed here with orjson):
    # SQLAlchemy's JSON processing costs more than the query at tens of thousands of rows.
    selected = [
        sa.type_coerce(rollups.c[c], sa.Text).label(c) if c in _JSON else rollups.c[c]
        for c in columns
    ]
    query = (
        sa.select(*selected)
        .where(
            rollups.c.project == project,
            rollups.c.grain_s == grain_s,
            rollups.c.bucket_at >= start,
            rollups.c.bucket_at < end,
        )
        .order_by(rollups.c.bucket_at)
    )
    width = len(DIMENSIONS)
    names = columns[1 + width :]
    for row in conn.execute(query):
        stored = dict(zip(names, row[1 + width :], strict=True))
        for name in _JSON:
            if isinstance(stored[name], str):
                stored[name] = orjson.loads(stored[name])
        yield row[0], tuple(row[1 : 1 + width]), Aggregate.from_columns(stored)


Buckets = list[tuple[SliceValues, Aggregate]]


class BucketCache:
    """Parsed rollup buckets kept between ticks: a 7-day baseline moves by a minute a
    tick, so nearly all its buckets were read before. The refresh says which buckets it
    rewrote (`forget`); only those and the new ones are read again. `sweep` after a tick
    keeps only what that tick read: the minute buckets at a window's moving edges are read
    for an hour at most, and would otherwise stay until the longest lookback passed."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int, datetime], Buckets] = {}
        # Per bucket, its rows summed by a slicing (the rules' work, kept between ticks).
        self.sums: dict[tuple[str, int, datetime], dict[Any, Any]] = {}
        # Runs of whole hours summed per slice: a baseline's hours change once an hour.
        self.hour_runs: dict[tuple[str, datetime, datetime], Buckets] = {}
        self._used: set[tuple[str, int, datetime]] = set()  # buckets read since `sweep`
        self._used_runs: set[tuple[str, datetime, datetime]] = set()

    def forget(self, project: str, grain_s: int, bucket_at: datetime) -> None:
        self.buckets.pop((project, grain_s, bucket_at), None)
        self.sums.pop((project, grain_s, bucket_at), None)
        if grain_s == HOUR:
            for key in [k for k in self.hour_runs if k[0] == project and k[1] <= bucket_at < k[2]]:
                del self.hour_runs[key]

    def drop_before(self, at: datetime) -> None:
        for key in [k for k in self.buckets if k[2] < at]:
            del self.buckets[key]
        for key in [k for k in self.sums if k[2] < at]:
            del self.sums[key]
        for run in [k for k in self.hour_runs if k[1] < at]:
            del self.hour_runs[run]

    def sweep(self) -> None:
        """Drop every bucket, memo and hour run not read since the last sweep."""
        self.buckets = {k: v for k, v in self.buckets.items() if k in self._used}
        self.sums = {k: v for k, v in self.sums.items() if k in self._used}
        self.hour_runs = {k: v for k, v in self.hour_runs.items() if k in self._used_runs}
        self._used, self._used_runs = set(), set()

    def read_hours_summed(
        self, conn: sa.Connection, project: str, start: datetime, end: datetime
    ) -> Buckets:
        """The hours of [start, end) summed per slice (kept until one of them changes)."""
        key = (project, start, end)
        self._used_runs.add(key)
        found = self.hour_runs.get(key)
        if found is not None:  # its hours are kept too: the next run reads them from here
            self._used.update((project, HOUR, t) for t in _starts(start, end, HOUR))
        else:
            if len(self.hour_runs) > 64:
                self.hour_runs.clear()
            found = self.hour_runs[key] = collapse(self.read(conn, project, HOUR, start, end))
        return found

    def sums_of(self, project: str, grain_s: int, bucket_at: datetime) -> dict[Any, Any]:
        self._used.add((project, grain_s, bucket_at))
        return self.sums.setdefault((project, grain_s, bucket_at), {})

    def read(
        self, conn: sa.Connection, project: str, grain_s: int, start: datetime, end: datetime
    ) -> Buckets:
        return [row for _, rows in self.read_timed(conn, project, grain_s, start, end)
                for row in rows]  # fmt: skip

    def read_timed(
        self, conn: sa.Connection, project: str, grain_s: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, Buckets]]:
        """Each bucket's rows with its start, in time order."""
        step = timedelta(seconds=grain_s)
        times = _starts(start, end, grain_s)
        self._used.update((project, grain_s, t) for t in times)
        missing = [t for t in times if (project, grain_s, t) not in self.buckets]
        if missing:
            fresh = set(missing)
            for t in missing:
                self.buckets[(project, grain_s, t)] = []
            low, high = missing[0], missing[-1] + step
            for at, values, agg in read_series(conn, project, grain_s, low, high):
                if at in fresh:
                    self.buckets[(project, grain_s, at)].append((values, agg))
        return [(t, self.buckets[(project, grain_s, t)]) for t in times]


def _starts(start: datetime, end: datetime, grain_s: int) -> list[datetime]:
    """The starts of the `grain_s` buckets of [start, end)."""
    step = timedelta(seconds=grain_s)
    times = []
    at = start
    while at < end:
        times.append(at)
        at += step
    return times


def read_range(
    conn: sa.Connection,
    project: str,
    start: datetime,
    end: datetime,
    cache: BucketCache | None = None,
) -> Buckets:
    """Every slice's sums over [start, end), to the minute: whole hours from hour rows,
    the ragged edges from minute rows (through `cache` when given)."""
    start, end = floor_to(start, MINUTE), floor_to(end, MINUTE)
    if end <= start:
        return []

    def read(grain_s: int, low: datetime, high: datetime) -> Buckets:
        if cache is None:
            return list(read_buckets(conn, project, grain_s, low, high))
        if grain_s == HOUR:
            return cache.read_hours_summed(conn, project, low, high)
        return cache.read(conn, project, grain_s, low, high)

    first_hour = floor_to(start + timedelta(seconds=HOUR - 1), HOUR)
    last_hour = floor_to(end, HOUR)
    if first_hour >= last_hour:
        return read(MINUTE, start, end)
    return [
        *read(MINUTE, start, first_hour),
        *read(HOUR, first_hour, last_hour),
        *read(MINUTE, last_hour, end),
    ]


# Each bucket of a range: its start and end, its rows, and a memo of its rows summed by
# a slicing (kept by the cache between ticks; see monitor/sequential.py `batches_by_slice`).
TimedBuckets = list[tuple[datetime, datetime, Buckets, dict[Any, Any]]]


def read_range_series(
    conn: sa.Connection,
    project: str,
    start: datetime,
    end: datetime,
    cache: BucketCache | None = None,
    minutes: bool = False,
) -> TimedBuckets:
    """[start, end) as batches in time order: whole hours from hour rows, the ragged edges
    minute by minute (through `cache` when given); all of it minute by minute when
    `minutes`."""
    start, end = floor_to(start, MINUTE), floor_to(end, MINUTE)
    if end <= start:
        return []
    reader = cache or BucketCache()

    def read(grain_s: int, low: datetime, high: datetime) -> TimedBuckets:
        if high <= low:
            return []
        step = timedelta(seconds=grain_s)
        return [
            (at, at + step, rows, reader.sums_of(project, grain_s, at))
            for at, rows in reader.read_timed(conn, project, grain_s, low, high)
        ]

    first_hour = floor_to(start + timedelta(seconds=HOUR - 1), HOUR)
    last_hour = floor_to(end, HOUR)
    if minutes or first_hour >= last_hour:
        return read(MINUTE, start, end)
    return [
        *read(MINUTE, start, first_hour),
        *read(HOUR, first_hour, last_hour),
        *read(MINUTE, last_hour, end),
    ]


def rollup_projects(conn: sa.Connection, since: datetime) -> list[str]:
    """Projects with traffic since `since` (hour rows)."""
    query = (
        sa.select(rollups.c.project)
        .where(rollups.c.grain_s == HOUR, rollups.c.bucket_at >= floor_to(since, HOUR))
        .distinct()
    )
    return sorted(conn.execute(query).scalars())
