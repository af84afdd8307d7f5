"""Rules: evaluate each configured SLI on every slice, window against baseline.

Pure: the window's and the baseline's rollup rows come in, one `Evaluation` per
(rule, slice[, score]) comes out. Drift rules compare the mix of one dimension (the
input language, the served model…) inside each slice with the drift statistics.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from liveeval.config.monitor import DRIFT_METRICS, JUDGE_METRICS, DriftConfig, RuleConfig
from liveeval.monitor.drift import DriftThresholds, Labels, categorical_feature_drift
from liveeval.monitor.metrics import Measurement, measure
from liveeval.monitor.rollup import Aggregate, SliceValues, sum_by
from liveeval.monitor.steps import Series, step_measurements

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
    window: Rows,
    baseline: Rows,
    drift: DriftConfig,
    labels: Labels | None = None,
    series: Series | None = None,
) -> list[Evaluation]:
    """`series`: the window's buckets in time order, for judge_step."""
    out: list[Evaluation] = []
    for group in rule.slice_by:
        dims = [] if group == "all" else group.split("+")
        if rule.metric in DRIFT_METRICS:
            out += _drift(rule, dims, window, baseline, drift, labels)
        elif rule.metric == "judge_step":
            out += _steps(rule, dims, series or [], baseline)
        else:
            out += _sums(rule, dims, window, baseline)
    return out


def _steps(rule: RuleConfig, dims: list[str], series: Series, baseline: Rows) -> list[Evaluation]:
    found = step_measurements(rule, dims, series, baseline, rule.score)
    if dims and "all" in rule.slice_by and len(found) <= 1:
        return []
    return [
        Evaluation(rule, {**_slice(dims, key), "score": name}, measurement)
        for key, by_score in sorted(found.items(), key=lambda kv: tuple(v or "" for v in kv[0]))
        for name, measurement in by_score.items()
    ]


def _slice(dims: Sequence[str], key: tuple[str | None, ...]) -> dict[str, str]:
    return {d: NONE if v is None else v for d, v in zip(dims, key, strict=True)}


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


def _drift(
    rule: RuleConfig,
    dims: list[str],
    window: Rows,
    baseline: Rows,
    config: DriftConfig,
    labels: Labels | None,
) -> list[Evaluation]:
    target = rule.metric.removesuffix("_drift")
    if target in dims:
        return []  # the mix of a dimension inside one of its own values is trivial
    now = _mix(sum_by(window, [*dims, target]))
    before = _mix(sum_by(baseline, [*dims, target]))
    if dims and "all" in rule.slice_by and len(now) <= 1 and len(before) <= 1:
        return []  # one value only: the same as the whole project, evaluated already
    thresholds = thresholds_of(config)
    out = []
    for key in sorted(now.keys() | before.keys(), key=lambda k: tuple(v or "" for v in k)):
        current, reference = now.get(key, Counter()), before.get(key, Counter())
        n, base_n = sum(current.values()), sum(reference.values())
        feature = categorical_feature_drift(target, reference, current, thresholds, labels)
        sufficient = min(n, base_n) >= rule.min_samples and feature.method != "min_samples"
        summary = "; ".join(feature.moved) or (
            f"{target} mix: {feature.method} = {feature.value:.3g} (n={n:,} vs {base_n:,})"
        )
        measurement = Measurement(
            feature.value,
            None,
            n,
            base_n,
            sufficient and feature.status == "drift",
            sufficient,
            f"{target} drifted: {summary}" if feature.status == "drift" else summary,
            {
                "method": feature.method,
                "status": feature.status,
                "threshold": feature.threshold,
                **feature.statistics,
            },
        )
        out.append(Evaluation(rule, _slice(dims, key), measurement))
    return out


def _mix(
    sums: dict[tuple[str | None, ...], Aggregate],
) -> dict[tuple[str | None, ...], Counter[str]]:
    """Counts of the last key element (the drift target) per slice of the others."""
    out: dict[tuple[str | None, ...], Counter[str]] = defaultdict(Counter)
    for key, agg in sums.items():
        out[key[:-1]][NONE if key[-1] is None else key[-1]] += agg.interactions
    return dict(out)
