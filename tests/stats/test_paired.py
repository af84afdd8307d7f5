from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestPower
from statsmodels.stats.weightstats import DescrStatsW

from liveeval.stats.paired import (
    bootstrap_mean_ci,
    needed_pairs,
    paired_comparison,
    small_effect,
)

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
pairs = st.lists(st.tuples(unit, unit), min_size=2, max_size=40)
# Scores as they come (a few decimals): a shift then moves every value by the same amount
# up to rounding, where 5e-324 + 1.0 == 1.0 would turn a constant difference into none.
scored = st.floats(min_value=0.0, max_value=1.0).map(lambda v: round(v, 4))
score_pairs = st.lists(st.tuples(scored, scored), min_size=2, max_size=40)


def scores(seed: int, n: int = 60, shift: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.2, 0.8, size=n)
    b = np.clip(a + rng.normal(shift, 0.15, size=n), 0.0, 1.0)
    return a, b


def pass_fail(both: int, a_only: int, b_only: int, neither: int) -> tuple[list[float], list[float]]:
    a = [1.0] * both + [1.0] * a_only + [0.0] * b_only + [0.0] * neither
    b = [1.0] * both + [0.0] * a_only + [1.0] * b_only + [0.0] * neither
    return a, b


@pytest.mark.parametrize("seed", range(6))
def test_t_test_matches_scipy_and_statsmodels_on_b_minus_a(seed: int) -> None:
    a, b = scores(seed)
    result = paired_comparison(a, b, resamples=100)
    reference = stats.ttest_rel(b, a)
    assert result.t_statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert result.t_p_value == pytest.approx(reference.pvalue, rel=1e-9)
    t, p, _ = DescrStatsW(b - a).ttest_mean(0.0)
    assert result.t_statistic == pytest.approx(t, rel=1e-10)
    assert result.t_p_value == pytest.approx(p, rel=1e-9)
    assert result.mean_a == pytest.approx(np.mean(a))
    assert result.mean_b == pytest.approx(np.mean(b))
    assert result.mean_difference == pytest.approx(np.mean(b) - np.mean(a))


@pytest.mark.parametrize("seed", range(6))
def test_cohens_dz_is_the_mean_difference_over_its_sample_sd(seed: int) -> None:
    a, b = scores(seed)
    result = paired_comparison(a, b, resamples=100)
    d = b - a
    assert result.cohens_dz == pytest.approx(np.mean(d) / np.std(d, ddof=1), rel=1e-10)
    # d_z * sqrt(n) is the paired t statistic
    assert result.cohens_dz * math.sqrt(d.size) == pytest.approx(stats.ttest_rel(b, a).statistic)


def test_wilcoxon_matches_scipy_default_which_drops_zero_differences() -> None:
    rng = np.random.default_rng(11)
    a = rng.integers(0, 5, size=80) / 4
    b = np.clip(a + rng.integers(-1, 3, size=80) / 4, 0.0, 1.0)
    result = paired_comparison(a, b, resamples=100)
    d = b - a
    assert np.sum(d == 0) > 10
    assert result.wilcoxon_p_value == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-12)
    pratt = stats.wilcoxon(d, zero_method="pratt").pvalue
    assert result.wilcoxon_p_value != pytest.approx(pratt, rel=1e-3)


