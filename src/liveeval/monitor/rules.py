"""Rules: evaluate each configured SLI on every slice, window against baseline.

Pure: the window's batches and the baseline's rollup rows come in, one `Evaluation` per
(rule, slice[, score]) comes out. Planning and deciding are apart: the false-alarm
budget is spread over every detector of every rule, so a project's detectors are all
planned (`plan_rule`) before any is decided (`decide`). Sequential rules run a CUSUM
per slice (monitor/sequential.py, monitor/mix.py); the threshold rules (judge_p10,
cost_mean, edit_ratio_mean) compare the window's value with the baseline's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from liveeval.config.monitor import DRIFT_METRICS, JUDGE_METRICS, DriftConfig, RuleConfig
from liveeval.model.rollup import Aggregate, collapse
from liveeval.model.slices import SliceValues
from liveeval.monitor.budget import Budget
from liveeval.monitor.detectors import Detector, Verdict
from liveeval.monitor.drift import DriftThresholds, Labels
from liveeval.monitor.metrics import Measurement, measure
from liveeval.monitor.mix import plan_mix
from liveeval.monitor.rollup import sum_by
from liveeval.monitor.sequential import (
    Batches,
    Context,
    Key,
    Planned,
    Series,
    above,
    batches_by_slice,
    describe_mean,
    describe_rate,
    latency_level,
    mean_detectors,
    rate_counter,
    rate_detectors,
)
from liveeval.stats.histogram import LATENCY_EDGES_MS

NONE = "(none)"  # how a slice without a value (no route, say) is named
Rows = Sequence[tuple[SliceValues, Aggregate]]


@dataclass(frozen=True, slots=True)
class Evaluation:
    rule: RuleConfig
    slice: dict[str, str]  # {} for the whole project; "score" names a judge score
    measurement: Measurement

    def fingerprint(self, project: str) -> str:
        return fingerprint(project, self.rule.name, self.slice)

    @property
    def slice_text(self) -> str:
        return slice_text(self.slice)


def fingerprint(project: str, rule: str, slice_: dict[str, str]) -> str:
    text = "\x1f".join([project, rule, *(f"{k}={v}" for k, v in sorted(slice_.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def slice_text(slice_: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in slice_.items()) or "all traffic"


def thresholds_of(config: DriftConfig) -> DriftThresholds:
    return DriftThresholds(
        p_value=config.p_value,
        large_sample=config.large_sample,
        wasserstein=config.wasserstein,
        js=config.js,
        psi_warn=config.psi_warn,
        psi_alert=config.psi_alert,
        domain_auc=config.domain_auc,
        mmd_p_value=config.mmd_p_value,
        min_samples=config.min_samples,
    )


def evaluate_rule(
    rule: RuleConfig,
    window: Rows | Series,
    baseline: Rows,
    drift: DriftConfig,
    labels: Labels | None = None,
    *,
    budget: float = 1.0,
    now: datetime | None = None,
) -> list[Evaluation]:
    """One rule alone, with the whole `budget` (false alerts a month) to itself.

    `window`: the window's buckets in time order (start, end, rows, memo); plain
    (slice, sums) rows count as one batch ending at `now`."""
    planned = plan_rule(rule, _as_series(window, rule, now), baseline, drift, labels)
    return decide(planned, Budget(budget, count_detectors(planned)))


def plan_rule(
    rule: RuleConfig,
    series: Series,
    baseline: Rows,
    drift: DriftConfig,
    labels: Labels | None = None,
) -> list[Planned]:
    """Every (slice[, score]) of the rule with its detectors, not yet decided."""
    out: list[Planned] = []
    for group in rule.slice_by:
        dims = [] if group == "all" else group.split("+")
        if rule.metric in DRIFT_METRICS:
            out += _drift(rule, dims, series, baseline, labels)
        elif rule.sequential:
            out += _sequential(rule, dims, series, baseline)
        else:
            window = collapse(row for _, _, rows, _ in series for row in rows)
            found = _sums(rule, dims, window, baseline)
            out += [Planned(rule, e.slice, measurement=e.measurement) for e in found]
    return out


def count_detectors(planned: Sequence[Planned]) -> int:
    return sum(len(p.detectors) for p in planned)


def decide(planned: Sequence[Planned], budget: Budget) -> list[Evaluation]:
    return [Evaluation(p.rule, p.slice, p.decide(budget)) for p in planned]


def _as_series(window: Rows | Series, rule: RuleConfig, now: datetime | None) -> Series:
    rows = list(window)
    if rows and len(rows[0]) == 4:
        return rows  # type: ignore[return-value]
    end = now or datetime(2000, 1, 1, tzinfo=UTC)
    return [(end - rule.window, end, rows, {})]  # type: ignore[list-item]


def _context(rule: RuleConfig) -> Context:
    baseline = (
        rule.baseline_end - rule.baseline_start
        if rule.baseline_start is not None and rule.baseline_end is not None
        else rule.baseline
    )
    return Context(rule, rule.window, baseline)


def _keys(*maps: Mapping[Key, object]) -> list[Key]:
    found: set[Key] = set()
    for m in maps:
        found |= set(m)
    return sorted(found, key=lambda k: tuple(v or "" for v in k))


def _single(rule: RuleConfig, dims: list[str], *maps: Mapping[Key, object]) -> bool:
    """One value only beside "all": the same as the whole project, evaluated already."""
    return bool(dims) and "all" in rule.slice_by and all(len(m) <= 1 for m in maps)


def _sequential(rule: RuleConfig, dims: list[str], series: Series, baseline: Rows) -> list[Planned]:
    streams = batches_by_slice(series, dims)
    before = sum_by(baseline, dims)
    if _single(rule, dims, streams, before):
        return []
    ctx = _context(rule)
    keys = _keys(streams, before)
    if rule.metric in JUDGE_METRICS:
        names = [rule.score] if rule.score else sorted(
            {n for agg in before.values() for n in agg.scores}
            | {n for batches in streams.values() for _, agg in batches for n in agg.scores}
        )  # fmt: skip
        return [p for name in names for p in _scores(ctx, dims, keys, name, streams, before)]
    if rule.metric.startswith("latency_"):
        return _latency(ctx, dims, keys, streams, before)
    counter = rate_counter(rule)
    out = []
    for key in keys:
        stream, base = streams.get(key, []), before.get(key, Aggregate())
        others = _others(before, key)
        model, detectors = rate_detectors(ctx, counter, stream, base, others, _effect(rule))
        describe = describe_rate(rule.metric, counter, stream, base, model)
        out.append(_planned(rule, _slice(dims, key), detectors, describe))
    return out


def _planned(
    rule: RuleConfig,
    where: dict[str, str],
    detectors: Sequence[Detector],
    describe: Callable[[Budget, list[Verdict]], Measurement],
) -> Planned:
    """A slice's planned detectors; two of them (rise and drop) split its budget share."""
    return Planned(rule, where, tuple(detectors), describe, None, len(detectors))


