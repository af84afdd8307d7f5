"""Evaluate a project's rules on the stored rollups at a given time.

Rules that share a window or a baseline share its read: 50 rules over six
distinct ranges read six ranges of rollup rows, however many interactions lie
behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from liveeval.config.monitor import DriftConfig, RuleConfig
from liveeval.monitor.rollup import Aggregate, SliceValues, collapse
from liveeval.monitor.rules import NONE, Evaluation, evaluate_rule
from liveeval.store.rollups import (
    HOUR,
    MINUTE,
    BucketCache,
    floor_to,
    read_range,
    read_series,
)

Range = tuple[datetime, datetime]
STEP_MINUTES_UP_TO = timedelta(hours=6)  # longer step windows read hour buckets


def rule_ranges(rule: RuleConfig, now: datetime) -> tuple[Range, Range]:
    """The rule's window (ending at the last whole minute) and its baseline."""
    end = floor_to(now, MINUTE)
    start = end - rule.window
    return (start, end), rule.baseline_range(start)


def evaluate_project(
    conn: sa.Connection,
    project: str,
    rules: Sequence[RuleConfig],
    drift: DriftConfig,
    now: datetime,
    buckets: BucketCache | None = None,
) -> list[Evaluation]:
    """`buckets`: rollup buckets parsed on earlier ticks (the scheduler keeps them)."""
    cache: dict[Range, list[tuple[SliceValues, Aggregate]]] = {}

    def rows(span: Range) -> list[tuple[SliceValues, Aggregate]]:
        if span not in cache:
            cache[span] = collapse(read_range(conn, project, *span, buckets))
        return cache[span]

    out: list[Evaluation] = []
    for rule in rules:
        window, baseline = rule_ranges(rule, now)
        series = None
        if rule.metric == "judge_step":
            grain = MINUTE if rule.window <= STEP_MINUTES_UP_TO else HOUR
            series = list(read_series(conn, project, grain, *window))
        out += evaluate_rule(rule, rows(window), rows(baseline), drift, series=series)
    return out


_FILTERS = {
    "model_requested": "model",
    "model_served": "model",
    "prompt_version": "prompt_version",
    "route": "route",
    "segment": "segment",
    "language": "language",
}


def interactions_link(
    public_url: str | None, project: str, evaluation: Evaluation, now: datetime
) -> str | None:
    """The REST query listing the interactions behind an evaluation's window and slice."""
    if not public_url:
        return None
    (start, end), _ = rule_ranges(evaluation.rule, now)
    query = {"project": project, "since": start.isoformat(), "until": end.isoformat()}
    for dimension, value in evaluation.slice.items():
        if dimension in _FILTERS and value != NONE:
            query[_FILTERS[dimension]] = value
    return f"{public_url.rstrip('/')}/api/v1/interactions?{urlencode(query)}"
