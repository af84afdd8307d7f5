"""Means from summary statistics: moments that add up, Welch's test, a bootstrap.

Per-minute rollups keep n, the sum and the sum of squares of every numeric
value (judge scores, edit ratios, cost); `Moments` adds them into a window and
`welch_difference` compares two windows without the raw values.

Fewer than two values on a side is no evidence: the interval is unbounded,
t and df are 0, and p is 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# A sum of squared deviations this small against the sum of squares is rounding
# error of `total_sq - total * mean`: the values were all equal.
_CANCELLATION = 1e-12
# Bootstrap resampling is done in blocks of at most this many drawn values.
_BLOCK = 1_000_000


@dataclass(frozen=True, slots=True)
class Moments:
    """n, sum and sum of squares of some values; `a + b` is the moments of both."""

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    @classmethod
    def of_values(cls, values: Iterable[float] | np.ndarray) -> Moments:
        if isinstance(values, np.ndarray):
            array = values.astype(float).ravel()
        else:
            array = np.fromiter(values, dtype=float)
        return cls(n=int(array.size), total=float(array.sum()), total_sq=float(array @ array))

    def __add__(self, other: Moments) -> Moments:
        return Moments(self.n + other.n, self.total + other.total, self.total_sq + other.total_sq)

    @property
    def mean(self) -> float:
        """The mean; NaN when there are no values."""
        return self.total / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        """The sample variance (ddof=1); NaN for fewer than two values."""
        if self.n < 2:
            return math.nan
        squares = self.total_sq - self.total * (self.total / self.n)
        if squares <= _CANCELLATION * abs(self.total_sq):
            return 0.0
        return squares / (self.n - 1)

    @property
    def std(self) -> float:
        """The sample standard deviation (ddof=1)."""
        return math.sqrt(self.variance)


@dataclass(frozen=True, slots=True)
class MeanDifference:
    """current mean - reference mean, its confidence interval and Welch's t test."""

    difference: float
    low: float
    high: float
    t: float
    df: float
    p_value: float


def t_interval(moments: Moments, confidence: float = 0.95) -> tuple[float, float]:
    """The Student t interval of a mean; unbounded for fewer than two values."""
    _check_confidence(confidence)
    if moments.n < 2:
        return (-math.inf, math.inf)
    half = _t_quantile(confidence, moments.n - 1) * math.sqrt(moments.variance / moments.n)
    return (moments.mean - half, moments.mean + half)


def welch_difference(
    current: Moments, reference: Moments, confidence: float = 0.95
) -> MeanDifference:
    """Welch's unequal-variance t test and interval for current.mean - reference.mean.

    With zero variance on both sides the difference is exact: the interval is
    the point itself, p is 0 when the means differ and 1 when they do not.
    """
    _check_confidence(confidence)
    difference = current.mean - reference.mean
    if current.n < 2 or reference.n < 2:
        return MeanDifference(difference, -math.inf, math.inf, t=0.0, df=0.0, p_value=1.0)
    a = current.variance / current.n
    b = reference.variance / reference.n
    se2 = a + b
    if se2 == 0.0:
        df = float(current.n + reference.n - 2)
        if difference == 0.0:
            return MeanDifference(0.0, 0.0, 0.0, t=0.0, df=df, p_value=1.0)
        return MeanDifference(
            difference, difference, difference, math.copysign(math.inf, difference), df, 0.0
        )
    df = se2 * se2 / (a * a / (current.n - 1) + b * b / (reference.n - 1))
    se = math.sqrt(se2)
    t = difference / se
    half = _t_quantile(confidence, df) * se
    p_value = float(2.0 * _t_sf(abs(t), df))
    return MeanDifference(difference, difference - half, difference + half, t, df, p_value)


def bootstrap_difference_ci(
    current: np.ndarray,
    reference: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(current) - mean(reference).

    Each sample is resampled with replacement on its own. An empty side gives
    an unbounded interval.
    """
    _check_confidence(confidence)
    if resamples < 1:
        raise ValueError(f"resamples must be positive, got {resamples}")
    x = np.asarray(current, dtype=float).ravel()
    y = np.asarray(reference, dtype=float).ravel()
    if x.size == 0 or y.size == 0:
        return (-math.inf, math.inf)
    rng = np.random.default_rng(seed)
    differences = _resampled_means(x, resamples, rng) - _resampled_means(y, resamples, rng)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(differences, [alpha, 1.0 - alpha])
    return (float(low), float(high))


def _resampled_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    means = np.empty(resamples)
    rows = max(1, _BLOCK // values.size)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        indices = rng.integers(0, values.size, size=(stop - start, values.size))
        means[start:stop] = values[indices].mean(axis=1)
    return means


# Student's t from scipy.special, imported on the first test: these are the functions
# scipy.stats.t calls, and importing scipy.stats would cost every process that reads a
# rollup (the server, the evaluator) 65 MB; scipy.special is 28 MB, and only when used.
def _t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's t with `df` degrees of freedom."""
    from scipy.special import stdtr

    return float(stdtr(df, -x))


def _t_quantile(confidence: float, df: float) -> float:
    """The t with P(T > t) = (1 - confidence) / 2."""
    from scipy.special import stdtrit

    return float(-stdtrit(df, (1.0 - confidence) / 2.0))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
