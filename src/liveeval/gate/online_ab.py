"""Online A/B: two prompt versions (or models, routes, segments) compared on live traffic.

Counts, rates, latency and cost come from the monitor's rollups, so a week of traffic is
a few thousand rows; the judge scores are also read raw (they are sampled, so few) for
the Mann–Whitney test, which needs ranks, not moments. Nothing here is randomized: live
traffic is not. So the comparison also checks whether the two slices saw the same kind
of inputs (language, route, segment, model mix, and the share that was judged): when
they did not, a difference may come from the mix and not from the variant, and the
report says so first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model.rollup import Aggregate
from liveeval.model.slices import DIMENSIONS, SliceValues
from liveeval.monitor.drift_text import display_name, format_share
from liveeval.stats.categorical_drift import MISSING, categorical_drift
from liveeval.stats.histogram import LATENCY_EDGES_MS, histogram_quantile
from liveeval.stats.means import MeanDifference, Moments, t_interval, welch_difference
from liveeval.stats.quality import ScoreSummary
from liveeval.stats.ranks import mann_whitney
from liveeval.stats.rates import two_proportion_test, wilson_interval
from liveeval.store.rollups import MINUTE, floor_to, read_range
from liveeval.store.schema import interactions, scores

COMPARABLE = ("prompt_version", "model_served", "model_requested", "route", "segment")
# Input mixes that would confound a comparison, besides the compared dimension itself.
MIX_DIMENSIONS = ("language", "route", "segment", "model_served")
MIX_P = 0.01  # chi-square p below this…
MIX_JS = 0.1  # …and a Jensen–Shannon distance above this: the mixes differ
JUDGED_P = 0.01  # judged shares differing this surely: sampling treated the slices apart
MIN_JUDGED = 30
ALPHA = 0.05
MIN_SCORE_EFFECT = 0.05  # of the score scale (0.2 on 1..5, 0.05 on 0/1)
MIN_RATE_EFFECT = 0.01  # one percentage point
# The verdict on a difference that is significant but smaller than the minimum effect.
SMALLER = "significant, but smaller than the minimum effect"
# Signals whose rise is good news; the neutral ones only say that users gave feedback.
GOOD_SIGNALS = frozenset({"thumbs_up"})
NEUTRAL_SIGNALS = frozenset({"rating", "comment", "outcome"})


@dataclass(frozen=True, slots=True)
class VariantSummary:
    """One side's traffic over the period (from rollups)."""

    value: str
    interactions: int
    errors: int
    latency_p50_ms: float
    latency_p95_ms: float
    mean_latency_ms: float
    mean_cost_usd: float | None
    cost_n: int


@dataclass(frozen=True, slots=True)
class JudgedSide:
    n: int
    mean: float
    interval: tuple[float, float]
    bad_share: float


@dataclass(frozen=True, slots=True)
class ScoreComparison:
    """One rubric's judge scores, B against A; `difference` is mean(B) - mean(A)."""

    rubric: str
    a: JudgedSide
    b: JudgedSide
    difference: MeanDifference
    mann_whitney_u: float
    mann_whitney_p: float
    min_effect: float
    # "B better" | "A better" | SMALLER (significant, below min_effect)
    # | "no significant difference" | "too few judged"
    verdict: str


@dataclass(frozen=True, slots=True)
class RateComparison:
    """A share of interactions (with an error, with a signal), B against A."""

    name: str
    a_count: int
    a_n: int
    b_count: int
    b_n: int
    a_rate: float
    b_rate: float
    a_interval: tuple[float, float]
    b_interval: tuple[float, float]
    difference: float  # b_rate - a_rate
    z: float
    p_value: float
    lower_is_better: bool | None  # None: neither direction is better
    # "B better" | "A better" | "B higher" | "B lower" | SMALLER | "no significant difference"
    verdict: str


@dataclass(frozen=True, slots=True)
class MixCheck:
    """Whether the two slices' traffic differs in one input dimension."""

    dimension: str
    a_shares: dict[str, float]
    b_shares: dict[str, float]
    chi2_p_value: float
    js_distance: float
    differs: bool