def _others(before: dict[Key, Aggregate], key: Key) -> list[Aggregate]:
    """The other slices' baselines: what a slice's prior is estimated from."""
    return [agg for other, agg in before.items() if other != key]


def _effect(rule: RuleConfig) -> Callable[[float], float]:
    return lambda base: rule.min_effect * abs(base) if rule.relative else rule.min_effect


def _scores(
    ctx: Context,
    dims: list[str],
    keys: list[Key],
    name: str,
    streams: dict[Key, Batches],
    before: dict[Key, Aggregate],
) -> list[Planned]:
    rule = ctx.rule
    out = []
    counter = rate_counter(rule, name) if rule.metric == "judge_bad_share" else None
    for key in keys:
        stream, base = streams.get(key, []), before.get(key, Aggregate())
        others = _others(before, key)
        where = {**_slice(dims, key), "score": name}
        if counter is not None:
            model, detectors = rate_detectors(ctx, counter, stream, base, others, _effect(rule))
            what = f"judge bad share ({name})"
            out.append(_planned(rule, where, detectors, describe_rate(
                what, counter, stream, base, model)))  # fmt: skip
        else:
            gauss, found = mean_detectors(ctx, name, stream, base, others, _effect(rule))
            step = rule.metric == "judge_step"
            describe = describe_mean(name, stream, base, gauss, step)
            out.append(_planned(rule, where, found, describe))
    return out


