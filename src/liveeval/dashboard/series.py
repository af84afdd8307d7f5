"""Time series for the dashboard's charts, from the hourly rollups (never raw rows).

Each series is a list of hourly points; a chart gets `{"x": [unix seconds], "series":
[{"label", "values", "n": [count per point]?, "band": [low, high]?}], "y": {"label",
"min", "max", "share"?}}`, which static/charts.js draws with uPlot: the y axis spans the
metric's scale (a judge's 1–5, a share's 0 up to its largest value), never the width of
a small sample's confidence band, and bands are clamped to that scale.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from liveeval.model.rollup import Aggregate
from liveeval.model.slices import DIMENSIONS
from liveeval.stats.means import t_interval
from liveeval.stats.quality import ScoreSummary
from liveeval.store.rollups import HOUR, floor_to, read_series

Chart = dict[str, Any]


JUDGE_SCALE = (1.0, 5.0)
MIN_SHARE_AXIS = 0.05  # an all-zero rate still gets an axis from 0% to 5%


def _num(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _clamp(value: float | None, low: float, high: float) -> float | None:
    return None if value is None else min(high, max(low, value))


def scale_axis(label: str, values: Iterable[float | None], scale: tuple[float, float]) -> Chart:
    """A y axis over `scale`, widened to any value outside it (a binary rubric's 0)."""
    found = [v for v in values if v is not None]
    return {
        "label": label,
        "min": min([scale[0], *found]),
        "max": max([scale[1], *found]),
    }


def share_axis(label: str, values: Iterable[float | None]) -> Chart:
    """A y axis of shares from 0 to a little above the largest (at most 100%)."""
    top = max([v for v in values if v is not None], default=0.0)
    return {
        "label": label,
        "min": 0.0,
        "max": min(1.0, max(MIN_SHARE_AXIS, top * 1.1)),
        "share": True,
    }


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
        "y": {"label": "interactions per hour", "min": 0},
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
    scale: tuple[float, float] = JUDGE_SCALE,
) -> Chart:
    """Judge mean (with its 95% t band, clamped to `scale`), p10 or bad share per `every`
    hours, per slice, with the number of scores behind each point."""
    groups = [hours[i : i + every] for i in range(0, len(hours), every)]
    series = []
    for name, by_hour in sorted(sums.items()):
        values: list[float | None] = []
        low: list[float | None] = []
        high: list[float | None] = []
        counts: list[int] = []
        for group in groups:
            summary: ScoreSummary | None = None
            for h in group:
                found = score_of(by_hour.get(h), rubric)
                if found is not None:
                    summary = found if summary is None else summary + found
            counts.append(summary.n if summary is not None else 0)
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
                shown_mean = values[-1] if values[-1] is not None else scale[0]
                bottom, top = min(scale[0], shown_mean), max(scale[1], shown_mean)
                low.append(_clamp(_num(a), bottom, top))
                high.append(_clamp(_num(b), bottom, top))
            else:
                low.append(None)
                high.append(None)
        entry: dict[str, Any] = {"label": name, "values": values, "n": counts}
        if statistic == "mean":
            entry["band"] = [low, high]
        series.append(entry)
    shown: list[float | None] = [v for entry in series for v in entry["values"]]
    if statistic == "bad_share":
        axis = share_axis("share judged bad", shown)
    else:
        axis = scale_axis(f"judge {'p10' if statistic == 'p10' else 'mean'}", shown, scale)
    return {"x": _x(g[0] for g in groups), "series": series, "y": axis}


def rate_chart(
    hours: list[datetime],
    sums: dict[str, dict[datetime, Aggregate]],
    kind: str,
    every: int = 6,
) -> Chart:
    """A signal's rate (interactions with one / interactions) per `every` hours, with the
    interactions behind each point."""
    groups = [hours[i : i + every] for i in range(0, len(hours), every)]
    series: list[dict[str, Any]] = []
    for name, by_hour in sorted(sums.items()):
        values: list[float | None] = []
        counts: list[int] = []
        for group in groups:
            n = hits = 0
            for h in group:
                aggregate = by_hour.get(h)
                if aggregate is not None:
                    n += aggregate.interactions
                    hits += aggregate.errors if kind == "error" else aggregate.signals.get(kind, 0)
            values.append(_num(hits / n) if n else None)
            counts.append(n)
        series.append({"label": name, "values": values, "n": counts})
    shown: list[float | None] = [v for entry in series for v in entry["values"]]
    return {
        "x": _x(g[0] for g in groups),
        "series": series,
        "y": share_axis("share of interactions", shown),
    }


def totals(sums: dict[str, dict[datetime, Aggregate]]) -> Aggregate:
    total = Aggregate()
    for by_hour in sums.values():
        for aggregate in by_hour.values():
            total.add(aggregate)
    return total


# The dimensions whose first appearance is a deploy or a model change, with the word that
# names them on the time axis.
CHANGES = {"prompt_version": "prompt", "model_served": "model"}


def first_seen(
    conn: sa.Connection, project: str, since: datetime, until: datetime
) -> dict[str, dict[str, datetime]]:
    """Per dimension of CHANGES: value → the first hour it has traffic in [since, until]."""
    start, end = floor_to(since, HOUR), floor_to(until, HOUR) + timedelta(hours=1)
    positions = {d: DIMENSIONS.index(d) for d in CHANGES}
    seen: dict[str, dict[str, datetime]] = {d: {} for d in CHANGES}
    for bucket_at, values, aggregate in read_series(conn, project, HOUR, start, end):
        if aggregate.interactions == 0:
            continue
        for dimension, position in positions.items():
            value = values[position]
            if value:
                seen[dimension].setdefault(str(value), bucket_at)
    return seen


def change_markers(seen: dict[str, dict[str, datetime]]) -> list[dict[str, Any]]:
    """Labelled moments for the time axis: each prompt version or served model's first hour,
    in time order, skipping those seen in the first hour with traffic (present from the
    start, not a change within the range)."""
    firsts = [at for by_value in seen.values() for at in by_value.values()]
    if not firsts:
        return []
    opening = min(firsts)
    markers = [
        (at, f"{CHANGES.get(dimension, dimension)} {value}")
        for dimension, by_value in seen.items()
        for value, at in by_value.items()
        if at > opening
    ]
    return [{"x": int(at.timestamp()), "label": label} for at, label in sorted(markers)]