@dataclass(frozen=True, slots=True)
class OnlineComparison:
    project: str
    dimension: str
    since: datetime
    until: datetime
    a: VariantSummary
    b: VariantSummary
    scores: list[ScoreComparison]
    rates: list[RateComparison]
    mixes: list[MixCheck]
    warnings: list[str] = field(default_factory=list)
    alpha: float = ALPHA

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO text, NaN and infinities as null."""
        out = asdict(self)
        out["since"], out["until"] = self.since.isoformat(), self.until.isoformat()
        return _json_safe(out)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def compare_online(
    conn: sa.Connection,
    project: str,
    dimension: str,
    a: str,
    b: str,
    since: datetime,
    until: datetime,
    rubric: str | None = None,
    *,
    alpha: float = ALPHA,
    min_score_effect: float = MIN_SCORE_EFFECT,
    min_rate_effect: float = MIN_RATE_EFFECT,
) -> OnlineComparison:
    """Compare the interactions where `dimension` is `a` with those where it is `b`
    over [since, until) (to the minute, as rollups are kept).

    `rubric` None compares every rubric judged on either side. `min_score_effect` is a
    share of the score scale; `min_rate_effect` an absolute rate difference.
    """
    check_request(dimension, a, b, since, until)
    start, end = floor_to(since, MINUTE), floor_to(until, MINUTE)
    position = DIMENSIONS.index(dimension)
    sides = {a: Aggregate(), b: Aggregate()}
    mixes: dict[str, dict[str, dict[str, int]]] = {a: defaultdict(dict), b: defaultdict(dict)}
    for values, agg in read_range(conn, project, start, end):
        value = values[position]
        if value not in sides:
            continue
        sides[value].add(agg)
        _count_mix(mixes[value], values, agg.interactions)
    names = _rubrics(sides[a], sides[b], rubric)
    judged: dict[tuple[str, str], list[float] | None] = {
        (side, name): _values(sides[side].scores.get(name)) for side in (a, b) for name in names
    }
    if any(v is None for v in judged.values()):  # some score not a whole number: read them
        judged.update(_raw_scores(conn, project, dimension, (a, b), start, end, rubric))
    scored = [
        _compare_scores(
            name,
            sides[a].scores.get(name),
            sides[b].scores.get(name),
            (judged.get((a, name)) or [], judged.get((b, name)) or []),
            alpha,
            min_score_effect,
        )
        for name in names
    ]
    rates = _compare_rates(sides[a], sides[b], alpha, min_rate_effect)
    checks = [
        check
        for d in MIX_DIMENSIONS
        if not _same_family(d, dimension)
        and (check := mix_check(d, mixes[a][d], mixes[b][d])) is not None
    ]
    summaries = _summary(a, sides[a]), _summary(b, sides[b])
    return OnlineComparison(
        project=project,
        dimension=dimension,
        since=start,
        until=end,
        a=summaries[0],
        b=summaries[1],
        scores=scored,
        rates=rates,
        mixes=checks,
        warnings=comparison_warnings(*summaries, scored, checks, sides[a], sides[b]),
        alpha=alpha,
    )


def check_request(dimension: str, a: str, b: str, since: datetime, until: datetime) -> None:
    """Refuse what cannot be compared, saying which argument is wrong."""
    if dimension not in COMPARABLE:
        raise ValueError(f"dimension must be one of {', '.join(COMPARABLE)}, not {dimension!r}")
    if not a or not b:
        raise ValueError("both variants a and b must be named")
    if a == b:
        raise ValueError(f"a and b are both {a!r}: nothing to compare")
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware")
    if floor_to(until, MINUTE) <= floor_to(since, MINUTE):
        raise ValueError(f"until ({until.isoformat()}) must be a minute or more after since")


def _same_family(mix: str, dimension: str) -> bool:
    """The compared dimension's own mix (and a model's other name) is no confounder."""
    models = {"model_served", "model_requested"}
    return mix == dimension or (mix in models and dimension in models)


def _count_mix(into: dict[str, dict[str, int]], values: SliceValues, n: int) -> None:
    for d in MIX_DIMENSIONS:
        key = values[DIMENSIONS.index(d)] or MISSING
        into[d][key] = into[d].get(key, 0) + n


def _rubrics(a: Aggregate, b: Aggregate, rubric: str | None) -> list[str]:
    if rubric is not None:
        return [rubric]
    return sorted(set(a.scores) | set(b.scores))


def _values(summary: ScoreSummary | None) -> list[float] | None:
    """The scores of one side from its rollup counts, when they are whole numbers."""
    return [] if summary is None else summary.integer_values()


def _raw_scores(
    conn: sa.Connection,
    project: str,
    dimension: str,
    variants: tuple[str, str],
    start: datetime,
    end: datetime,
    rubric: str | None,
) -> dict[tuple[str, str], list[float]]:
    """(variant, rubric) → the judge scores, as the rollups count them (ok, with a value)."""
    column = interactions.c[dimension]
    query = (
        sa.select(column, scores.c.name, scores.c.value)
        .select_from(scores.join(interactions))
        .where(
            interactions.c.project == project,
            interactions.c.start_at >= start,
            interactions.c.start_at < end,
            column.in_(variants),
            scores.c.kind == "judge",
            scores.c.status == "ok",
            scores.c.value.is_not(None),
        )
    )
    if rubric is not None:
        query = query.where(scores.c.name == rubric)
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for variant, name, value in conn.execute(query):
        found[(variant, name)].append(float(value))
    return found


def score_span(*summaries: ScoreSummary | None) -> float:
    """The width of the score scale: 1 for 0/1 scores, 4 for the 1..5 scale."""
    levels = {level for s in summaries if s is not None for level in s.level_counts}
    return 1.0 if levels <= {0, 1} else 4.0


def _judged(summary: ScoreSummary | None) -> JudgedSide:
    if summary is None or summary.n == 0:
        return JudgedSide(0, math.nan, (-math.inf, math.inf), math.nan)
    binary = set(summary.level_counts) <= {0, 1}
    bad = summary.level_counts.get(0, 0) if binary else summary.bad
    return JudgedSide(summary.n, summary.moments.mean, t_interval(summary.moments), bad / summary.n)


def _compare_scores(
    rubric: str,
    a_summary: ScoreSummary | None,
    b_summary: ScoreSummary | None,
    raw: tuple[Sequence[float], Sequence[float]],
    alpha: float,
    share: float,
) -> ScoreComparison:
    a_side, b_side = _judged(a_summary), _judged(b_summary)
    difference = welch_difference(
        b_summary.moments if b_summary else Moments(), a_summary.moments if a_summary else Moments()
    )
    min_effect = share * score_span(a_summary, b_summary)
    if min(a_side.n, b_side.n) < MIN_JUDGED:
        verdict = "too few judged"
    elif difference.p_value >= alpha:
        verdict = "no significant difference"
    elif abs(difference.difference) < min_effect:
        verdict = SMALLER
    else:
        verdict = "B better" if difference.difference > 0 else "A better"
    u, p = mann_whitney(raw[1], raw[0])
    return ScoreComparison(rubric, a_side, b_side, difference, u, p, min_effect, verdict)


def _compare_rates(
    a: Aggregate, b: Aggregate, alpha: float, min_effect: float
) -> list[RateComparison]:
    rows = [rate_comparison("error", a.errors, a.interactions, b.errors, b.interactions, True)]
    for kind in sorted(set(a.signals) | set(b.signals)):
        better = None if kind in NEUTRAL_SIGNALS else kind not in GOOD_SIGNALS
        counts = a.signals.get(kind, 0), a.interactions, b.signals.get(kind, 0), b.interactions
        rows.append(rate_comparison(kind, *counts, better))
    return [_rate_verdict(r, alpha, min_effect) for r in rows]


def rate_comparison(
    name: str,
    a_count: int,
    a_n: int,
    b_count: int,
    b_n: int,
    lower_is_better: bool | None,
) -> RateComparison:
    test = two_proportion_test(b_count, b_n, a_count, a_n)
    return RateComparison(
        name=name,
        a_count=a_count,
        a_n=a_n,
        b_count=b_count,
        b_n=b_n,
        a_rate=a_count / a_n if a_n else 0.0,
        b_rate=b_count / b_n if b_n else 0.0,
        a_interval=wilson_interval(a_count, a_n),
        b_interval=wilson_interval(b_count, b_n),
        difference=test.difference,
        z=test.z,
        p_value=test.p_value,
        lower_is_better=lower_is_better,
        verdict="",
    )


def _rate_verdict(r: RateComparison, alpha: float, min_effect: float) -> RateComparison:
    if not r.p_value < alpha:
        verdict = "no significant difference"
    elif abs(r.difference) < min_effect:
        verdict = SMALLER
    elif r.lower_is_better is None:
        verdict = "B higher" if r.difference > 0 else "B lower"
    else:
        verdict = "B better" if (r.difference < 0) == r.lower_is_better else "A better"
    values = asdict(r) | {"verdict": verdict}
    return RateComparison(**values)


def _summary(value: str, agg: Aggregate) -> VariantSummary:
    counts = agg.latency_counts()
    return VariantSummary(
        value=value,
        interactions=agg.interactions,
        errors=agg.errors,
        latency_p50_ms=histogram_quantile(counts, LATENCY_EDGES_MS, 0.5),
        latency_p95_ms=histogram_quantile(counts, LATENCY_EDGES_MS, 0.95),
        mean_latency_ms=agg.latency_ms_sum / agg.interactions if agg.interactions else math.nan,
        mean_cost_usd=agg.cost_usd_sum / agg.cost_n if agg.cost_n else None,
        cost_n=agg.cost_n,
    )


def mix_check(dimension: str, a: Mapping[str, int], b: Mapping[str, int]) -> MixCheck | None:
    """The two slices' mix of `dimension`; None when a side has no traffic."""
    if sum(a.values()) <= 0 or sum(b.values()) <= 0:
        return None
    drift = categorical_drift(a, b)
    return MixCheck(
        dimension=dimension,
        a_shares=drift.reference_shares,
        b_shares=drift.current_shares,
        chi2_p_value=drift.chi2_p_value,
        js_distance=drift.js_distance,
        differs=drift.chi2_p_value < MIX_P and drift.js_distance > MIX_JS,
    )


