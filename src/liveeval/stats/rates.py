"""Rates from counts: Wilson intervals and the pooled two-proportion z test.

Leading indicators (regeneration, escalation, schema failure, thumbs-down …)
are rolled up as successes out of n per minute; these turn a window's counts
and a baseline's counts into a comparison.

An empty sample is no evidence: its rate is 0.0, its interval the whole of
[0, 1], and a test involving it has z = 0 and p = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

# The standard normal from the standard library (erfc and Wichura's AS 241 quantile,
# as scipy's ndtr and ndtri, to a few ulp): scipy.stats would cost a process 65 MB
# of imports for three functions of one distribution.
_NORMAL = NormalDist()
_SQRT2 = math.sqrt(2.0)

Alternative = Literal["two-sided", "larger", "smaller"]


@dataclass(frozen=True, slots=True)
class ProportionTest:
    """A two-proportion z test; `difference` is p_current - p_reference."""

    z: float
    p_value: float
    difference: float


@dataclass(frozen=True, slots=True)
class RateChange:
    """A window's rate against the baseline's, each with its Wilson interval."""

    rate: float
    interval: tuple[float, float]
    reference_rate: float
    reference_interval: tuple[float, float]
    test: ProportionTest
    n: int
    reference_n: int


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z, accurate far into the upper tail."""
    return 0.5 * math.erfc(z / _SQRT2)


def normal_isf(q: float) -> float:
    """The z with P(Z > z) = q, for q in (0, 1)."""
    return -_NORMAL.inv_cdf(q)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for successes out of n; (0.0, 1.0) when n is 0."""
    _check_counts(successes, n)
    _check_confidence(confidence)
    if n == 0:
        return (0.0, 1.0)
    z = normal_isf((1.0 - confidence) / 2.0)
    z2 = z * z
    p = successes / n
    denominator = 1.0 + z2 / n
    center = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    # Exact ends where the algebra gives them (0 successes: low = 0; all: high = 1).
    low = 0.0 if successes == 0 else max(0.0, center - half)
    high = 1.0 if successes == n else min(1.0, center + half)
    return (low, high)


def two_proportion_test(
    current_successes: int,
    current_n: int,
    reference_successes: int,
    reference_n: int,
    alternative: Alternative = "two-sided",
) -> ProportionTest:
    """The pooled two-proportion z test of p_current against p_reference.

    `alternative` "larger" tests p_current > p_reference, "smaller" the
    opposite. When both samples are all successes (or all failures) the
    pooled variance is zero and the rates are equal: z = 0, p = 1.
    """
    _check_counts(current_successes, current_n)
    _check_counts(reference_successes, reference_n)
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ValueError(f"unknown alternative {alternative!r}")
    if current_n == 0 or reference_n == 0:
        return ProportionTest(z=0.0, p_value=1.0, difference=0.0)
    p_current = current_successes / current_n
    p_reference = reference_successes / reference_n
    difference = p_current - p_reference
    pooled = (current_successes + reference_successes) / (current_n + reference_n)
    variance = pooled * (1.0 - pooled) * (1.0 / current_n + 1.0 / reference_n)
    if variance <= 0.0:
        return ProportionTest(z=0.0, p_value=1.0, difference=difference)
    z = difference / math.sqrt(variance)
    if alternative == "larger":
        p_value = normal_sf(z)
    elif alternative == "smaller":
        p_value = normal_sf(-z)
    else:
        p_value = 2.0 * normal_sf(abs(z))
    return ProportionTest(z=z, p_value=min(1.0, p_value), difference=difference)


def rate_change(
    successes: int,
    n: int,
    reference_successes: int,
    reference_n: int,
    confidence: float = 0.95,
) -> RateChange:
    """The window's rate and the baseline's, their intervals, and a two-sided test."""
    return RateChange(
        rate=successes / n if n else 0.0,
        interval=wilson_interval(successes, n, confidence),
        reference_rate=reference_successes / reference_n if reference_n else 0.0,
        reference_interval=wilson_interval(reference_successes, reference_n, confidence),
        test=two_proportion_test(successes, n, reference_successes, reference_n),
        n=n,
        reference_n=reference_n,
    )


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