def _latency(
    ctx: Context,
    dims: list[str],
    keys: list[Key],
    streams: dict[Key, Batches],
    before: dict[Key, Aggregate],
) -> list[Planned]:
    rule = ctx.rule
    q = 0.5 if rule.metric == "latency_p50" else 0.95
    slices = list(before.values())
    everyone = Aggregate()
    for agg in slices:
        everyone.add(agg)
    out = []
    for key in keys:
        stream, base = streams.get(key, []), before.get(key, Aggregate())
        reference = base if base.interactions * (1 - q) >= 5 else everyone
        level = latency_level(reference, rule, q)
        if level is None:
            continue
        counter = above(level)
        others = _others(before, key)
        model, detectors = rate_detectors(ctx, counter, stream, base, others, _exceed_effect(q))
        edge = LATENCY_EDGES_MS[min(level, len(LATENCY_EDGES_MS) - 1)]
        metric = f"share slower than {edge:,.0f} ms (where p{round(q * 100)} may rise to)"
        describe = describe_rate(metric, counter, stream, base, model)
        out.append(_planned(rule, _slice(dims, key), detectors, describe))
    return out


def _exceed_effect(q: float) -> Callable[[float], float]:
    """When the quantile sits at the level, 1 - q of the requests lie above it."""
    return lambda base: max(0.0, (1 - q) - base)


def _slice(dims: Sequence[str], key: tuple[str | None, ...]) -> dict[str, str]:
    return {d: NONE if v is None else v for d, v in zip(dims, key, strict=True)}


def _drift(
    rule: RuleConfig, dims: list[str], series: Series, baseline: Rows, labels: Labels | None
) -> list[Planned]:
    target = rule.metric.removesuffix("_drift")
    if target in dims:
        return []  # the mix of a dimension inside one of its own values is trivial
    slices = batches_by_slice(series, dims)
    before = sum_by(baseline, dims)
    if _single(rule, dims, slices, before):
        return []
    by_category = batches_by_slice(series, [*dims, target])
    baseline_categories = sum_by(baseline, [*dims, target])
    where = {key: _slice(dims, key) for key in slices.keys() | before.keys()}
    return plan_mix(
        _context(rule), target, slices, by_category, before, baseline_categories, labels, where
    )


def _sums(rule: RuleConfig, dims: list[str], window: Rows, baseline: Rows) -> list[Evaluation]:
    now, before = sum_by(window, dims), sum_by(baseline, dims)
    if dims and "all" in rule.slice_by and len(now) <= 1 and len(before) <= 1:
        return []  # one value only: the same as the whole project, evaluated already
    everyone = sum_by(baseline, []).get((), Aggregate())
    out = []
    for key in sorted(now.keys() | before.keys(), key=lambda k: tuple(v or "" for v in k)):
        w, b = now.get(key, Aggregate()), before.get(key, Aggregate())
        if rule.metric in JUDGE_METRICS:
            names = [rule.score] if rule.score else sorted(w.scores.keys() | b.scores.keys())
            for name in names:
                where = {**_slice(dims, key), "score": name}
                out.append(Evaluation(rule, where, _measure(rule, w, b, everyone, dims, name)))
        else:
            out.append(Evaluation(rule, _slice(dims, key), _measure(rule, w, b, everyone, dims)))
    return out


def _measure(
    rule: RuleConfig,
    window: Aggregate,
    baseline: Aggregate,
    everyone: Aggregate,
    dims: list[str],
    score: str | None = None,
) -> Measurement:
    """The slice against its own baseline; a slice too new to have one (a model that
    appeared today) against the whole project's baseline instead, and says so."""
    own = measure(rule, window, baseline, score)
    if own.sufficient or not dims or own.n < rule.min_samples:
        return own
    shared = measure(rule, window, everyone, score)
    if not shared.sufficient:
        return own
    return replace(
        shared,
        summary=f"{shared.summary}, against the whole project's baseline ("
        + (
            "the slice is new"
            if own.baseline_n == 0
            else f"the slice has only {own.baseline_n:,} samples in its own"
        )
        + ")",
        details={**shared.details, "baseline": "all traffic"},
    )
