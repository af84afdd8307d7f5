from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from liveeval.stats.means import (
    Moments,
    bootstrap_difference_ci,
    t_interval,
    welch_difference,
)

values = st.lists(st.floats(min_value=-1e3, max_value=1e3), max_size=40)


def samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    current = rng.normal(rng.uniform(2, 4), rng.uniform(0.3, 2), size=rng.integers(2, 300))
    reference = rng.normal(rng.uniform(2, 4), rng.uniform(0.3, 2), size=rng.integers(2, 3000))
    return current, reference


@given(values, values)
@settings(max_examples=60)
def test_moments_of_two_parts_add_up_to_the_moments_of_the_whole(
    a: list[float], b: list[float]
) -> None:
    whole = Moments.of_values(a + b)
    summed = Moments.of_values(a) + Moments.of_values(b)
    assert summed.n == whole.n
    assert summed.total == pytest.approx(whole.total, abs=1e-6)
    assert summed.total_sq == pytest.approx(whole.total_sq, rel=1e-9, abs=1e-6)


@given(values)
@settings(max_examples=60)
def test_moments_give_numpys_mean_and_sample_variance(xs: list[float]) -> None:
    moments = Moments.of_values(xs)
    if len(xs) >= 1:
        assert moments.mean == pytest.approx(np.mean(xs), abs=1e-9)
    if len(xs) >= 2:
        scale = max(1.0, float(np.mean(np.square(xs))))
        assert moments.variance >= 0.0
        assert moments.variance == pytest.approx(np.var(xs, ddof=1), abs=1e-9 * scale)


def test_moments_of_nothing_have_no_mean_and_one_value_no_variance() -> None:
    assert Moments() == Moments.of_values([])
    assert math.isnan(Moments().mean)
    assert math.isnan(Moments.of_values([3.0]).variance)


def test_moments_of_equal_values_have_exactly_zero_variance() -> None:
    assert Moments.of_values([0.1] * 1000).variance == 0.0
    assert Moments.of_values(np.full(77, 4.3)).std == 0.0


