"""Agreement statistics against sklearn, scipy, statsmodels and the `krippendorff` package."""

from __future__ import annotations

import math
import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, cohen_kappa_score
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from statsmodels.stats.proportion import proportion_confint

from liveeval.stats.agreement import (
    Level,
    cohen_kappa,
    confusion_matrix,
    exact_agreement,
    flip_rate,
    krippendorff_alpha,
    length_bias,
    round_to_levels,
    spearman,
    within_one_agreement,
)

LIKERT = (1, 2, 3, 4, 5)
WEIGHTS = [None, "linear", "quadratic"]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the worked example:
# 3 observers, 12 units, missing values. Published alphas: nominal 0.743, ordinal 0.815
# (with the fourth row of the package's docstring example), interval 0.849.
KRIPPENDORFF_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
    [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
]


def likert_pair(seed: int, n: int = 200, used: tuple[int, ...] = LIKERT) -> tuple[list[int], ...]:
    """Two correlated raters on 1-5 (a judge that is a noisy copy of a person)."""
    rng = np.random.default_rng(seed)
    human = rng.choice(used, size=n)
    noise = rng.choice([-1, 0, 0, 0, 1, 2], size=n)
    judge = np.clip(human + noise, min(used), max(used))
    return judge.tolist(), human.tolist()


def rating_matrix(seed: int, raters: int, items: int, missing: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, size=items)
    data = np.clip(truth + rng.integers(-1, 2, size=(raters, items)), 1, 5).astype(float)
    data[rng.random((raters, items)) < missing] = np.nan
    return data


# rounding


def test_round_to_levels_goes_to_the_nearest_level_and_halfway_up() -> None:
    got = round_to_levels([1.2, 1.5, 2.5, 3.49, 4.5, 0.0, 9.0], LIKERT)
    assert got.tolist() == [1, 2, 3, 3, 5, 1, 5]


def test_round_to_levels_works_on_an_uneven_scale() -> None:
    assert round_to_levels([0.2, 0.25, 0.6, 0.9], [0, 0.5, 1]).tolist() == [0, 0.5, 0.5, 1]


def test_levels_must_ascend() -> None:
    with pytest.raises(ValueError, match="ascending"):
        round_to_levels([1], [2, 1])


# exact, within one, confusion


@pytest.mark.parametrize("seed", range(4))
def test_exact_agreement_is_sklearn_accuracy(seed: int) -> None:
    judge, human = likert_pair(seed)
    assert exact_agreement(judge, human).value == pytest.approx(accuracy_score(human, judge))


def test_within_one_counts_neighbouring_levels_as_agreement() -> None:
    judge = [1, 2, 3, 5, 5, 1]
    human = [1, 3, 5, 4, 1, 2]
    # distances 0, 1, 2, 1, 4, 1
    assert within_one_agreement(judge, human, LIKERT).value == pytest.approx(4 / 6)


def test_within_one_is_in_levels_not_in_units() -> None:
    # on a 0 / 0.5 / 1 scale, 0 and 1 are two levels apart
    assert within_one_agreement([0, 0], [0.5, 1], [0, 0.5, 1]).value == 0.5


@pytest.mark.parametrize("seed", range(4))
def test_confusion_matrix_matches_sklearn_with_unused_levels(seed: int) -> None:
    judge, human = likert_pair(seed, used=(2, 3, 4))
    expected = sk_confusion_matrix(judge, human, labels=list(LIKERT))
    got = confusion_matrix(judge, human, LIKERT)
    np.testing.assert_array_equal(got, expected)
    assert got[0].sum() == 0 and got[:, 0].sum() == 0  # level 1: nobody used it, still there


def test_a_score_that_is_not_a_level_is_refused_with_its_position() -> None:
    with pytest.raises(ValueError, match=r"item 1 has 3\.5"):
        confusion_matrix([1, 3.5], [1, 2], LIKERT)


def test_raters_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 and 2 items"):
        exact_agreement([1, 2, 3], [1, 2])


