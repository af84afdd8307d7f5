"""Metrics: each rule metric's value on a window and its baseline, and whether it breached.

Pure. Every function takes the window's and the baseline's `Aggregate` (sums over a
slice) and the rule, and returns a `Measurement`: both values, the samples behind
them, whether the move is a breach, and one sentence saying so with its numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from liveeval.config.monitor import JUDGE_METRICS, SIGNAL_RATES, RuleConfig
from liveeval.monitor.detectors import RESOLVE_BELOW, Detectability
from liveeval.monitor.rollup import BAD_SCORE, Aggregate
from liveeval.stats.histogram import LATENCY_EDGES_MS, histogram_quantile
from liveeval.stats.quality import ScoreSummary, quality_drift
from liveeval.stats.rates import rate_change, two_proportion_test

Alternative = Literal["two-sided", "larger", "smaller"]


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
    """`rule.metric` on the window against the baseline (`score`: the judge score name)."""
    metric = rule.metric
    if metric in JUDGE_METRICS:
        return _judge(rule, window.scores.get(score or ""), baseline.scores.get(score or ""))
    if metric in RATES:
        count = RATES[metric]
        return _rate(rule, *count(window), *count(baseline))
    if metric.startswith("latency_"):
        return _latency(rule, window, baseline, 0.5 if metric == "latency_p50" else 0.95)
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
    raise ValueError(f"metric {metric} is not measured from sums")  # drift: see rules.py


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


def _rate(
    rule: RuleConfig, successes: int, n: int, base_successes: int, base_n: int
) -> Measurement:
    value = successes / n if n else None
    base = base_successes / base_n if base_n else None
    short = _insufficient(rule, n, base_n, "interactions")
    if short or value is None or base is None:
        return Measurement(value, base, n, base_n, False, False, short or "no data")
    change = rate_change(successes, n, base_successes, base_n, rule.confidence)
    alternative: Alternative = (
        "larger"
        if rule.bad_direction == "rise"
        else "smaller"
        if rule.bad_direction == "drop"
        else "two-sided"
    )
    test = two_proportion_test(successes, n, base_successes, base_n, alternative=alternative)
    significant = test.p_value < 1 - rule.confidence
    breached = significant and _moved_enough(rule, value, base)
    low, high = change.interval
    summary = (
        f"{rule.metric} {_verb(value, base)} from {base:.1%} to {value:.1%} "
        f"({rule.confidence:.0%} CI {low:.1%}–{high:.1%}, n={n:,} vs {base_n:,}, "
        f"p={test.p_value:.2g})"
    )
    details = {
        "successes": successes,
        "baseline_successes": base_successes,
        "p_value": test.p_value,
    }
    return Measurement(value, base, n, base_n, breached, True, summary, details)


def _judge(
    rule: RuleConfig, window: ScoreSummary | None, baseline: ScoreSummary | None
) -> Measurement:
    window = window or ScoreSummary(bad_at=BAD_SCORE)
    baseline = baseline or ScoreSummary(bad_at=BAD_SCORE)
    n, base_n = window.moments.n, baseline.moments.n
    if rule.metric == "judge_bad_share":
        return _rate(rule, window.bad, n, baseline.bad, base_n)
    short = _insufficient(rule, n, base_n, "scores")
    if short:
        value = window.moments.mean if n else None
        base = baseline.moments.mean if base_n else None
        return Measurement(value, base, n, base_n, False, False, short)
    if rule.metric == "judge_p10":
        value, base = window.p10, baseline.p10
        breached = _moved_enough(rule, value, base)
        summary = (
            f"judge p10 {_verb(value, base)} from {base:g} to {value:g} (n={n:,} vs {base_n:,})"
        )
        return Measurement(value, base, n, base_n, breached, True, summary)
    drift = quality_drift(
        window,
        baseline,
        max_drop=rule.threshold or 0.0,
        relative=rule.relative,
        min_samples=rule.min_samples,
        confidence=rule.confidence,
    )
    d = drift.difference
    details = {"difference": d.difference, "low": d.low, "high": d.high, "p_value": d.p_value}
    details |= {"p10": drift.p10, "baseline_p10": drift.reference_p10}
    return Measurement(
        drift.mean, drift.reference_mean, n, base_n, drift.dropped, True, drift.reason, details
    )


def _latency(rule: RuleConfig, window: Aggregate, baseline: Aggregate, q: float) -> Measurement:
    n, base_n = window.interactions, baseline.interactions
    short = _insufficient(rule, n, base_n, "interactions")
    if short:
        return Measurement(None, None, n, base_n, False, False, short)
    value = float(histogram_quantile(window.latency_counts(), LATENCY_EDGES_MS, q))
    base = float(histogram_quantile(baseline.latency_counts(), LATENCY_EDGES_MS, q))
    breached = bool(_moved_enough(rule, value, base))
    summary = (
        f"p{round(q * 100)} latency {_verb(value, base)} from {base:,.0f} ms to {value:,.0f} ms "
        f"(n={n:,} vs {base_n:,})"
    )
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