@pytest.mark.parametrize("seed", range(3))
def test_wilcoxon_matches_scipy_on_large_tied_samples(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, size=200) / 4
    b = np.clip(a + rng.integers(-1, 2, size=200) / 4, 0.0, 1.0)
    result = paired_comparison(a, b, resamples=100, binary=False)
    assert result.wilcoxon_p_value == pytest.approx(stats.wilcoxon(b - a).pvalue, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_bootstrap_interval_agrees_with_scipys_percentile_bootstrap(seed: int) -> None:
    a, b = scores(seed, n=80)
    result = paired_comparison(a, b, resamples=20_000, seed=seed)
    reference = stats.bootstrap(
        (b - a,),
        np.mean,
        method="percentile",
        n_resamples=20_000,
        confidence_level=0.95,
        rng=np.random.default_rng(seed + 1000),
    ).confidence_interval
    width = reference.high - reference.low
    assert result.ci[0] == pytest.approx(reference.low, abs=0.03 * width)
    assert result.ci[1] == pytest.approx(reference.high, abs=0.03 * width)
    assert result.ci[0] < result.mean_difference < result.ci[1]


def test_bootstrap_is_reproducible_by_seed_and_narrows_with_confidence() -> None:
    d = np.random.default_rng(3).normal(0.1, 0.2, size=50)
    assert bootstrap_mean_ci(d, seed=7) == bootstrap_mean_ci(d, seed=7)
    assert bootstrap_mean_ci(d, seed=7) != bootstrap_mean_ci(d, seed=8)
    wide = bootstrap_mean_ci(d, confidence=0.99, seed=7)
    narrow = bootstrap_mean_ci(d, confidence=0.8, seed=7)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_bootstrap_in_blocks_covers_every_resample() -> None:
    d = np.random.default_rng(4).normal(0.0, 1.0, size=3_000)
    low, high = bootstrap_mean_ci(d, resamples=1_000, seed=0)  # 3 blocks of 333 and one of 1
    half = 1.96 * float(np.std(d, ddof=1)) / math.sqrt(d.size)
    assert low == pytest.approx(np.mean(d) - half, abs=0.2 * half)
    assert high == pytest.approx(np.mean(d) + half, abs=0.2 * half)


@pytest.mark.parametrize(
    ("both", "a_only", "b_only", "neither"),
    [(10, 3, 9, 8), (5, 0, 0, 5), (2, 12, 12, 4), (20, 10, 14, 6), (30, 5, 25, 10), (0, 40, 60, 0)],
)
def test_mcnemar_matches_statsmodels_exact_below_25_discordant_else_corrected_chi2(
    both: int, a_only: int, b_only: int, neither: int
) -> None:
    a, b = pass_fail(both, a_only, b_only, neither)
    result = paired_comparison(a, b, resamples=100)
    assert result.mcnemar is not None
    exact = a_only + b_only < 25
    table = [[both, a_only], [b_only, neither]]
    reference = mcnemar(table, exact=exact, correction=True)
    assert result.mcnemar.exact is exact
    assert (result.mcnemar.b01, result.mcnemar.b10) == (b_only, a_only)
    assert result.mcnemar.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert result.mcnemar.p_value == pytest.approx(reference.pvalue, rel=1e-10)


@pytest.mark.parametrize(
    ("effect", "sd", "alpha"),
    [(0.05, 0.2, 0.05), (0.05, 0.5, 0.05), (0.1, 0.1, 0.05), (0.2, 0.05, 0.05), (0.05, 0.3, 0.01)],
)
def test_needed_pairs_match_statsmodels_ttest_power(effect: float, sd: float, alpha: float) -> None:
    nobs = TTestPower().solve_power(
        effect_size=effect / sd, alpha=alpha, power=0.8, alternative="two-sided"
    )
    assert needed_pairs(effect, sd, alpha=alpha) == max(2, math.ceil(nobs))


def test_needed_n_plans_for_the_minimum_effect_at_the_observed_sd() -> None:
    a, b = scores(1, n=40, shift=0.0)
    result = paired_comparison(a, b, min_effect=0.05, resamples=100)
    sd = np.std(b - a, ddof=1)
    nobs = TTestPower().solve_power(effect_size=0.05 / sd, alpha=0.05, power=0.8)
    assert result.needed_n == math.ceil(nobs)
    assert result.verdict == "no_difference"
    assert f"about {result.needed_n} cases" in result.reason


def test_b_wins_when_significant_and_at_least_the_minimum_effect() -> None:
    a, b = scores(2, n=100, shift=0.15)
    result = paired_comparison(a, b, resamples=500)
    assert result.t_p_value < 0.05 and result.mean_difference >= 0.05
    assert result.verdict == "b_wins"
    assert "B scores" in result.reason and "higher" in result.reason


def test_a_wins_when_b_is_significantly_and_materially_worse() -> None:
    a, b = scores(2, n=100, shift=0.15)
    result = paired_comparison(b, a, resamples=500)
    assert result.verdict == "a_wins"
    assert "lower" in result.reason


def test_a_significant_but_tiny_difference_is_significant_and_below_the_minimum_effect() -> None:
    """Not "no significant difference" beside p < 1e-6: the difference is real, and small."""
    a, b = scores(5, n=5_000, shift=0.02)
    result = paired_comparison(a, b, resamples=200)
    assert result.t_p_value < 1e-6
    assert result.verdict == "below_min_effect"
    assert result.reason.endswith(
        "significant (paired t-test p = "
        f"{result.t_p_value:.3g} < alpha 0.05), but smaller than the minimum effect 0.05 "
        "(5% of the 0–1 scale)."
    )
    assert result.min_effect_basis == "5% of the 0–1 scale"
    given = paired_comparison(a, b, min_effect=0.05, resamples=200)
    assert given.reason.endswith("but smaller than the minimum effect you set (0.05).")
    assert given.min_effect_basis is None
    assert paired_comparison(a, b, min_effect=0.01, resamples=200).verdict == "b_wins"


def test_small_effect_is_a_fifth_of_the_baselines_spread() -> None:
    a, b = [0.9, 0.95, 1.0, 0.97], [0.91, 0.96, 0.99, 0.98]
    assert small_effect(a, b) == pytest.approx(0.2 * np.std(a, ddof=1))
    assert small_effect([1.0, 1.0], b) == pytest.approx(0.2 * np.std(b, ddof=1))
    assert small_effect([1.0, 1.0], [0.5, 0.5]) == 0.0


def test_a_large_but_noisy_difference_is_no_difference() -> None:
    a = [0.1, 0.9, 0.2, 0.8, 0.5]
    b = [0.9, 0.2, 0.9, 0.7, 0.9]
    result = paired_comparison(a, b, resamples=200)
    assert result.mean_difference >= 0.05
    assert result.t_p_value >= 0.05
    assert result.verdict == "no_difference"
    assert "is not below alpha 0.05" in result.reason


def test_pass_fail_scores_decide_by_mcnemar_not_by_the_t_test() -> None:
    a, b = pass_fail(both=3, a_only=0, b_only=5, neither=12)
    result = paired_comparison(a, b, resamples=200)
    assert result.t_p_value < 0.05  # the t-test alone would call it
    assert result.mcnemar is not None and result.mcnemar.p_value == pytest.approx(0.0625)
    assert result.verdict == "no_difference"
    assert "McNemar p = 0.0625" in result.reason
    forced = paired_comparison(a, b, binary=False, resamples=200)
    assert forced.mcnemar is None and forced.verdict == "b_wins"


def test_binary_is_detected_at_the_ends_of_the_scale() -> None:
    result = paired_comparison([1, 5, 5, 1], [5, 5, 5, 1], scale=(1, 5), resamples=100)
    assert result.mcnemar is not None and (result.mcnemar.b01, result.mcnemar.b10) == (1, 0)
    assert paired_comparison([0.0, 0.5], [1.0, 1.0], resamples=100).mcnemar is None


def test_binary_scores_must_be_the_ends_of_the_scale() -> None:
    with pytest.raises(ValueError, match=r"binary scores must each be 0.0 \(fail\) or 1.0"):
        paired_comparison([0.0, 0.5], [1.0, 1.0], binary=True)


def test_default_minimum_effect_is_five_percent_of_the_scale_width() -> None:
    assert paired_comparison([1, 2, 3], [2, 3, 3], scale=(1, 5), resamples=10).min_effect == 0.2
    assert paired_comparison([0.1, 0.2], [0.3, 0.2], resamples=10).min_effect == 0.05


def test_unequal_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="a has 3 scores, b 2"):
        paired_comparison([0.1, 0.2, 0.3], [0.1, 0.2])


