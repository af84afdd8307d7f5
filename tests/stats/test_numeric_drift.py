import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from liveeval.stats.numeric_drift import (
    ks_2samp,
    numeric_drift,
    psi,
    quantile_bin_edges,
    sorted_quantiles,
    wasserstein_norm,
)

SIZES = [(5, 7), (40, 40), (100, 80), (500, 500), (1000, 999), (3000, 2000), (700, 9000)]
samples = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=60
)


def _pair(n_ref: int, n_cur: int, shift: float, ties: bool, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    reference, current = rng.normal(0, 1, n_ref), rng.normal(shift, 1, n_cur)
    if ties:  # few distinct values, as with token counts
        reference, current = np.round(reference * 3), np.round(current * 3)
    return reference, current


@pytest.mark.parametrize(("n_ref", "n_cur"), SIZES)
@pytest.mark.parametrize("shift", [0.0, 0.15])
@pytest.mark.parametrize("ties", [False, True])
def test_ks_2samp_matches_scipy_exact_sizes(n_ref, n_cur, shift, ties):
    reference, current = _pair(n_ref, n_cur, shift, ties, seed=n_ref + n_cur)
    statistic, p_value = ks_2samp(reference, current)
    expected = stats.ks_2samp(reference, current)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("n_ref", "n_cur"), [(20_000, 15_000), (10_001, 500), (50_000, 50_000)])
@pytest.mark.parametrize("ties", [False, True])
def test_ks_2samp_matches_scipy_asymptotic_sizes(n_ref, n_cur, ties):
    reference, current = _pair(n_ref, n_cur, 0.02, ties, seed=n_cur)
    statistic, p_value = ks_2samp(reference, current)
    expected = stats.ks_2samp(reference, current)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-12)


def test_ks_2samp_drops_nans_and_infinities():
    reference, current = _pair(200, 150, 0.3, False, seed=3)
    with_gaps = np.concatenate([current, [np.nan] * 10, [np.inf, -np.inf]])
    assert ks_2samp(reference, with_gaps) == ks_2samp(reference, current)


def test_ks_2samp_refuses_an_empty_side():
    with pytest.raises(ValueError, match="both sides"):
        ks_2samp(np.array([1.0, 2.0]), np.array([np.nan]))


@pytest.mark.parametrize(("n_ref", "n_cur"), SIZES)
@pytest.mark.parametrize("ties", [False, True])
def test_wasserstein_norm_matches_scipy_divided_by_reference_std(n_ref, n_cur, ties):
    reference, current = _pair(n_ref, n_cur, 0.4, ties, seed=n_ref)
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert wasserstein_norm(reference, current) == pytest.approx(expected, rel=1e-9)


def test_wasserstein_norm_floors_the_std_of_a_constant_reference():
    reference, current = np.full(50, 3.0), np.full(50, 3.5)
    assert wasserstein_norm(reference, current) == pytest.approx(0.5 / 0.001)


