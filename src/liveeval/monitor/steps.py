"""Step changes in the judge-score stream: a CUSUM over the window's minutes.

A window mean against a baseline mean needs the whole window to drift; a CUSUM on
the stream notices a step within a few minutes of judged traffic. The baseline gives
the target (its mean) and the scale (its standard deviation); each minute of the
window adds its scores at once (their count and mean, from the rollups).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from liveeval.config.monitor import DIMENSIONS, RuleConfig
from liveeval.monitor.metrics import Measurement
from liveeval.monitor.rollup import Aggregate, SliceValues, sum_by
from liveeval.stats.change import batched_cusum_alarm
from liveeval.stats.quality import ScoreSummary

SLACK = 0.5  # k, in standard deviations: tuned to a step of one standard deviation
DECISION = 5.0  # h, in standard deviations, unless the rule's threshold says otherwise

Series = Sequence[tuple[datetime, SliceValues, Aggregate]]


def step_measurements(
    rule: RuleConfig,
    dims: list[str],
    series: Series,
    baseline: Sequence[tuple[SliceValues, Aggregate]],
    score: str | None,
) -> dict[tuple[str | None, ...], dict[str, Measurement]]:
    """Per slice key and score name: did the scores step away from the baseline?"""
    positions = [DIMENSIONS.index(d) for d in dims]
    minutes: dict[tuple[str | None, ...], dict[datetime, Aggregate]] = defaultdict(
        lambda: defaultdict(Aggregate)
    )
    for at, values, agg in series:
        minutes[tuple(values[p] for p in positions)][at].add(agg)
    before = sum_by(baseline, dims)
    out: dict[tuple[str | None, ...], dict[str, Measurement]] = {}
    for key, by_minute in minutes.items():
        reference = before.get(key, Aggregate())
        names = [score] if score else sorted({n for a in by_minute.values() for n in a.scores})
        out[key] = {
            name: _measure(rule, sorted(by_minute.items()), reference.scores.get(name), name)
            for name in names
        }
    return out


def _measure(
    rule: RuleConfig,
    minutes: list[tuple[datetime, Aggregate]],
    reference: ScoreSummary | None,
    name: str,
) -> Measurement:
    scored = [(at, agg.scores[name]) for at, agg in minutes if name in agg.scores]
    n = sum(s.moments.n for _, s in scored)
    total = sum(s.moments.total for _, s in scored)
    value = total / n if n else None
    base = reference.moments if reference is not None else None
    base_n = base.n if base is not None else 0
    if n < rule.min_samples or base is None or base_n < rule.min_samples:
        short = n if n < rule.min_samples else base_n
        where = "window" if n < rule.min_samples else "baseline"
        why = f"only {short:,} scores in the {where}, need {rule.min_samples:,}"
        return Measurement(value, base.mean if base else None, n, base_n, False, False, why)
    sd = base.std
    if not sd > 0:
        return Measurement(value, base.mean, n, base_n, False, False, "the baseline has no spread")
    direction: Literal["down", "up"] = "up" if rule.bad_direction == "rise" else "down"
    decision = rule.threshold if rule.threshold is not None else DECISION
    batches = [(s.moments.n, s.moments.mean) for _, s in scored]
    alarm = batched_cusum_alarm(
        batches, base.mean, sd, slack=SLACK, threshold=decision, direction=direction
    )
    if alarm is None:
        summary = f"no step in {name} scores (CUSUM over {n:,}; baseline mean {base.mean:.2f})"
        return Measurement(value, base.mean, n, base_n, False, True, summary)
    at = scored[alarm][0]
    moved = "down" if direction == "down" else "up"
    summary = (
        f"{name} scores stepped {moved} at {at:%Y-%m-%d %H:%M} UTC: CUSUM (k={SLACK:g}σ, "
        f"h={decision:g}σ) against the baseline mean {base.mean:.2f} (σ={sd:.2f}); "
        f"window mean {value:.2f}, n={n:,} vs {base_n:,}"
    )
    return Measurement(
        value,
        base.mean,
        n,
        base_n,
        True,
        True,
        summary,
        {"step_at": at.isoformat(), "threshold": decision},
    )
