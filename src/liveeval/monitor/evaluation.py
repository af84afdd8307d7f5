"""Evaluate a project's rules on the stored rollups at a given time.

Rules that share a window or a baseline share its read: 50 rules over six
distinct ranges read six ranges of rollup rows, however many interactions lie
behind them. Every rule is planned first, then decided with the project's
false-alarm budget spread over all their detectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from liveeval.config.monitor import DriftConfig, RuleConfig
from liveeval.model.rollup import Aggregate, collapse
from liveeval.model.slices import SliceValues
from liveeval.monitor.budget import Budget
from liveeval.monitor.rules import NONE, Evaluation, count_detectors, decide, plan_rule
from liveeval.monitor.sequential import Planned
from liveeval.store.rollups import (
    MINUTE,
    BucketCache,
    TimedBuckets,
    floor_to,
    read_range,
    read_range_series,
)

Range = tuple[datetime, datetime]
STEP_MINUTES_UP_TO = timedelta(hours=6)  # judge_step windows this short are read by minute


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
    false_alerts_per_month: float = 1.0,
) -> list[Evaluation]:
    """`buckets`: rollup buckets parsed on earlier ticks (the scheduler keeps them)."""
    sums: dict[Range, list[tuple[SliceValues, Aggregate]]] = {}
    timed: dict[tuple[Range, bool], TimedBuckets] = {}
    reader = buckets or BucketCache()

    def rows(span: Range) -> list[tuple[SliceValues, Aggregate]]:
        if span not in sums:
            sums[span] = collapse(read_range(conn, project, *span, reader))
        return sums[span]

    def series(span: Range, minutes: bool) -> TimedBuckets:
        if (span, minutes) not in timed:
            timed[(span, minutes)] = read_range_series(conn, project, *span, reader, minutes)
        return timed[(span, minutes)]

    planned: list[Planned] = []
    for rule in rules:
        window, baseline = rule_ranges(rule, now)
        minutes = rule.metric == "judge_step" and rule.window <= STEP_MINUTES_UP_TO
        planned += plan_rule(rule, series(window, minutes), rows(baseline), drift)
    return decide(planned, Budget(false_alerts_per_month, count_detectors(planned)))


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


def alert_link(public_url: str | None, alert_id: int | None) -> str | None:
    """The dashboard's page of one alert (what moved, the evidence, links to the
    interactions), which notifications lead to; None without the server's URL."""
    if not public_url or alert_id is None:
        return None
    return f"{public_url.rstrip('/')}/ui/alerts/{alert_id}"