def test_fewer_than_two_pairs_are_an_error_where_scipy_gives_nan() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(stats.ttest_rel([0.2], [0.4]).pvalue)
    with pytest.raises(ValueError, match="at least 2 pairs, got 1"):
        paired_comparison([0.2], [0.4])
    with pytest.raises(ValueError, match="at least 2 pairs, got 0"):
        paired_comparison([], [])


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_scores_are_an_error_naming_side_and_index(bad: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert math.isnan(stats.ttest_rel([0.1, 0.2, bad], [0.3, 0.2, 0.4]).pvalue)
    with pytest.raises(ValueError, match=rf"b\[1\] is {bad}"):
        paired_comparison([0.1, 0.2, 0.3], [0.3, bad, 0.4])


def test_a_score_past_the_scale_by_rounding_is_the_end_of_the_scale() -> None:
    a = [0.5, 0.6, 0.7]
    rounded = paired_comparison(a, [1.0000000000000002, 0.9, 1.0], resamples=10)
    assert rounded == paired_comparison(a, [1.0, 0.9, 1.0], resamples=10)


def test_scores_outside_the_scale_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"a\[0\] = 4.0 is outside the scale \(0.0, 1.0\)"):
        paired_comparison([4.0, 0.2], [0.3, 0.2])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.0},
        {"alpha": 1.5},
        {"confidence": 1.0},
        {"resamples": 0},
        {"min_effect": -0.1},
        {"scale": (1.0, 1.0)},
        {"scale": (0.0, math.inf)},
    ],
)
def test_bad_settings_are_an_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        paired_comparison([0.1, 0.2], [0.3, 0.2], **kwargs)  # type: ignore[arg-type]


