"""Paired A/B statistics: is variant B better than variant A on the same cases?

Both variants answer the same cases, so each case is its own control and the
test is on the per-case differences d = b - a (positive: B scored higher).
`paired_comparison` reports both means, the mean difference with a seeded
percentile bootstrap interval, the paired t-test, the Wilcoxon signed-rank
test, Cohen's d_z, McNemar's test for pass/fail scores, how many cases would
detect the minimum effect, and a verdict.

The verdict names a winner only when the difference is both significant
(p < alpha: McNemar's p for pass/fail scores, the paired t-test's otherwise)
and large enough to matter (|mean difference| >= min_effect, by default 5% of
the score scale). A significant difference smaller than that is
"below_min_effect" (real, too small to matter); one that is not significant is
"no_difference", however large it looks. `small_effect` gives a minimum effect
for scores whose scale says little about what matters (cosines that sit at
0.9-1.0): a fifth of the baseline's standard deviation.

Degenerate inputs, against what scipy does on the same data:
- fewer than two pairs, unequal lengths, NaN or infinite scores, scores outside
  the scale: ValueError naming the side and index (scipy returns NaN or warns);
  a score past an end of the scale by rounding only (a cosine of 1.0000000000000002)
  is that end;
- all differences zero: t = 0, p = 1, Wilcoxon p = 1, d_z = 0, interval (0, 0)
  (scipy's t-test returns NaN and its Wilcoxon warns while returning p = 1);
- all differences equal but not zero: t = ±inf, p = 0 and d_z = ±inf, as
  scipy's t-test gives; the Wilcoxon p is still scipy's finite exact one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Verdict = Literal["b_wins", "a_wins", "below_min_effect", "no_difference"]

# Power the needed sample size is planned for.
POWER = 0.8
# McNemar's test is exact (binomial) below this many discordant pairs, as is usual;
# statsmodels leaves the choice to the caller.
EXACT_MCNEMAR_BELOW = 25
# Bootstrap resampling draws at most this many indices at once.
_BLOCK = 1_000_000
# A standard deviation of the differences this small against the scale width is
# the rounding error of equal differences.
_ROUNDING = 1e-12
# A mean difference within this fraction of the scale width of min_effect counts as
# reaching it, so that 0.05 computed as 0.04999999999 still does.
_EFFECT_TOLERANCE = 1e-9
# A score this fraction of the scale width past one of its ends is that end, rounded.
_SCALE_TOLERANCE = 1e-9
# Cohen's "small" standardized effect: a fifth of a standard deviation.
SMALL_EFFECT = 0.2


@dataclass(frozen=True, slots=True)
class McNemar:
    """McNemar's test on pass/fail pairs.

    b01 counts cases A failed and B passed, b10 cases A passed and B failed.
    With fewer than 25 discordant pairs the test is the exact binomial one and
    `statistic` is min(b01, b10); otherwise it is the chi-square statistic with
    continuity correction. Both match statsmodels' `mcnemar`.
    """

    b01: int
    b10: int
    statistic: float
    p_value: float
    exact: bool


@dataclass(frozen=True, slots=True)
class PairedResult:
    """Everything a person needs to decide between A and B, and the decision.

    Differences are b - a throughout: a positive mean difference, t or d_z
    means B scored higher. The Wilcoxon test uses scipy's default
    zero_method="wilcox" (zero differences are dropped). `needed_n` is the
    number of cases the paired t-test needs to detect `min_effect` at 80% power
    given the observed standard deviation of the differences; None when that
    deviation is zero (no noise observed, nothing to plan against).
    `min_effect_basis` says where the minimum effect came from; None when the
    caller set it.
    """

    n: int
    mean_a: float
    mean_b: float
    mean_difference: float
    ci: tuple[float, float]
    t_statistic: float
    t_p_value: float
    wilcoxon_p_value: float
    cohens_dz: float
    mcnemar: McNemar | None
    verdict: Verdict
    reason: str
    needed_n: int | None
    min_effect: float
    alpha: float
    confidence: float
    min_effect_basis: str | None = None


def paired_comparison(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    alpha: float = 0.05,
    min_effect: float | None = None,
    min_effect_basis: str | None = None,
    scale: tuple[float, float] = (0.0, 1.0),
    binary: bool | None = None,
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> PairedResult:
    """Compare the scores of variants A and B on the same cases, case i against case i.

    `binary` None detects pass/fail scores: every score is one of the two ends
    of `scale`. `min_effect` None is 5% of the scale width. `min_effect_basis`
    says in a few words where a given `min_effect` came from (None: the user set it).
    """
    low, high = _check_scale(scale)
    if min_effect is None:
        min_effect_basis = f"5% of the {low:g}–{high:g} scale"
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    effect = 0.05 * (high - low) if min_effect is None else float(min_effect)
    if not math.isfinite(effect) or effect < 0.0:
        raise ValueError(f"min_effect must be a finite number >= 0, got {min_effect}")
    if len(a) != len(b):
        raise ValueError(f"a and b must pair up case by case: a has {len(a)} scores, b {len(b)}")
    if len(a) < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {len(a)}")
    scores_a = _checked_scores("a", a, low, high)
    scores_b = _checked_scores("b", b, low, high)
    is_binary = _is_binary(scores_a, scores_b, low, high, binary)

    differences = scores_b - scores_a
    n = int(differences.size)
    mean = float(differences.mean())
    sd = float(differences.std(ddof=1))
    if sd <= _ROUNDING * (high - low):
        sd = 0.0  # equal differences up to rounding (0.7 - 0.4 != 0.9 - 0.6): no variance
    t_statistic, t_p_value = _paired_t(mean, sd, n)
    mcnemar = _mcnemar(scores_a, scores_b, high) if is_binary else None
    needed_n = _needed_n(effect, sd, alpha)
    p_value = mcnemar.p_value if mcnemar is not None else t_p_value
    verdict, reason = _verdict(
        mean,
        p_value,
        "McNemar" if mcnemar is not None else "paired t-test",
        alpha=alpha,
        effect=_effect_phrase(effect, min_effect_basis),
        large=abs(mean) >= effect - _EFFECT_TOLERANCE * (high - low),
        planned=effect,
        needed_n=needed_n,
        n=n,
    )
    return PairedResult(
        n=n,
        mean_a=float(scores_a.mean()),
        mean_b=float(scores_b.mean()),
        mean_difference=mean,
        ci=bootstrap_mean_ci(differences, confidence=confidence, resamples=resamples, seed=seed),
        t_statistic=t_statistic,
        t_p_value=t_p_value,
        wilcoxon_p_value=_wilcoxon_p(differences),
        cohens_dz=_cohens_dz(mean, sd),
        mcnemar=mcnemar,
        verdict=verdict,
        reason=reason,
        needed_n=needed_n,
        min_effect=effect,
        alpha=alpha,
        confidence=confidence,
        min_effect_basis=min_effect_basis,
    )


def small_effect(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """A minimum effect for scores whose scale says little: SMALL_EFFECT (Cohen's small
    effect, 0.2) times the standard deviation of A's scores across the cases (the
    baseline's spread, as in Glass's delta), or of B's when A's do not vary; 0 when
    neither varies (then every difference is the same, and any is real)."""
    for side in (a, b):
        values = np.asarray(side, dtype=float)
        spread = float(values.std(ddof=1)) if values.size > 1 else 0.0
        if spread > 0.0:
            return SMALL_EFFECT * spread
    return 0.0


def bootstrap_mean_ci(
    values: np.ndarray, *, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean; the same seed gives the same interval."""
    rng = np.random.default_rng(seed)
    n = int(values.size)
    means = np.empty(resamples)
    block = max(1, _BLOCK // max(n, 1))
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        indices = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = values[indices].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return float(low), float(high)


def needed_pairs(effect: float, sd: float, *, alpha: float = 0.05, power: float = POWER) -> int:
    """The fewest pairs for a two-sided paired t-test to detect `effect` at `power`.

    The power of n pairs is that of the noncentral t with n - 1 degrees of
    freedom and noncentrality effect / sd * sqrt(n) (statsmodels' TTestPower);
    the answer is the smallest n, at least 2, that reaches `power`.
    """
    if effect <= 0.0 or sd <= 0.0:
        raise ValueError(f"effect and sd must be > 0, got effect {effect} and sd {sd}")
    standardized = effect / sd
    z = stats.norm.ppf(1.0 - alpha / 2.0) + stats.norm.ppf(power)
    n = max(2, math.ceil((z / standardized) ** 2))  # the normal approximation, a little low
    while n > 2 and _t_power(standardized, n - 1, alpha) >= power:
        n -= 1
    while _t_power(standardized, n, alpha) < power:
        n += 1
    return n


def _t_power(standardized: float, n: int, alpha: float) -> float:
    df = n - 1
    critical = stats.t.ppf(1.0 - alpha / 2.0, df)
    noncentrality = standardized * math.sqrt(n)
    upper = stats.nct.sf(critical, df, noncentrality)
    lower = stats.nct.cdf(-critical, df, noncentrality)
    return float(upper + lower)


def _needed_n(effect: float, sd: float, alpha: float) -> int | None:
    if sd == 0.0:
        return None
    if effect == 0.0:
        return None
    return needed_pairs(effect, sd, alpha=alpha)


def _check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    low, high = float(scale[0]), float(scale[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"scale must be two finite numbers (low, high) with low < high, got {scale}"
        )
    return low, high


def _checked_scores(
    side: str, values: Sequence[float] | np.ndarray, low: float, high: float
) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{side}: scores must be numbers ({error})") from error
    if array.ndim != 1:
        raise ValueError(f"{side}: scores must be a flat sequence, got shape {array.shape}")
    slack = _SCALE_TOLERANCE * (high - low)
    for index, value in enumerate(array):
        if not math.isfinite(value):
            raise ValueError(f"{side}[{index}] is {value}: every score must be a finite number")
        if not low - slack <= value <= high + slack:
            raise ValueError(f"{side}[{index}] = {value} is outside the scale ({low}, {high})")
    return np.clip(array, low, high)


def _is_binary(a: np.ndarray, b: np.ndarray, low: float, high: float, binary: bool | None) -> bool:
    ends = np.all((a == low) | (a == high)) and np.all((b == low) | (b == high))
    if binary is None:
        return bool(ends)
    if binary and not ends:
        raise ValueError(
            f"binary scores must each be {low} (fail) or {high} (pass), the ends of the scale"
        )
    return binary


def _paired_t(mean: float, sd: float, n: int) -> tuple[float, float]:
    if sd == 0.0:
        if mean == 0.0:
            return 0.0, 1.0
        return math.copysign(math.inf, mean), 0.0
    t = mean / (sd / math.sqrt(n))
    return t, float(min(1.0, 2.0 * stats.t.sf(abs(t), n - 1)))


def _wilcoxon_p(differences: np.ndarray) -> float:
    if not np.any(differences):
        return 1.0
    return float(stats.wilcoxon(differences).pvalue)


def _cohens_dz(mean: float, sd: float) -> float:
    if sd == 0.0:
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / sd


def _mcnemar(a: np.ndarray, b: np.ndarray, high: float) -> McNemar:
    passed_a = a == high
    passed_b = b == high
    b01 = int(np.sum(~passed_a & passed_b))
    b10 = int(np.sum(passed_a & ~passed_b))
    discordant = b01 + b10
    if discordant < EXACT_MCNEMAR_BELOW:
        statistic = float(min(b01, b10))
        p_value = min(1.0, 2.0 * float(stats.binom.cdf(statistic, discordant, 0.5)))
        return McNemar(b01, b10, statistic, p_value, exact=True)
    statistic = (abs(b01 - b10) - 1.0) ** 2 / discordant
    return McNemar(b01, b10, statistic, float(stats.chi2.sf(statistic, 1)), exact=False)


def _effect_phrase(effect: float, basis: str | None) -> str:
    if basis is None:
        return f"the minimum effect you set ({effect:.3g})"
    return f"the minimum effect {effect:.3g} ({basis})"


def _verdict(
    mean: float,
    p_value: float,
    test: str,
    *,
    alpha: float,
    effect: str,
    large: bool,
    planned: float,
    needed_n: int | None,
    n: int,
) -> tuple[Verdict, str]:
    direction = "higher" if mean > 0 else "lower"
    difference = f"B scores {abs(mean):.3g} {direction} than A on average"
    if mean == 0.0:
        difference = "A and B score the same on average"
    evidence = f"{test} p = {p_value:.3g}"
    if p_value < alpha and mean != 0.0:
        if large:
            winner: Verdict = "b_wins" if mean > 0 else "a_wins"
            return winner, (
                f"{difference}, {evidence} < alpha {alpha:g} and the difference reaches {effect}."
            )
        return "below_min_effect", (
            f"{difference}: significant ({evidence} < alpha {alpha:g}), but smaller than {effect}."
        )
    plan = ""
    if needed_n is not None and needed_n > n:
        plan = f"; about {needed_n} cases would detect {planned:.3g} at 80% power"
    return "no_difference", f"{difference}, but {evidence} is not below alpha {alpha:g}{plan}."
