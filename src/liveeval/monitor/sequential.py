"""Sequential rules: a detector per slice for rates, judge scores and latency quantiles,
and the sentence each verdict becomes.

Pure. For one rule and one slicing (say `language`), every slice gets a CUSUM over
its batches in the window, tuned to the rule's minimum effect. Its in-control value
is the slice's baseline shrunk toward the other slices' (empirical Bayes), taken at a
conservative credible bound, so a thin or new slice borrows strength from the
project and a noisy baseline does not raise false alarms.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from liveeval.config.monitor import RuleConfig
from liveeval.model.rollup import Aggregate
from liveeval.model.slices import DIMENSIONS, SliceValues
from liveeval.monitor.budget import Budget
from liveeval.monitor.detectors import Bernoulli, Detector, Direction, Gaussian, Verdict
from liveeval.monitor.metrics import RATES, Measurement
from liveeval.stats.histogram import LATENCY_EDGES_MS, bucket_index, histogram_quantile
from liveeval.stats.sequential import (
    BetaPrior,
    beta_prior,
    mean_posterior,
    normal_prior,
    rate_bound,
    rate_estimate,
    z_of,
)

# The in-control value is taken at this one-sided credible bound of the baseline.
BASELINE_CONFIDENCE = 0.99
MIN_OWN_SD = 30  # fewer baseline scores: the slices' pooled standard deviation is used

Key = tuple[str | None, ...]
Rows = Sequence[tuple[SliceValues, Aggregate]]
# The window's buckets in time order: start, end, rows, and a memo of the rows summed
# by slicings (the rollup cache keeps it between ticks; a fresh dict works too).
Series = Sequence[tuple[datetime, datetime, Rows, dict[Any, Any]]]
Span = tuple[datetime, datetime]  # a batch's start and end
Batches = list[tuple[Span, Aggregate]]
Counter = Callable[[Aggregate], tuple[float, int]]


@dataclass(frozen=True, slots=True)
class Planned:
    """One (rule, slice[, score]): its detectors, and how their verdicts read."""

    rule: RuleConfig
    slice: dict[str, str]
    detectors: tuple[Detector, ...] = ()
    describe: Callable[[Budget, list[Verdict]], Measurement] | None = None
    measurement: Measurement | None = None  # a threshold rule, decided already
    directions: int = 1

    def decide(self, budget: Budget) -> Measurement:
        if self.measurement is not None:
            return self.measurement
        assert self.describe is not None
        verdicts = [d.decide(budget, self.directions) for d in self.detectors]
        return self.describe(budget, verdicts)


@dataclass(frozen=True, slots=True)
class Context:
    """What every slice of one slicing shares: the window and baseline lengths."""

    rule: RuleConfig
    window: timedelta
    baseline: timedelta


def batches_by_slice(series: Series, dims: Sequence[str]) -> dict[Key, Batches]:
    """Each slice's sums per batch, in time order (a batch: one bucket of the series)."""
    out: dict[Key, Batches] = defaultdict(list)
    for start, end, rows, memo in series:
        for key, agg in _grouped(rows, memo, tuple(dims)).items():
            out[key].append(((start, end), agg))
    return dict(out)


def _grouped(rows: Rows, memo: dict[Any, Any], dims: tuple[str, ...]) -> dict[Key, Aggregate]:
    found = memo.get(dims)
    if found is None:
        positions = [DIMENSIONS.index(d) for d in dims]
        found = {}
        for values, agg in rows:
            key = tuple(values[p] for p in positions)
            mine = found.get(key)
            if mine is None:
                found[key] = mine = Aggregate()
            mine.add(agg)
        memo[dims] = found
    return found


def _directions(rule: RuleConfig) -> list[Direction]:
    bad = rule.bad_direction
    return ["rise", "drop"] if bad == "either" else ["rise" if bad == "rise" else "drop"]


def per_minute(n_baseline: int, points: Sequence[tuple[Span, float, int]], ctx: Context) -> float:
    """Observations a minute: the baseline's pace, or for a slice without one (new), its
    pace since its first batch with traffic."""
    if n_baseline > 0 and ctx.baseline.total_seconds() > 0:
        return n_baseline / (ctx.baseline.total_seconds() / 60)
    seen = [(span, n) for span, _, n in points if n > 0]
    if not seen:
        return 0.0
    minutes = (seen[-1][0][1] - seen[0][0][0]).total_seconds() / 60
    return sum(n for _, n in seen) / max(1.0, minutes)


# Rates (signals, errors, judge errors, bad judge scores, latency above a level).