def _textbook_psi(reference: list[float], current: list[float], edges: list[float]) -> float:
    """PSI written out: count each side into (-inf, e1], (e1, e2], ..., (ek, inf)."""

    def shares(values: list[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for value in values:
            counts[sum(value > edge for edge in edges)] += 1
        return [max(count / len(values), 1e-4) for count in counts]

    ref, cur = shares(reference), shares(current)
    return sum((c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True))


def test_psi_matches_the_textbook_formula_on_a_tiny_example():
    reference = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    current = [1.0, 1.5, 2.0, 2.5, 3.0, 7.5]
    # quartile edges of the reference: 2.75, 4.5, 6.25
    assert quantile_bin_edges(np.array(reference), 4).tolist() == [2.75, 4.5, 6.25]
    expected = _textbook_psi(reference, current, [2.75, 4.5, 6.25])
    assert psi(np.array(reference), np.array(current), bins=4) == pytest.approx(expected)


def test_psi_gives_empty_bins_a_small_share_instead_of_infinity():
    reference = np.arange(100.0)
    current = np.full(20, 500.0)  # every current value above the top edge
    edges = quantile_bin_edges(reference, 10).tolist()
    value = psi(reference, current)
    assert math.isfinite(value)
    assert value == pytest.approx(_textbook_psi(reference.tolist(), current.tolist(), edges))


def test_psi_merges_repeated_edges_of_a_tied_reference():
    reference = np.array([0.0] * 70 + [1.0, 2.0, 3.0] * 10)
    current = np.array([0.0] * 40 + [1.0, 2.0, 3.0] * 20)
    edges = quantile_bin_edges(reference, 10)
    assert np.all(np.diff(edges) > 0)
    assert psi(reference, current) == pytest.approx(
        _textbook_psi(reference.tolist(), current.tolist(), edges.tolist())
    )


def test_psi_is_zero_for_identical_samples():
    values = np.random.default_rng(1).lognormal(5, 1, 5000)
    assert psi(values, values.copy()) == 0.0


def test_psi_grows_with_the_shift():
    rng = np.random.default_rng(2)
    reference = rng.normal(0, 1, 20_000)
    base = rng.normal(0, 1, 20_000)
    values = [psi(reference, base + shift) for shift in (0.0, 0.1, 0.3, 0.6, 1.0)]
    assert values == sorted(values)
    assert values[0] < 0.01 < 0.25 < values[-1]


def test_psi_is_roughly_symmetric():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 20_000), rng.normal(0.3, 1.2, 20_000)
    assert psi(a, b) == pytest.approx(psi(b, a), rel=0.25)


def test_sorted_quantiles_match_numpy():
    values = np.sort(np.random.default_rng(4).exponential(2.0, 1001))
    levels = np.array([0.0, 0.1, 0.333, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(sorted_quantiles(values, levels), np.quantile(values, levels))


def test_numeric_drift_agrees_with_each_statistic_and_drops_nans():
    reference, current = _pair(800, 600, 0.25, False, seed=5)
    current = np.concatenate([current, [np.nan, np.nan]])
    drift = numeric_drift(reference, current)
    assert (drift.ks_statistic, drift.ks_p_value) == ks_2samp(reference, current)
    assert drift.wasserstein_norm == pytest.approx(wasserstein_norm(reference, current))
    assert drift.psi == pytest.approx(psi(reference, current))
    assert drift.reference_median == pytest.approx(np.median(reference))
    assert drift.current_median == pytest.approx(np.nanmedian(current))
    assert drift.current_p90 == pytest.approx(np.nanquantile(current, 0.9))
    assert (drift.n_reference, drift.n_current) == (800, 600)


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_ks_is_symmetric_and_its_p_value_a_probability(reference, current):
    a, b = np.array(reference), np.array(current)
    statistic, p_value = ks_2samp(a, b)
    assert 0.0 <= statistic <= 1.0
    assert 0.0 <= p_value <= 1.0
    swapped = ks_2samp(b, a)
    assert swapped[0] == pytest.approx(statistic, abs=1e-12)
    assert swapped[1] == pytest.approx(p_value, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.integers(min_value=-1000, max_value=1000))
def test_drift_statistics_ignore_a_common_shift(reference, current, shift):
    a, b = np.round(np.array(reference)), np.round(np.array(current))
    moved = numeric_drift(a + shift, b + shift)
    still = numeric_drift(a, b)
    assert moved.ks_statistic == pytest.approx(still.ks_statistic, abs=1e-12)
    assert moved.psi == pytest.approx(still.psi, abs=1e-9)
    assert moved.wasserstein_norm == pytest.approx(still.wasserstein_norm, rel=1e-6, abs=1e-9)
    assert still.psi >= 0.0 and still.wasserstein_norm >= 0.0


@settings(max_examples=40, deadline=None)
@given(samples, samples, st.floats(min_value=0.01, max_value=100))
def test_wasserstein_norm_ignores_the_unit(reference, current, scale):
    a, b = np.array(reference), np.array(current)
    if np.std(a) * min(scale, 1.0) < 0.01:  # the std floor would bite
        return
    assert wasserstein_norm(a * scale, b * scale) == pytest.approx(wasserstein_norm(a, b), rel=1e-6)
