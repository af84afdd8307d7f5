"""Agreement between raters: a judge against people, and people among themselves.

The judge is an instrument that drifts, so it is calibrated against human labels with
the textbook statistics: exact and within-one agreement, Cohen's weighted kappa,
Spearman's rank correlation, Krippendorff's alpha, the confusion matrix, a length bias
and, for pairwise judges, the rate at which a verdict flips when the answers swap.

Scores on a scale are given with the scale's `levels` (ascending), so that a level
nobody used still counts, as sklearn does with explicit `labels`. A statistic that is
undefined on its input (no items, constant scores, nothing to pair) is NaN with the
reason, as the reference implementations give NaN or refuse; nothing here divides by
zero or warns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from liveeval.stats.rates import wilson_interval

# Scores as a list or a numpy array.
Values = Sequence[float] | npt.NDArray[np.floating[Any]] | npt.NDArray[np.integer[Any]]
Weights = Literal["linear", "quadratic"]
Level = Literal["nominal", "ordinal", "interval"]
Verdict = Literal["A", "B", "tie"]

_MIRROR: dict[str, str] = {"A": "B", "B": "A", "tie": "tie"}
NAN = float("nan")


@dataclass(frozen=True, slots=True)
class Estimate:
    """A statistic's value; NaN with `reason` when the input leaves it undefined."""

    value: float
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


@dataclass(frozen=True, slots=True)
class Correlation:
    """Spearman's rho and its two-sided p-value (t approximation, as scipy)."""

    rho: float
    p_value: float
    n: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LengthBias:
    """How strongly judge and human scores follow the output's length (Spearman)."""

    judge: Correlation
    human: Correlation

    @property
    def difference(self) -> float:
        """Judge rho minus human rho: above 0, the judge rewards length more than people."""
        return self.judge.rho - self.human.rho


@dataclass(frozen=True, slots=True)
class FlipRate:
    """Pairs whose verdict changed when the two answers swapped position.

    `first_position` counts flips where the answer shown first won both times (the
    judge favours the first slot), `second_position` the answer shown second; the
    rest of the flips involve a tie on one side.
    """

    flips: int
    n: int
    rate: float
    interval: tuple[float, float]
    first_position: int
    second_position: int
    reason: str | None = None


def round_to_levels(values: Values, levels: Values) -> npt.NDArray[np.float64]:
    """Each value moved to the nearest level; halfway between two, to the higher one.

    A human median of 3.5 on a 1-5 scale is a 4, as in `stats.quality` (half up).
    """
    x = _finite(values, "values")
    grid = _levels(levels)
    if x.size == 0:
        return x
    right = np.clip(np.searchsorted(grid, x, side="left"), 0, grid.size - 1)
    left = np.clip(right - 1, 0, grid.size - 1)
    to_left = np.abs(x - grid[left]) < np.abs(grid[right] - x)
    return np.where(to_left, grid[left], grid[right])


def exact_agreement(a: Values, b: Values) -> Estimate:
    """The share of items where the two scores are equal."""
    x, y = _pair(a, b)
    if x.size == 0:
        return Estimate(NAN, "no items")
    return Estimate(float(np.mean(x == y)))


def within_one_agreement(a: Values, b: Values, levels: Values) -> Estimate:
    """The share of items whose scores are at most one level apart."""
    x, y = _pair(a, b)
    grid = _levels(levels)
    if x.size == 0:
        return Estimate(NAN, "no items")
    distance = np.abs(_indices(x, grid, "a") - _indices(y, grid, "b"))
    return Estimate(float(np.mean(distance <= 1)))


def confusion_matrix(rows: Values, columns: Values, levels: Values) -> npt.NDArray[np.int64]:
    """Counts of (row level, column level) pairs, over every level of the scale.

    Unlike sklearn, a value that is not a level is an error rather than left out.
    """
    x, y = _pair(rows, columns)
    grid = _levels(levels)
    matrix = np.zeros((grid.size, grid.size), dtype=np.int64)
    np.add.at(matrix, (_indices(x, grid, "rows"), _indices(y, grid, "columns")), 1)
    return matrix


def cohen_kappa(
    a: Values,
    b: Values,
    levels: Values,
    weights: Weights | None = None,
) -> Estimate:
    """Cohen's kappa of two raters, unweighted or with linear or quadratic weights.

    Weights are distances between the levels' positions (|i - j| or (i - j)^2), as in
    sklearn's `cohen_kappa_score` with `labels=levels`. Undefined (NaN) when the
    expected disagreement is zero: both raters used one and the same level.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    observed = confusion_matrix(a, b, levels).astype(np.float64)
    total = observed.sum()
    if total == 0:
        return Estimate(NAN, "no items")
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    positions = np.arange(observed.shape[0], dtype=np.float64)
    gap = positions[:, None] - positions[None, :]
    if weights is None:
        w = (gap != 0).astype(np.float64)
    else:
        w = np.abs(gap) if weights == "linear" else gap**2
    chance = float(np.sum(w * expected))
    if chance == 0.0:
        return Estimate(NAN, "both raters gave one and the same level to every item")
    return Estimate(1.0 - float(np.sum(w * observed)) / chance)


def spearman(x: Values, y: Values) -> Correlation:
    """Spearman's rank correlation (ties get their average rank) and its p-value.

    As scipy: undefined for fewer than two items or a constant input; with two items
    rho is +-1 and the p-value is undefined.
    """
    a, b = _pair(x, y)
    n = int(a.size)
    if n < 2:
        return Correlation(NAN, NAN, n, "needs at least two items")
    if np.all(a == a[0]) or np.all(b == b[0]):
        return Correlation(NAN, NAN, n, "one of the two is constant")
    from scipy.stats import spearmanr  # on use: 65 MB the server's pages need not hold

    result = spearmanr(a, b)
    rho, p_value = float(result.statistic), float(result.pvalue)
    if n == 2:
        return Correlation(rho, NAN, n, "a p-value needs at least three items")
    return Correlation(rho, min(1.0, max(0.0, p_value)), n)


def length_bias(judge: Values, human: Values, lengths: Values) -> LengthBias:
    """Spearman's rho of judge scores with output length, and of human scores with it."""
    return LengthBias(judge=spearman(judge, lengths), human=spearman(human, lengths))