def rate_detectors(
    ctx: Context,
    counter: Counter,
    stream: Batches,
    baseline: Aggregate,
    others: Sequence[Aggregate],
    effect_of: Callable[[float], float],
) -> tuple[Bernoulli | None, list[Detector]]:
    """The slice's detectors; its prior comes from the `others` slices' baselines."""
    prior = rate_prior(counter, others)
    x0, n0 = counter(baseline)
    estimate = rate_estimate(int(x0), n0, prior)
    points = [(at, *counter(agg)) for at, agg in stream]
    pace = per_minute(n0, points, ctx)
    effect = effect_of(estimate)
    out, model = [], None
    for direction in _directions(ctx.rule):
        bound = rate_bound(int(x0), n0, prior, BASELINE_CONFIDENCE, upper=direction == "rise")
        model = Bernoulli(estimate, bound)
        out.append(Detector(direction, model, effect, points, pace, ctx.window))
    return model, out


def rate_prior(counter: Counter, baselines: Iterable[Aggregate]) -> BetaPrior:
    return beta_prior([(int(x), n) for x, n in map(counter, baselines)])


def describe_rate(
    metric: str, counter: Counter, stream: Batches, baseline: Aggregate, model: Bernoulli | None
) -> Callable[[Budget, list[Verdict]], Measurement]:
    x, n = _total(counter, stream)
    x0, n0 = counter(baseline)

    def describe(budget: Budget, verdicts: list[Verdict]) -> Measurement:
        value = x / n if n else None
        # The baseline as observed; a slice without one shows what it borrowed.
        base = x0 / n0 if n0 else (model.estimate if model is not None else None)
        fired = [v for v in verdicts if v.breached]
        lead = max(verdicts, key=lambda v: v.evidence)
        if fired and base is not None:
            v = max(fired, key=lambda v: v.evidence)
            run = v.run_a / v.run_n if v.run_n else math.nan
            summary = (
                f"{metric} {_verb(run, base)} from {base:.1%} to {run:.1%} since "
                f"{_time(v.run_start)} (n={v.run_n:,} vs {n0:,} in the baseline; "
                f"{_evidence(v, budget)})"
            )
            if metric == "model_mismatch_rate":
                summary = (
                    f"{round(v.run_a):,} of {v.run_n:,} answers came from a model you did "
                    f"not pin; {summary}"
                )
        elif value is None or base is None:
            summary = f"no {metric} data in the window"
        else:
            summary = f"{metric} {value:.1%} against {base:.1%} (n={n:,} vs {n0:,}): {_quiet(lead)}"
        return _measurement(value, base, n, n0, verdicts, summary, budget)

    return describe


def _total(counter: Counter, stream: Batches) -> tuple[float, int]:
    x, n = 0.0, 0
    for _, agg in stream:
        a, b = counter(agg)
        x, n = x + a, n + b
    return x, n


# Judge scores.


def score_stats(agg: Aggregate, name: str) -> tuple[int, float, float]:
    summary = agg.scores.get(name)
    if summary is None:
        return 0, 0.0, 0.0
    m = summary.moments
    return m.n, (m.mean if m.n else 0.0), (m.variance if m.n >= 2 else 0.0)


def mean_detectors(
    ctx: Context, name: str, stream: Batches, baseline: Aggregate, others: Sequence[Aggregate],
    effect_of: Callable[[float], float],
) -> tuple[Gaussian | None, list[Detector]]:  # fmt: skip
    """The slice's detectors; its prior comes from the `others` slices' baselines."""
    prior = normal_prior([score_stats(agg, name) for agg in others])
    n0, mean0, var0 = score_stats(baseline, name)
    pooled = _pooled_variance([score_stats(agg, name) for agg in [baseline, *others]])
    if pooled is None:
        return None, []
    variance = var0 if n0 >= MIN_OWN_SD and var0 > 0 else pooled
    posterior = mean_posterior(n0, mean0, variance, prior)
    if posterior is None:
        return None, []
    centre, spread = posterior
    points = []
    for at, agg in stream:
        summary = agg.scores.get(name)
        if summary is not None and summary.moments.n:
            points.append((at, summary.moments.total, summary.moments.n))
    pace = per_minute(n0, points, ctx)
    out, model = [], None
    z = z_of(BASELINE_CONFIDENCE)
    for direction in _directions(ctx.rule):
        bound = centre - z * spread if direction == "drop" else centre + z * spread
        model = Gaussian(centre, bound, math.sqrt(variance))
        out.append(Detector(direction, model, effect_of(centre), points, pace, ctx.window))
    return model, out


def _pooled_variance(stats: Sequence[tuple[int, float, float]]) -> float | None:
    kept = [(n, v) for n, _, v in stats if n >= 2 and v > 0]
    if not kept:
        return None
    return sum((n - 1) * v for n, v in kept) / sum(n - 1 for n, _ in kept)


