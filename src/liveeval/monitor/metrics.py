"""Metrics: what a rule's evaluation says (`Measurement`), the counts each rate metric
reads from the rollups (`RATES`), and the threshold rules' window-against-baseline move.

Pure. Sequential rules (monitor/sequential.py) fill a `Measurement` from their CUSUM;
the threshold rules (judge_p10, cost_mean, edit_ratio_mean) compare the window's value
with the baseline's here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from liveeval.config.monitor import SIGNAL_RATES, RuleConfig
from liveeval.model.rollup import BAD_SCORE, Aggregate
from liveeval.monitor.detectors import RESOLVE_BELOW, Detectability
from liveeval.stats.quality import ScoreSummary


@dataclass(frozen=True, slots=True)
class Measurement:
    value: float | None
    baseline: float | None
    n: int
    baseline_n: int
    breached: bool
    sufficient: bool  # enough samples on both sides to decide
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    # Sequential rules: the CUSUM statistic as a share of its threshold (1 alarms), when
    # it rose above the threshold, and what the detector can see at this volume.
    evidence: float | None = None
    since: datetime | None = None
    detectability: Detectability | None = None
    high_until: datetime | None = None  # evidence last at half the threshold or more

    @property
    def clear(self) -> bool:
        """Clear enough to resolve an open alert: below half the threshold (hysteresis),
        or, for a threshold rule, not breached."""
        if self.evidence is None:
            return not self.breached
        return self.evidence < RESOLVE_BELOW


def measure(
    rule: RuleConfig, window: Aggregate, baseline: Aggregate, score: str | None = None
) -> Measurement:
    """A threshold rule's metric on the window against the baseline (`score`: the judge
    score name, for judge_p10)."""
    metric = rule.metric
    if metric == "judge_p10":
        return _p10(rule, window.scores.get(score or ""), baseline.scores.get(score or ""))
    if metric == "cost_mean":
        return _mean(
            rule, window.cost_usd_sum, window.cost_n, baseline.cost_usd_sum, baseline.cost_n
        )
    if metric == "edit_ratio_mean":
        return _mean(
            rule,
            window.edit_ratio_sum,
            window.edit_ratio_n,
            baseline.edit_ratio_sum,
            baseline.edit_ratio_n,
        )
    raise ValueError(f"metric {metric} is decided by a detector, not a threshold")


def _signal_counter(kind: str) -> Callable[[Aggregate], tuple[int, int]]:
    return lambda agg: (agg.signals.get(kind, 0), agg.interactions)


def _judged(agg: Aggregate) -> tuple[int, int]:
    judged = max((s.moments.n for s in agg.scores.values()), default=0)
    return agg.judge_errors, agg.judge_errors + judged


RATES: dict[str, Callable[[Aggregate], tuple[int, int]]] = {
    **{metric: _signal_counter(kind) for metric, kind in SIGNAL_RATES.items()},
    "error_rate": lambda agg: (agg.errors, agg.interactions),
    "check_failure_rate": lambda agg: (agg.check_failed, agg.interactions),
    "model_mismatch_rate": lambda agg: (agg.model_mismatch, agg.interactions),
    "judge_error_rate": _judged,
}


def _moved_enough(rule: RuleConfig, value: float, baseline: float) -> bool:
    threshold = rule.threshold or 0.0
    allowed = threshold * abs(baseline) if rule.relative else threshold
    change = value - baseline
    if rule.bad_direction == "drop":
        return -change > allowed
    if rule.bad_direction == "rise":
        return change > allowed
    return abs(change) > allowed


def _insufficient(rule: RuleConfig, n: int, baseline_n: int, what: str) -> str | None:
    if n < rule.min_samples:
        return f"only {n:,} {what} in the window, need {rule.min_samples:,}"
    if baseline_n < rule.min_samples:
        return f"only {baseline_n:,} {what} in the baseline, need {rule.min_samples:,}"
    return None


def _verb(value: float, baseline: float) -> str:
    return "rose" if value > baseline else "fell" if value < baseline else "stayed"


def _p10(
    rule: RuleConfig, window: ScoreSummary | None, baseline: ScoreSummary | None
) -> Measurement:
    window = window or ScoreSummary(bad_at=BAD_SCORE)
    baseline = baseline or ScoreSummary(bad_at=BAD_SCORE)
    n, base_n = window.moments.n, baseline.moments.n
    short = _insufficient(rule, n, base_n, "scores")
    if short:
        value = window.moments.mean if n else None
        base = baseline.moments.mean if base_n else None
        return Measurement(value, base, n, base_n, False, False, short)
    value, base = window.p10, baseline.p10
    breached = _moved_enough(rule, value, base)
    summary = f"judge p10 {_verb(value, base)} from {base:g} to {value:g} (n={n:,} vs {base_n:,})"
    return Measurement(value, base, n, base_n, breached, True, summary)


def _mean(rule: RuleConfig, total: float, n: int, base_total: float, base_n: int) -> Measurement:
    short = _insufficient(rule, n, base_n, "values")
    value = total / n if n else None
    base = base_total / base_n if base_n else None
    if short or value is None or base is None:
        return Measurement(value, base, n, base_n, False, False, short or "no data")
    breached = _moved_enough(rule, value, base)
    summary = (
        f"{rule.metric} {_verb(value, base)} from {base:.4g} to {value:.4g} (n={n:,} vs {base_n:,})"
    )
    return Measurement(value, base, n, base_n, breached, True, summary)