def test_nan_scores_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        exact_agreement([1, math.nan], [1, 2])


def test_no_items_gives_nan_with_a_reason() -> None:
    for estimate in (
        exact_agreement([], []),
        within_one_agreement([], [], LIKERT),
        cohen_kappa([], [], LIKERT, "quadratic"),
    ):
        assert math.isnan(estimate.value)
        assert estimate.reason == "no items"
    assert confusion_matrix([], [], LIKERT).sum() == 0


# Cohen's kappa


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_matches_sklearn(seed: int, weights: str | None) -> None:
    judge, human = likert_pair(seed)
    expected = cohen_kappa_score(judge, human, labels=list(LIKERT), weights=weights)
    assert cohen_kappa(judge, human, LIKERT, weights).value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_cohen_kappa_counts_levels_nobody_used(weights: str | None) -> None:
    judge, human = likert_pair(7, used=(1, 2, 4, 5))
    judge = [4 if j == 3 else j for j in judge]
    expected = cohen_kappa_score(judge, human, labels=list(LIKERT), weights=weights)
    only_used = cohen_kappa_score(judge, human, labels=[1, 2, 4, 5], weights=weights)
    got = cohen_kappa(judge, human, LIKERT, weights).value
    assert got == pytest.approx(expected, abs=1e-12)
    if weights is not None:
        # an unused middle level moves 2 and 4 two steps apart: the weights change
        assert got != pytest.approx(only_used)


def test_cohen_kappa_on_a_binary_scale_matches_sklearn() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, 80)
    b = np.where(rng.random(80) < 0.8, a, 1 - a)
    expected = cohen_kappa_score(a, b, labels=[0, 1])
    assert cohen_kappa(a, b, [0, 1]).value == pytest.approx(expected)


def test_cohen_kappa_is_nan_when_both_gave_one_and_the_same_level() -> None:
    with pytest.warns(UndefinedMetricWarning):
        reference = cohen_kappa_score(
            [3, 3, 3], [3, 3, 3], labels=list(LIKERT), weights="quadratic"
        )
    got = cohen_kappa([3, 3, 3], [3, 3, 3], LIKERT, "quadratic")
    assert math.isnan(reference) and math.isnan(got.value)
    assert got.reason is not None and "same level" in got.reason


def test_cohen_kappa_of_two_constant_raters_on_different_levels_is_zero_as_sklearn() -> None:
    reference = cohen_kappa_score([3, 3], [4, 4], labels=list(LIKERT), weights="quadratic")
    assert cohen_kappa([3, 3], [4, 4], LIKERT, "quadratic").value == reference == 0.0


def test_cohen_kappa_refuses_unknown_weights() -> None:
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1], [1], LIKERT, "cubic")


likert_lists = st.lists(st.tuples(st.sampled_from(LIKERT), st.sampled_from(LIKERT)), min_size=1)