def test_all_zero_differences_are_no_difference_where_scipy_gives_nan() -> None:
    a = [0.2, 0.4, 0.6, 0.8]
    assert math.isnan(stats.ttest_rel(a, a).pvalue)
    result = paired_comparison(a, a, resamples=100)
    assert (result.t_statistic, result.t_p_value, result.wilcoxon_p_value) == (0.0, 1.0, 1.0)
    assert result.cohens_dz == 0.0
    assert result.ci == (0.0, 0.0)
    assert result.needed_n is None
    assert result.verdict == "no_difference"
    assert result.reason.startswith("A and B score the same on average")


@pytest.mark.parametrize(
    ("a", "b"), [([0.0, 0.25, 0.5], [0.5, 0.75, 1.0]), ([0.2, 0.4, 0.6], [0.5, 0.7, 0.9])]
)
def test_equal_nonzero_differences_give_an_infinite_t_as_scipy_nearly_does(
    a: list[float], b: list[float]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy warns of precision loss
        reference = stats.ttest_rel(b, a)
    # exact in binary: scipy's t is inf; with rounding noise (0.7 - 0.4 != 0.9 - 0.6) it is huge
    assert reference.statistic > 1e15 and reference.pvalue < 1e-30
    result = paired_comparison(a, b, resamples=100)
    assert result.t_statistic == math.inf
    assert result.t_p_value == 0.0
    assert result.wilcoxon_p_value == pytest.approx(stats.wilcoxon(np.subtract(b, a)).pvalue)
    assert result.cohens_dz == math.inf
    assert result.needed_n is None
    assert result.verdict == "b_wins"


@given(pairs)
@settings(max_examples=40, deadline=None)
def test_p_values_are_probabilities_and_the_interval_is_ordered(
    values: list[tuple[float, float]],
) -> None:
    a, b = zip(*values, strict=True)
    result = paired_comparison(a, b, resamples=50)
    for p in (result.t_p_value, result.wilcoxon_p_value):
        assert 0.0 <= p <= 1.0
    if result.mcnemar is not None:
        assert 0.0 <= result.mcnemar.p_value <= 1.0
    assert result.ci[0] <= result.ci[1]
    assert result.verdict in ("b_wins", "a_wins", "below_min_effect", "no_difference")


@given(pairs)
@settings(max_examples=40, deadline=None)
def test_swapping_a_and_b_mirrors_the_result(values: list[tuple[float, float]]) -> None:
    a, b = zip(*values, strict=True)
    forward = paired_comparison(a, b, resamples=50, seed=3)
    backward = paired_comparison(b, a, resamples=50, seed=3)
    assert backward.mean_difference == pytest.approx(-forward.mean_difference, abs=1e-12)
    assert backward.t_statistic == pytest.approx(-forward.t_statistic, rel=1e-9, abs=1e-9)
    assert backward.t_p_value == pytest.approx(forward.t_p_value, rel=1e-9, abs=1e-12)
    assert backward.wilcoxon_p_value == pytest.approx(forward.wilcoxon_p_value, rel=1e-9)
    assert backward.ci[0] == pytest.approx(-forward.ci[1], abs=1e-12)
    assert backward.ci[1] == pytest.approx(-forward.ci[0], abs=1e-12)
    mirrored = {"b_wins": "a_wins", "a_wins": "b_wins"}
    assert backward.verdict == mirrored.get(forward.verdict, forward.verdict)


@given(score_pairs, st.floats(min_value=-3.0, max_value=3.0))
@settings(max_examples=30, deadline=None)
def test_shifting_both_sides_changes_only_the_means(
    values: list[tuple[float, float]], shift: float
) -> None:
    a, b = (np.array(side) for side in zip(*values, strict=True))
    base = paired_comparison(a, b, scale=(-5.0, 5.0), binary=False, resamples=50)
    moved = paired_comparison(a + shift, b + shift, scale=(-5.0, 5.0), binary=False, resamples=50)
    assert moved.mean_a == pytest.approx(base.mean_a + shift)
    assert moved.mean_difference == pytest.approx(base.mean_difference, abs=1e-9)
    assert moved.t_p_value == pytest.approx(base.t_p_value, abs=1e-6)
    assert moved.verdict == base.verdict