def test_per_minute_moments_sum_into_a_window() -> None:
    minutes = [Moments.of_values([1.0, 2.0]), Moments.of_values([3.0]), Moments()]
    window = sum(minutes, Moments())
    assert window == Moments(3, 6.0, 14.0)
    assert window.mean == 2.0
    assert window.variance == 1.0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_welch_difference_matches_scipy(seed: int, confidence: float) -> None:
    current, reference = samples(seed)
    result = welch_difference(Moments.of_values(current), Moments.of_values(reference), confidence)
    expected = stats.ttest_ind(current, reference, equal_var=False)
    from_stats = stats.ttest_ind_from_stats(
        current.mean(),
        current.std(ddof=1),
        current.size,
        reference.mean(),
        reference.std(ddof=1),
        reference.size,
        equal_var=False,
    )
    interval = expected.confidence_interval(confidence)
    assert result.difference == pytest.approx(current.mean() - reference.mean(), rel=1e-9)
    assert result.t == pytest.approx(expected.statistic, rel=1e-7)
    assert result.t == pytest.approx(from_stats.statistic, rel=1e-7)
    assert result.df == pytest.approx(expected.df, rel=1e-7)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
    assert (result.low, result.high) == pytest.approx(tuple(interval), rel=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_welch_difference_matches_statsmodels_compare_means(seed: int) -> None:
    current, reference = samples(seed + 100)
    compare = CompareMeans(DescrStatsW(current), DescrStatsW(reference))
    t, p, df = compare.ttest_ind(usevar="unequal")
    result = welch_difference(Moments.of_values(current), Moments.of_values(reference))
    assert (result.t, result.p_value, result.df) == pytest.approx((t, p, df), rel=1e-6)
    expected = compare.tconfint_diff(alpha=0.05, usevar="unequal")
    assert (result.low, result.high) == pytest.approx(expected, rel=1e-7)


def test_welch_difference_with_one_value_on_a_side_is_no_evidence() -> None:
    result = welch_difference(Moments.of_values([1.0]), Moments.of_values([4.0, 5.0, 4.5]))
    assert result.difference == pytest.approx(-3.5)
    assert (result.low, result.high, result.p_value) == (-math.inf, math.inf, 1.0)
    empty = welch_difference(Moments(), Moments.of_values([4.0, 5.0]))
    assert empty.p_value == 1.0
    assert math.isnan(empty.difference)


def test_welch_difference_without_spread_is_exact() -> None:
    lower = welch_difference(Moments.of_values([3.0] * 10), Moments.of_values([4.0] * 20))
    assert (lower.difference, lower.low, lower.high, lower.p_value) == (-1.0, -1.0, -1.0, 0.0)
    assert lower.t == -math.inf
    same = welch_difference(Moments.of_values([4.0] * 10), Moments.of_values([4.0] * 20))
    assert (same.difference, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_welch_difference_with_spread_on_one_side_only_matches_scipy() -> None:
    current = np.array([3.0, 3.0, 3.0, 3.0])
    reference = np.array([4.0, 5.0, 3.0, 4.0, 5.0, 4.0])
    result = welch_difference(Moments.of_values(current), Moments.of_values(reference))
    expected = stats.ttest_ind_from_stats(
        3.0, 0.0, 4, reference.mean(), reference.std(ddof=1), 6, equal_var=False
    )
    assert (result.t, result.p_value) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=1e-9
    )


@given(values, values)
@settings(max_examples=60)
def test_welch_p_value_is_a_probability_and_swapping_sides_mirrors_the_interval(
    a: list[float], b: list[float]
) -> None:
    forward = welch_difference(Moments.of_values(a), Moments.of_values(b))
    backward = welch_difference(Moments.of_values(b), Moments.of_values(a))
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.p_value == pytest.approx(backward.p_value)
    assert forward.low == pytest.approx(-backward.high)
    if len(a) >= 2 and len(b) >= 2:
        assert forward.low <= forward.difference <= forward.high


@pytest.mark.parametrize("seed", range(3))
def test_t_interval_matches_statsmodels(seed: int) -> None:
    current, _ = samples(seed)
    expected = DescrStatsW(current).tconfint_mean(alpha=0.05)
    assert t_interval(Moments.of_values(current)) == pytest.approx(expected, rel=1e-9)
    assert t_interval(Moments.of_values([2.0])) == (-math.inf, math.inf)


@pytest.mark.parametrize("seed", range(3))
def test_bootstrap_difference_ci_agrees_with_scipy_within_monte_carlo_error(seed: int) -> None:
    current, reference = samples(seed + 10)
    low, high = bootstrap_difference_ci(current, reference, resamples=2000, seed=seed)
    expected = stats.bootstrap(
        (current, reference),
        lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis),
        method="percentile",
        n_resamples=2000,
        rng=np.random.default_rng(seed + 1),
    ).confidence_interval
    # Each end's Monte Carlo error with 2000 resamples is about 0.06 standard errors.
    se = math.sqrt(current.var(ddof=1) / current.size + reference.var(ddof=1) / reference.size)
    assert low == pytest.approx(expected.low, abs=0.4 * se)
    assert high == pytest.approx(expected.high, abs=0.4 * se)


def test_bootstrap_difference_ci_is_reproducible_for_a_seed() -> None:
    current, reference = samples(3)
    first = bootstrap_difference_ci(current, reference, seed=7)
    assert first == bootstrap_difference_ci(current, reference, seed=7)
    assert first != bootstrap_difference_ci(current, reference, seed=8)


def test_bootstrap_of_an_empty_side_is_unbounded_and_of_constants_is_a_point() -> None:
    assert bootstrap_difference_ci(np.array([]), np.array([1.0, 2.0])) == (-math.inf, math.inf)
    assert bootstrap_difference_ci(np.full(5, 3.0), np.full(9, 4.0)) == (-1.0, -1.0)