def krippendorff_alpha(
    ratings: npt.ArrayLike,
    level: Level = "interval",
    domain: Values | None = None,
) -> Estimate:
    """Krippendorff's alpha of a raters x items matrix; a missing rating is NaN.

    alpha = 1 - D_observed / D_expected over the coincidence matrix of the values that
    can be paired (an item rated once adds nothing). `domain` is the ordered set of
    possible values (default: the values that occur). Undefined where the `krippendorff`
    package refuses or divides by zero: fewer than two possible values, no item with two
    ratings, or all pairable ratings equal.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"level must be 'nominal', 'ordinal' or 'interval', got {level!r}")
    data = np.asarray(ratings, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"ratings must be a raters x items matrix, got shape {data.shape}")
    if np.isinf(data).any():
        raise ValueError("ratings must be finite numbers or NaN (missing)")
    present = ~np.isnan(data)
    if domain is None:
        values = np.unique(data[present])
    else:
        values = _levels(domain)
        outside = np.setdiff1d(data[present], values)
        if outside.size:
            raise ValueError(f"ratings outside the domain: {outside[:5].tolist()}")
    if values.size < 2:
        return Estimate(NAN, "fewer than two distinct values: nothing to disagree on")
    # counts[item, value]: how many raters gave the item that value
    counts = (data.T[:, :, None] == values[None, None, :]).sum(axis=1).astype(np.float64)
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    if not pairable.any():
        return Estimate(NAN, "no item has two or more ratings")
    counts, per_item = counts[pairable], per_item[pairable]
    weighted = counts / (per_item - 1.0)[:, None]
    coincidences = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_v = coincidences.sum(axis=0)
    n = n_v.sum()
    chance = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1.0)
    delta = _distances(values, n_v, level)
    expected = float(np.sum(chance * delta))
    if expected == 0.0:
        return Estimate(NAN, "every rating that can be paired has the same value")
    return Estimate(1.0 - float(np.sum(coincidences * delta)) / expected)


def flip_rate(pairs: Sequence[tuple[str, str]], confidence: float = 0.95) -> FlipRate:
    """Position bias of a pairwise judge: how often swapping the answers changes its mind.

    Each pair is (verdict with answer 1 shown as A, verdict with answer 1 shown as B),
    verdicts "A", "B" or "tie". It is consistent when the second is the mirror of the
    first (A <-> B, tie <-> tie). The interval is Wilson's.
    """
    first = second = flips = 0
    for index, pair in enumerate(pairs):
        if len(pair) != 2 or any(v not in _MIRROR for v in pair):
            raise ValueError(f"pair {index}: verdicts must be 'A', 'B' or 'tie', got {pair!r}")
        ab, ba = pair
        if ba != _MIRROR[ab]:
            flips += 1
            first += ab == ba == "A"
            second += ab == ba == "B"
    n = len(pairs)
    interval = wilson_interval(flips, n, confidence)
    if n == 0:
        return FlipRate(0, 0, NAN, interval, 0, 0, "no pairs")
    return FlipRate(flips, n, flips / n, interval, first, second)


def _distances(
    values: npt.NDArray[np.float64], n_v: npt.NDArray[np.float64], level: Level
) -> npt.NDArray[np.float64]:
    """Squared distances between the values (Krippendorff's delta^2)."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    # ordinal: the ratings between two values, less half of the two ends themselves
    cumulative = np.cumsum(n_v)
    low = np.minimum.outer(np.arange(values.size), np.arange(values.size))
    high = np.maximum.outer(np.arange(values.size), np.arange(values.size))
    between = cumulative[high] - cumulative[low] + n_v[low]
    return (between - (n_v[low] + n_v[high]) / 2.0) ** 2


def _finite(values: Values, name: str) -> npt.NDArray[np.float64]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite numbers (no NaN or infinity)")
    return x


def _pair(a: Values, b: Values) -> tuple[npt.NDArray[np.float64], ...]:
    x, y = _finite(a, "first"), _finite(b, "second")
    if x.size != y.size:
        raise ValueError(f"the two raters scored {x.size} and {y.size} items: need the same items")
    return x, y


def _levels(levels: Values) -> npt.NDArray[np.float64]:
    grid = _finite(levels, "levels")
    if grid.size == 0 or np.any(np.diff(grid) <= 0):
        raise ValueError(f"levels must be distinct and ascending, got {grid.tolist()}")
    return grid


def _indices(
    x: npt.NDArray[np.float64], grid: npt.NDArray[np.float64], name: str
) -> npt.NDArray[np.intp]:
    """Each value's position among the levels; a value that is not a level is an error."""
    index = np.clip(np.searchsorted(grid, x), 0, grid.size - 1)
    wrong = grid[index] != x
    if wrong.any():
        first = int(np.argmax(wrong))
        raise ValueError(
            f"{name}: item {first} has {x[first]:g}, not one of the levels "
            f"{', '.join(f'{v:g}' for v in grid)} (round to the scale first)"
        )
    return index
