"""Time series for the dashboard's charts, from the hourly rollups (never raw rows).

Each series is a list of hourly points; a chart gets `{"x": [unix seconds], "series":
[{"label", "values", "band": [low, high]?}]}`, which static/charts.js draws with uPlot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.config.monitor import DIMENSIONS
from liveeval.monitor.rollup import Aggregate
from liveeval.stats.means import t_interval
from liveeval.stats.quality import ScoreSummary
from liveeval.store.rollups import HOUR, floor_to, read_series

Chart = dict[str, Any]


def _num(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def hourly(
    conn: sa.Connection,
    project: str,
    since: datetime,
    until: datetime,
    dimension: str | None = None,
) -> tuple[list[datetime], dict[str, dict[datetime, Aggregate]]]:
    """Per slice value of `dimension` (one "all" slice when None): hour → sums."""
    start, end = floor_to(since, HOUR), floor_to(until, HOUR) + timedelta(hours=1)
    hours = []
    at = start
    while at < end:
        hours.append(at)
        at += timedelta(hours=1)
    sums: dict[str, dict[datetime, Aggregate]] = defaultdict(dict)
    position = DIMENSIONS.index(dimension) if dimension is not None else None
    for bucket_at, values, aggregate in read_series(conn, project, HOUR, start, end):
        key = "all" if position is None else str(values[position] or "-")
        into = sums[key].setdefault(bucket_at, Aggregate())
        into.add(aggregate)
    return hours, dict(sums)


def since(
    sums: dict[str, dict[datetime, Aggregate]], at: datetime
) -> dict[str, dict[datetime, Aggregate]]:
    """The hours of `sums` from the one holding `at` on (as `hourly` would read them)."""
    first = floor_to(at, HOUR)
    return {
        name: {h: a for h, a in by_hour.items() if h >= first} for name, by_hour in sums.items()
    }


def _x(hours: Iterable[datetime]) -> list[int]:
    return [int(h.timestamp()) for h in hours]


def traffic_chart(hours: list[datetime], sums: dict[str, dict[datetime, Aggregate]]) -> Chart:
    return {
        "x": _x(hours),
        "series": [
            {
                "label": name,
                "values": [by_hour[h].interactions if h in by_hour else 0 for h in hours],
            }
            for name, by_hour in sorted(sums.items())
        ],
    }


def score_of(aggregate: Aggregate | None, rubric: str | None) -> ScoreSummary | None:
    if aggregate is None:
        return None
    if rubric is not None:
        return aggregate.scores.get(rubric)
    found = [s for s in aggregate.scores.values()]
    if not found:
        return None
    total = found[0]
    for other in found[1:]:
        total = total + other
    return total


def quality_chart(
    hours: list[datetime],
    sums: dict[str, dict[datetime, Aggregate]],
    rubric: str | None,
    statistic: str = "mean",
    every: int = 6,
) -> Chart:
    """Judge mean (with its 95% t band), p10 or bad share per `every` hours, per slice."""
    groups = [hours[i : i + every] for i in range(0, len(hours), every)]
    series = []
    for name, by_hour in sorted(sums.items()):
        values: list[float | None] = []
        low: list[float | None] = []
        high: list[float | None] = []
        for group in groups:
            summary: ScoreSummary | None = None
            for h in group:
                found = score_of(by_hour.get(h), rubric)
                if found is not None:
                    summary = found if summary is None else summary + found
            if summary is None or summary.n == 0:
                values.append(None)
                low.append(None)
                high.append(None)
                continue
            if statistic == "p10":
                values.append(_num(summary.p10))
            elif statistic == "bad_share":
                values.append(_num(summary.bad / summary.n))
            else:
                values.append(_num(summary.moments.mean))
            if statistic == "mean" and summary.n >= 2:
                a, b = t_interval(summary.moments)
                low.append(_num(a))
                high.append(_num(b))
            else:
                low.append(None)
                high.append(None)
        entry: dict[str, Any] = {"label": name, "values": values}
        if statistic == "mean":
            entry["band"] = [low, high]
        series.append(entry)
    return {"x": _x(g[0] for g in groups), "series": series}


def rate_chart(
    hours: list[datetime],
    sums: dict[str, dict[datetime, Aggregate]],
    kind: str,
    every: int = 6,
) -> Chart:
    """A signal's rate (interactions with one / interactions) per `every` hours."""
    groups = [hours[i : i + every] for i in range(0, len(hours), every)]
    series = []
    for name, by_hour in sorted(sums.items()):
        values = []
        for group in groups:
            n = hits = 0
            for h in group:
                aggregate = by_hour.get(h)
                if aggregate is not None:
                    n += aggregate.interactions
                    hits += aggregate.errors if kind == "error" else aggregate.signals.get(kind, 0)
            values.append(_num(hits / n) if n else None)
        series.append({"label": name, "values": values})
    return {"x": _x(g[0] for g in groups), "series": series}


def totals(sums: dict[str, dict[datetime, Aggregate]]) -> Aggregate:
    total = Aggregate()
    for by_hour in sums.values():
        for aggregate in by_hour.values():
            total.add(aggregate)
    return total
