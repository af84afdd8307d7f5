"""Drift rules on the mix of one dimension (`language_drift`, `route_drift`, …): a
sequential detector per category and direction, inside each slice.

Pure. Every category of the slice's baseline or window gets a CUSUM for its share
rising by the rule's minimum effect (default 5 points), and one for it falling when
it had that much to lose. Each spends its part of the false-alarm budget. The alert
names what appeared before what shifted: "Tamil appeared: 5% of inputs since …".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from liveeval.model.rollup import Aggregate
from liveeval.monitor.budget import Budget
from liveeval.monitor.detectors import Bernoulli, Detector, Verdict
from liveeval.monitor.drift import Labels
from liveeval.monitor.drift_text import display_name, format_share
from liveeval.monitor.metrics import Measurement
from liveeval.monitor.sequential import (
    BASELINE_CONFIDENCE,
    Batches,
    Context,
    Key,
    Planned,
    _measurement,
    _time,
    per_minute,
)
from liveeval.stats.sequential import beta_prior, rate_bound, rate_estimate

NONE = "(none)"
NEW_BELOW = 0.005  # a category under half a percent of the baseline "appeared"


def plan_mix(
    ctx: Context,
    target: str,
    slices: dict[Key, Batches],
    by_category: dict[Key, Batches],
    baseline_slices: dict[Key, Aggregate],
    baseline_categories: dict[Key, Aggregate],
    labels: Labels | None = None,
    where: dict[Key, dict[str, str]] | None = None,
) -> list[Planned]:
    """`slices`: each slice's batches; `by_category`: the same per (slice…, category)."""
    categories: dict[Key, set[str | None]] = {}
    for key in [*by_category, *baseline_categories]:
        categories.setdefault(key[:-1], set()).add(key[-1])
    out = []
    for key in sorted(slices.keys() | baseline_slices.keys(), key=_order):
        stream = slices.get(key, [])
        base = baseline_slices.get(key, Aggregate())
        n0 = base.interactions
        detectors: list[Detector] = []
        names: list[tuple[str, float, int, float, int]] = []  # name, x0, n0, x, n per detector
        for category in sorted(categories.get(key, set()), key=lambda c: c or ""):
            counts = _shares(key, category, baseline_categories)
            prior = beta_prior(counts)
            x0 = baseline_categories.get((*key, category), Aggregate()).interactions
            estimate = rate_estimate(x0, n0, prior)
            own = {at: agg.interactions for at, agg in by_category.get((*key, category), [])}
            points = [(at, float(own.get(at, 0)), agg.interactions) for at, agg in stream]
            n = sum(p[2] for p in points)
            x = sum(p[1] for p in points)
            pace = per_minute(n0, points, ctx)
            effect = ctx.rule.min_effect
            name = display_name(target, NONE if category is None else category, labels)
            for direction in ("rise", "drop"):
                upper = direction == "rise"
                if not upper and estimate <= effect:
                    continue
                bound = rate_bound(x0, n0, prior, BASELINE_CONFIDENCE, upper=upper)
                model = Bernoulli(estimate, bound)
                detectors.append(Detector(direction, model, effect, points, pace, ctx.window))
                names.append((name, estimate, n0, x, n))
        if not detectors:
            continue
        out.append(
            Planned(
                ctx.rule,
                (where or {}).get(key, {}),
                tuple(detectors),
                describe=_describe(target, names, sum(a.interactions for _, a in stream), n0),
            )
        )
    return out


def _order(key: Key) -> tuple[str, ...]:
    return tuple(v or "" for v in key)


def _shares(
    key: Key, category: str | None, baseline_categories: dict[Key, Aggregate]
) -> list[tuple[int, int]]:
    """(count of the category, all) in each other slice's baseline: the prior's evidence."""
    totals: dict[Key, int] = {}
    own: dict[Key, int] = {}
    for full, agg in baseline_categories.items():
        if full[:-1] == key:
            continue
        totals[full[:-1]] = totals.get(full[:-1], 0) + agg.interactions
        if full[-1] == category:
            own[full[:-1]] = agg.interactions
    return [(own.get(k, 0), n) for k, n in totals.items()]


def _describe(
    target: str, names: Sequence[tuple[str, float, int, float, int]], n: int, n0: int
) -> Callable[[Budget, list[Verdict]], Measurement]:
    def describe(budget: Budget, verdicts: list[Verdict]) -> Measurement:
        fired = [(names[i], v) for i, v in enumerate(verdicts) if v.breached]
        parts: list[tuple[int, float, str]] = []
        for (name, before, _, _, _), v in fired:
            after = v.run_a / v.run_n if v.run_n else 0.0
            since = _time(v.run_start)
            if before < NEW_BELOW and after > before:
                text = f"{name} appeared: {format_share(after)} of inputs since {since}"
                parts.append((0, -v.evidence, text))
            else:
                verb = "rose" if after > before else "fell"
                text = (
                    f"{name} {verb} from {format_share(before)} to {format_share(after)} "
                    f"of inputs since {since}"
                )
                parts.append((1, -v.evidence, text))
        lead_index = max(range(len(verdicts)), key=lambda i: verdicts[i].evidence)
        name, before, _, x, m = names[lead_index]
        value = x / m if m else None
        if parts:
            summary = f"{target} drifted: " + "; ".join(t for *_, t in sorted(parts))
        else:
            summary = (
                f"{target} mix: no change (largest evidence {verdicts[lead_index].evidence:.0%} "
                f"of the threshold, {name}; n={n:,} vs {n0:,})"
            )
        return _measurement(value, before, n, n0, list(verdicts), summary, budget)

    return describe
