import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from liveeval.stats.categorical_drift import (
    MISSING,
    RARE,
    categorical_drift,
    category_counts,
    chi_squared,
    jensen_shannon_distance,
    pool_rare_categories,
    psi_categorical,
)

REFERENCE = {"en": 500, "de": 40, "fr": 120, "es": 90}
CURRENT = {"en": 380, "de": 190, "fr": 100, "es": 80, "ja": 30}
counts = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]), st.integers(1, 500), min_size=1
)


def _table(reference: dict[str, int], current: dict[str, int]) -> np.ndarray:
    keys = sorted(set(reference) | set(current))
    return np.array([[side.get(key, 0) for key in keys] for side in (reference, current)])


def test_chi_squared_is_scipys_test_of_homogeneity_with_a_new_category():
    statistic, p_value = chi_squared(REFERENCE, CURRENT)
    expected = stats.chi2_contingency(_table(REFERENCE, CURRENT), correction=False)
    assert statistic == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi_squared_on_two_categories_has_no_continuity_correction():
    reference, current = {"yes": 30, "no": 70}, {"yes": 45, "no": 55}
    statistic, p_value = chi_squared(reference, current)
    expected = stats.chi2_contingency(_table(reference, current), correction=False)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue))


def test_chi_squared_of_one_category_finds_nothing():
    assert chi_squared({"en": 10}, {"en": 99}) == (0.0, 1.0)


def test_chi_squared_refuses_an_empty_side():
    with pytest.raises(ValueError, match="both sides"):
        chi_squared({"en": 10}, {"en": 0})


def test_chi_squared_false_alarm_rate_is_near_alpha():
    rng = np.random.default_rng(0)
    shares = np.array([0.4, 0.2, 0.15, 0.1, 0.08, 0.05, 0.02])
    keys = [str(i) for i in range(shares.size)]
    alarms = 0
    for _ in range(400):
        ref, cur = rng.multinomial(2000, shares), rng.multinomial(1500, shares)
        _, p_value = chi_squared(
            dict(zip(keys, ref, strict=True)), dict(zip(keys, cur, strict=True))
        )
        alarms += p_value < 0.05
    assert 0.02 <= alarms / 400 <= 0.08


def test_jensen_shannon_distance_matches_scipy_natural_log():
    expected = jensenshannon(*_table(REFERENCE, CURRENT))  # scipy normalises the counts
    assert jensen_shannon_distance(REFERENCE, CURRENT) == pytest.approx(expected)


def test_jensen_shannon_distance_of_disjoint_mixes_is_root_ln_2():
    assert jensen_shannon_distance({"a": 5}, {"b": 7}) == pytest.approx(math.sqrt(math.log(2)))


def test_psi_categorical_matches_the_textbook_formula():
    reference, current = {"a": 50, "b": 30, "c": 20}, {"a": 40, "b": 30, "c": 20, "d": 10}
    ref = {"a": 0.5, "b": 0.3, "c": 0.2, "d": 1e-4}
    cur = {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}
    expected = sum((cur[k] - ref[k]) * math.log(cur[k] / ref[k]) for k in ref)
    assert psi_categorical(reference, current) == pytest.approx(expected)


def test_a_new_category_of_five_percent_alone_pushes_psi_past_the_alert():
    reference = {"en": 950, "de": 50}
    current = {"en": 900, "de": 50, "sv": 50}
    assert psi_categorical(reference, current) > 0.25


def test_category_counts_of_strings_name_missing_values():
    values = np.array(["en", "de", None, "en", float("nan"), "en"], dtype=object)
    assert category_counts(values) == {"en": 3, "de": 1, MISSING: 2}


def test_category_counts_of_numbers_and_fixed_width_strings():
    assert category_counts(np.array([7, 3, 7])) == {"3": 1, "7": 2}
    assert category_counts(np.array([1.5, np.nan, 1.5])) == {"1.5": 2, MISSING: 1}
    assert category_counts(np.array(["b", "a", "b"])) == {"a": 1, "b": 2}
    assert category_counts(["x", None, "x"]) == {"x": 2, MISSING: 1}


def test_category_counts_merge_a_number_and_its_string():
    assert category_counts(np.array([7, "7"], dtype=object)) == {"7": 2}


def test_pool_rare_categories_merges_those_expected_under_five_times():
    reference = {"en": 300, "de": 200, "xx": 2, "yy": 1}
    current = {"en": 280, "de": 210, "zz": 4}
    pooled_ref, pooled_cur = pool_rare_categories(reference, current)
    assert pooled_ref == {"en": 300, "de": 200, RARE: 3}
    assert pooled_cur == {"en": 280, "de": 210, RARE: 4}


def test_categorical_drift_reports_shares_and_new_and_vanished_categories():
    reference = {"en": 600, "de": 300, "sv": 100}
    current = {"en": 500, "de": 300, "ja": 150, "ko": 50}
    drift = categorical_drift(reference, current)
    assert drift.new_categories == ("ja", "ko")
    assert drift.vanished_categories == ("sv",)
    assert drift.reference_shares == {"en": 0.6, "de": 0.3, "sv": 0.1, "ja": 0.0, "ko": 0.0}
    assert drift.current_shares["ja"] == pytest.approx(0.15)
    assert (drift.n_reference, drift.n_current) == (1000, 1000)
    assert drift.js_distance == pytest.approx(jensen_shannon_distance(reference, current))
    assert drift.psi == pytest.approx(psi_categorical(reference, current))
    assert (drift.chi2, drift.chi2_p_value) == chi_squared(reference, current)


@settings(max_examples=80, deadline=None)
@given(counts, counts)
def test_categorical_statistics_are_bounded_and_symmetric(reference, current):
    statistic, p_value = chi_squared(reference, current)
    assert statistic >= 0 and 0.0 <= p_value <= 1.0
    assert chi_squared(current, reference) == pytest.approx((statistic, p_value))
    js = jensen_shannon_distance(reference, current)
    assert 0.0 <= js <= math.sqrt(math.log(2)) + 1e-12
    assert jensen_shannon_distance(current, reference) == pytest.approx(js)
    assert psi_categorical(reference, current) >= 0.0


@settings(max_examples=50, deadline=None)
@given(counts, st.integers(2, 50))
def test_categorical_statistics_see_no_drift_in_a_scaled_copy(reference, factor):
    current = {key: count * factor for key, count in reference.items()}
    drift = categorical_drift(reference, current)
    assert drift.chi2 == pytest.approx(0.0, abs=1e-9)
    assert drift.js_distance == pytest.approx(0.0, abs=1e-7)
    assert drift.psi == pytest.approx(0.0, abs=1e-12)