def mix_sentence(check: MixCheck) -> str:
    """ "B's traffic is 40% German against 5% for A: the comparison is confounded"."""
    a, b = check.a_shares, check.b_shares
    # The category that moved most; of equal movers the rarer one (German, not English).
    category = max(a, key=lambda k: (round(abs(b[k] - a[k]), 3), -(a[k] + b[k])))
    name = display_name(check.dimension, category)
    if check.dimension != "language" and category != MISSING:
        name = f"{check.dimension} {name}"
    b_share, a_share = (
        format_share(check.b_shares[category]),
        format_share(check.a_shares[category]),
    )
    return f"B's traffic is {b_share} {name} against {a_share} for A: the comparison is confounded"


def comparison_warnings(
    a: VariantSummary,
    b: VariantSummary,
    compared: Iterable[ScoreComparison],
    mixes: Iterable[MixCheck],
    a_agg: Aggregate,
    b_agg: Aggregate,
) -> list[str]:
    """What makes the comparison weak or misleading, most serious first."""
    out = []
    for side, summary in (("A", a), ("B", b)):
        if summary.interactions == 0:
            out.append(f"{side} ({summary.value}) has no traffic in the period")
    out += [mix_sentence(check) for check in mixes if check.differs]
    for s in compared:
        judged_a = a_agg.scores.get(s.rubric, ScoreSummary()).n
        judged_b = b_agg.scores.get(s.rubric, ScoreSummary()).n
        share = two_proportion_test(judged_b, b.interactions, judged_a, a.interactions)
        if share.p_value < JUDGED_P and a.interactions and b.interactions:
            out.append(
                f"{s.rubric}: {format_share(judged_b / b.interactions)} of B was judged against "
                f"{format_share(judged_a / a.interactions)} of A: sampling (e.g. on failure "
                "signals) picked the slices differently, so the judged means are biased"
            )
        for side, n in (("A", s.a.n), ("B", s.b.n)):
            if n < MIN_JUDGED:
                out.append(
                    f"{s.rubric}: only {n} judged interactions for {side}, need {MIN_JUDGED}"
                )
    return out