def describe_mean(
    name: str, stream: Batches, baseline: Aggregate, model: Gaussian | None, step: bool = False
) -> Callable[[Budget, list[Verdict]], Measurement]:
    n = total = 0.0
    for _, agg in stream:
        summary = agg.scores.get(name)
        if summary is not None:
            n, total = n + summary.moments.n, total + summary.moments.total
    n0, mean0, _ = score_stats(baseline, name)

    def describe(budget: Budget, verdicts: list[Verdict]) -> Measurement:
        value = total / n if n else None
        base = None if model is None else (mean0 if n0 else model.estimate)
        if model is None or base is None or not verdicts:
            summary = f"no baseline of {name} scores to compare with"
            return Measurement(value, None, int(n), n0, False, False, summary)
        fired = [v for v in verdicts if v.breached]
        if fired:
            v = max(fired, key=lambda v: v.evidence)
            run = v.run_a / v.run_n if v.run_n else math.nan
            numbers = (
                f"(n={v.run_n:,} vs {n0:,} in the baseline, σ={model.sd:.2f}; "
                f"{_evidence(v, budget)})"
            )
            if step:
                moved = "down" if run < base else "up"
                summary = (
                    f"{name} scores stepped {moved} at {_time(v.run_start)}: from {base:.2f} "
                    f"to {run:.2f} {numbers}"
                )
            else:
                summary = (
                    f"judge mean ({name}) {_verb(run, base)} from {base:.2f} to {run:.2f} "
                    f"since {_time(v.run_start)} {numbers}"
                )
        elif value is None:
            summary = f"no {name} scores in the window"
        else:
            lead = max(verdicts, key=lambda v: v.evidence)
            summary = (
                f"judge mean ({name}) {value:.2f} against {base:.2f} "
                f"(n={int(n):,} vs {n0:,}): {_quiet(lead)}"
            )
        return _measurement(value, base, int(n), n0, verdicts, summary, budget)

    return describe


# Latency quantiles: a rise of the quantile is a rise of the share above a level.


def latency_level(baseline: Aggregate, rule: RuleConfig, q: float) -> int | None:
    """The histogram bucket whose values lie above the level the quantile must not
    exceed: the baseline's quantile raised by the rule's minimum effect."""
    if baseline.interactions == 0:
        return None
    quantile = float(histogram_quantile(baseline.latency_counts(), LATENCY_EDGES_MS, q))
    threshold = rule.min_effect
    level = quantile * (1 + threshold) if rule.relative else quantile + threshold
    return bucket_index(level, LATENCY_EDGES_MS)


def above(index: int) -> Counter:
    def count(agg: Aggregate) -> tuple[float, int]:
        return sum(c for i, c in agg.latency_hist.items() if i > index), agg.interactions

    return count


def rate_counter(rule: RuleConfig, name: str | None = None) -> Counter:
    if rule.metric == "judge_bad_share":
        assert name is not None

        def bad(agg: Aggregate) -> tuple[float, int]:
            summary = agg.scores.get(name)
            return (summary.bad, summary.moments.n) if summary is not None else (0, 0)

        return bad
    return RATES[rule.metric]


# Shared pieces of the sentences.


def _measurement(
    value: float | None,
    base: float | None,
    n: int,
    n0: int,
    verdicts: list[Verdict],
    summary: str,
    budget: Budget,
) -> Measurement:
    lead = max(verdicts, key=lambda v: v.evidence) if verdicts else None
    fired = [v for v in verdicts if v.breached]
    since = min((v.crossed_at for v in fired if v.crossed_at is not None), default=None)
    high_until = max((v.high_until for v in verdicts if v.high_until is not None), default=None)
    usable = any(v.watching for v in verdicts)
    details: dict[str, object] = {"budget_share": budget.share}
    models = [v.model for v in verdicts if v.model is not None]
    if models:  # what the detector compared with: the shrunk estimate and its bound
        details |= {"baseline_estimate": models[0].estimate, "baseline_bound": models[0].bound}
    if lead is not None:
        details |= {
            "statistic": lead.statistic,
            "threshold": lead.threshold,
            "evidence": lead.evidence,
            "step_at": lead.run_start.isoformat() if lead.run_start else None,
            "detectability": lead.detectability.to_dict(),
        }
    return Measurement(
        value,
        base,
        n,
        n0,
        bool(fired),
        usable and n > 0,
        summary,
        details,
        evidence=lead.evidence if lead is not None else None,
        since=since,
        detectability=lead.detectability if lead is not None else None,
        high_until=high_until,
    )


def _verb(value: float, baseline: float) -> str:
    return "rose" if value > baseline else "fell" if value < baseline else "stayed"


def _time(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at is not None else "the window's start"


def _evidence(v: Verdict, budget: Budget) -> str:
    months = 1 / budget.share
    return (
        f"CUSUM {v.statistic:.1f} > {v.threshold:.1f}, "
        f"a false alarm expected once in {months:,.0f} months on this slice"
    )


def _quiet(v: Verdict) -> str:
    if not v.watching:
        return "too little traffic to detect even 8 times the minimum effect within the budget"
    if v.detectability.delay is None:
        return (
            f"no change (evidence {v.evidence:.0%} of the threshold); too little traffic to "
            "detect the minimum effect itself, only larger ones"
        )
    return f"no change (evidence {v.evidence:.0%} of the threshold)"
