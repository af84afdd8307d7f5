from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from liveeval.stats.rates import rate_change, two_proportion_test, wilson_interval

counts = st.integers(min_value=0, max_value=5000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@pytest.mark.parametrize(
    ("successes", "n"),
    [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (1, 1000), (999, 1000), (412, 5210)],
)
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_interval_matches_statsmodels(successes: int, n: int, confidence: float) -> None:
    expected = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    assert wilson_interval(successes, n, confidence) == pytest.approx(expected, abs=1e-12)


@given(counts)
@settings(max_examples=50)
def test_wilson_interval_holds_the_rate_and_stays_in_the_unit_interval(
    count: tuple[int, int],
) -> None:
    successes, n = count
    low, high = wilson_interval(successes, n)
    assert 0.0 <= low <= high <= 1.0
    if n:
        assert low <= successes / n <= high


def test_wilson_interval_of_nothing_is_the_whole_unit_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_interval_narrows_as_confidence_falls() -> None:
    wide = wilson_interval(30, 100, 0.99)
    narrow = wilson_interval(30, 100, 0.8)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize(("successes", "n"), [(-1, 10), (11, 10), (0, -1)])
def test_impossible_counts_are_refused(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_a_confidence_outside_zero_and_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(1, 2, confidence)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_two_proportion_test_matches_statsmodels(seed: int, alternative: str) -> None:
    rng = np.random.default_rng(seed)
    current_n, reference_n = rng.integers(20, 3000, size=2)
    current = int(rng.binomial(current_n, rng.uniform(0.05, 0.5)))
    reference = int(rng.binomial(reference_n, rng.uniform(0.05, 0.5)))
    z, p = proportions_ztest(
        [current, reference], [current_n, reference_n], alternative=alternative
    )
    result = two_proportion_test(
        current, int(current_n), reference, int(reference_n), alternative=alternative
    )
    assert result.z == pytest.approx(z, rel=1e-10)
    assert result.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
    assert result.difference == pytest.approx(current / current_n - reference / reference_n)


@given(counts, counts)
@settings(max_examples=50)
def test_swapping_the_samples_flips_z_and_keeps_the_two_sided_p_value(
    a: tuple[int, int], b: tuple[int, int]
) -> None:
    forward = two_proportion_test(*a, *b)
    backward = two_proportion_test(*b, *a)
    assert 0.0 <= forward.p_value <= 1.0
    assert forward.z == pytest.approx(-backward.z)
    assert forward.p_value == pytest.approx(backward.p_value)


@given(counts, counts)
@settings(max_examples=50)
def test_one_sided_p_values_add_up_to_one(a: tuple[int, int], b: tuple[int, int]) -> None:
    larger = two_proportion_test(*a, *b, alternative="larger")
    smaller = two_proportion_test(*a, *b, alternative="smaller")
    if larger.z != 0.0:
        assert larger.p_value + smaller.p_value == pytest.approx(1.0)


def test_all_successes_on_both_sides_is_no_difference() -> None:
    result = two_proportion_test(50, 50, 200, 200)
    assert (result.z, result.p_value, result.difference) == (0.0, 1.0, 0.0)


def test_an_empty_sample_is_no_evidence() -> None:
    assert two_proportion_test(0, 0, 5, 100).p_value == 1.0
    assert two_proportion_test(5, 100, 0, 0).z == 0.0


def test_an_unknown_alternative_is_refused() -> None:
    with pytest.raises(ValueError):
        two_proportion_test(1, 10, 2, 10, alternative="bigger")  # type: ignore[arg-type]


def test_a_tripled_escalation_rate_is_a_significant_rise() -> None:
    change = rate_change(45, 1500, 150, 15000)
    assert change.rate == pytest.approx(0.03)
    assert change.reference_rate == pytest.approx(0.01)
    assert change.interval == pytest.approx(
        proportion_confint(45, 1500, alpha=0.05, method="wilson"), abs=1e-12
    )
    assert change.reference_interval[1] < change.interval[0]
    assert change.test.p_value < 1e-6
    assert (change.n, change.reference_n) == (1500, 15000)


def test_rate_change_of_an_empty_window_has_rate_zero_and_no_evidence() -> None:
    change = rate_change(0, 0, 10, 100)
    assert change.rate == 0.0
    assert change.interval == (0.0, 1.0)
    assert change.test.p_value == 1.0
    assert not math.isnan(change.reference_rate)