@given(likert_lists, st.sampled_from(WEIGHTS))
@settings(max_examples=60, deadline=None)
def test_cohen_kappa_is_symmetric_bounded_and_matches_sklearn(
    pairs: list[tuple[int, int]], weights: str | None
) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    forward = cohen_kappa(a, b, LIKERT, weights)
    backward = cohen_kappa(b, a, LIKERT, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        expected = cohen_kappa_score(a, b, labels=list(LIKERT), weights=weights)
    if math.isnan(expected):
        assert math.isnan(forward.value) and forward.reason
        return
    assert forward.value == pytest.approx(expected, abs=1e-9)
    assert forward.value == pytest.approx(backward.value, abs=1e-12)
    assert -1.0 - 1e-12 <= forward.value <= 1.0 + 1e-12


# Spearman


@pytest.mark.parametrize("seed", range(5))
def test_spearman_matches_scipy_with_ties(seed: int) -> None:
    judge, human = likert_pair(seed, n=60)  # five levels over 60 items: many ties
    expected = spearmanr(judge, human)
    got = spearman(judge, human)
    assert (got.rho, got.p_value) == pytest.approx((expected.statistic, expected.pvalue))
    assert got.n == 60 and got.reason is None


def test_spearman_of_a_constant_input_is_nan_as_scipy_without_a_warning() -> None:
    with pytest.warns(Warning):
        reference = spearmanr([1, 1, 1], [1, 2, 3])
    assert math.isnan(reference.statistic)
    got = spearman([1, 1, 1], [1, 2, 3])
    assert math.isnan(got.rho) and math.isnan(got.p_value)
    assert got.reason == "one of the two is constant"


def test_spearman_of_two_items_has_rho_but_no_p_value_as_scipy() -> None:
    reference = spearmanr([1, 2], [2, 1])
    got = spearman([1, 2], [2, 1])
    assert got.rho == pytest.approx(reference.statistic) == pytest.approx(-1.0)
    assert math.isnan(reference.pvalue) and math.isnan(got.p_value) and got.reason


@pytest.mark.parametrize("n", [0, 1])
def test_spearman_of_fewer_than_two_items_is_nan(n: int) -> None:
    got = spearman([1.0] * n, [2.0] * n)
    assert math.isnan(got.rho) and got.reason == "needs at least two items"


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 500)), min_size=3, max_size=40))
@settings(max_examples=50, deadline=None)
def test_spearman_p_value_is_a_probability_and_rho_is_symmetric(
    pairs: list[tuple[int, int]],
) -> None:
    x, y = [p[0] for p in pairs], [p[1] for p in pairs]
    got, back = spearman(x, y), spearman(y, x)
    if got.reason:
        assert math.isnan(got.rho)
        return
    assert 0.0 <= got.p_value <= 1.0
    assert got.rho == pytest.approx(back.rho)


def test_length_bias_compares_judge_and_human_correlation_with_length() -> None:
    lengths = [100, 200, 300, 400, 500, 600]
    judge = [1, 2, 3, 4, 5, 5]
    human = [3, 1, 4, 1, 5, 2]
    bias = length_bias(judge, human, lengths)
    assert bias.judge.rho == pytest.approx(spearmanr(judge, lengths).statistic)
    assert bias.human.rho == pytest.approx(spearmanr(human, lengths).statistic)
    assert bias.difference == pytest.approx(bias.judge.rho - bias.human.rho)
    assert bias.difference > 0.5


# Krippendorff's alpha


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_krippendorff_alpha_reproduces_the_published_example(level: str, published: float) -> None:
    got = krippendorff_alpha(KRIPPENDORFF_EXAMPLE, level)
    assert round(got.value, 3) == published


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize(
    ("seed", "raters", "items", "missing"),
    [(0, 2, 50, 0.0), (1, 3, 80, 0.2), (2, 8, 120, 0.4), (3, 5, 10, 0.5), (4, 12, 300, 0.1)],
)
def test_krippendorff_alpha_matches_the_package(
    level: Level, seed: int, raters: int, items: int, missing: float
) -> None:
    data = rating_matrix(seed, raters, items, missing)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    got = krippendorff_alpha(data, level)
    assert got.value == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_with_a_domain_matches_the_package(level: Level) -> None:
    data = rating_matrix(9, 4, 60, 0.2)
    data[data == 1] = 2  # level 1 unused
    expected = krippendorff.alpha(data, value_domain=LIKERT, level_of_measurement=level)
    got = krippendorff_alpha(data, level, domain=LIKERT)
    assert got.value == pytest.approx(expected, abs=1e-10)


def test_krippendorff_alpha_on_fractional_values_matches_the_package() -> None:
    data = rating_matrix(5, 3, 40, 0.1)
    data[0] = np.where(np.isnan(data[0]), np.nan, data[0] - 0.5)  # a rater off by half a level
    for level in ("ordinal", "interval"):
        expected = krippendorff.alpha(data, level_of_measurement=level)
        assert krippendorff_alpha(data, level).value == pytest.approx(expected, abs=1e-10)


def test_krippendorff_alpha_is_one_when_everyone_agrees() -> None:
    data: list[list[float]] = [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, np.nan, 4, 5]]
    expected = krippendorff.alpha(data, level_of_measurement="ordinal")
    assert krippendorff_alpha(data, "ordinal").value == pytest.approx(expected) == 1.0


def test_krippendorff_alpha_of_a_single_value_is_nan_where_the_package_refuses() -> None:
    data: list[list[float]] = [[3, 3, 3], [3, 3, np.nan]]
    with pytest.raises(ValueError, match="more than one value"):
        krippendorff.alpha(data, level_of_measurement="ordinal")
    got = krippendorff_alpha(data, "ordinal")
    assert math.isnan(got.value) and got.reason is not None and "distinct" in got.reason


def test_krippendorff_alpha_with_no_item_rated_twice_is_nan_where_the_package_refuses() -> None:
    data: list[list[float]] = [[1, np.nan, 3], [np.nan, 2, np.nan]]
    with pytest.raises(ValueError, match="at least two coders"):
        krippendorff.alpha(data, level_of_measurement="ordinal")
    got = krippendorff_alpha(data, "ordinal")
    assert math.isnan(got.value) and got.reason == "no item has two or more ratings"


def test_krippendorff_alpha_when_all_pairable_ratings_agree_on_one_value_is_nan() -> None:
    # the package divides 0 by 0 here (a RuntimeWarning and NaN); ours says why
    data: list[list[float]] = [[3, 3, 5], [3, 3, np.nan]]
    with pytest.warns(RuntimeWarning):
        reference = krippendorff.alpha(data, level_of_measurement="interval")
    got = krippendorff_alpha(data, "interval")
    assert math.isnan(reference) and math.isnan(got.value) and got.reason


def test_krippendorff_alpha_refuses_values_outside_the_domain() -> None:
    with pytest.raises(ValueError, match="outside the domain"):
        krippendorff_alpha([[1, 6], [1, 2]], "ordinal", domain=LIKERT)


@given(st.integers(0, 10_000), st.sampled_from(["nominal", "ordinal", "interval"]))
@settings(max_examples=25, deadline=None)
def test_krippendorff_alpha_ignores_the_order_of_raters_and_items(seed: int, level: str) -> None:
    data = rating_matrix(seed, 4, 30, 0.3)
    rng = np.random.default_rng(seed)
    shuffled = data[rng.permutation(4)][:, rng.permutation(30)]
    first = krippendorff_alpha(data, level)
    second = krippendorff_alpha(shuffled, level)
    if first.reason:
        assert second.reason == first.reason
    else:
        assert first.value == pytest.approx(second.value, abs=1e-12)
        assert first.value <= 1.0 + 1e-12


# position bias


def test_flip_rate_counts_pairs_that_are_not_mirrored() -> None:
    pairs = [
        ("A", "B"),  # consistent
        ("B", "A"),  # consistent
        ("tie", "tie"),  # consistent
        ("A", "A"),  # flip: first position won both times
        ("A", "A"),
        ("B", "B"),  # flip: second position won both times
        ("A", "tie"),  # flip with a tie
        ("tie", "B"),
    ]
    got = flip_rate(pairs)
    assert (got.flips, got.n, got.first_position, got.second_position) == (5, 8, 2, 1)
    assert got.rate == 5 / 8
    expected = proportion_confint(5, 8, alpha=0.05, method="wilson")
    assert got.interval == pytest.approx(expected, abs=1e-12)


def test_flip_rate_of_no_pairs_is_nan_with_the_whole_interval() -> None:
    got = flip_rate([])
    assert math.isnan(got.rate) and got.interval == (0.0, 1.0) and got.reason == "no pairs"


def test_flip_rate_refuses_an_unknown_verdict_naming_the_pair() -> None:
    with pytest.raises(ValueError, match="pair 1"):
        flip_rate([("A", "B"), ("A", "C")])
