"""Sequential detection: the CUSUM path, its false-alarm guarantee measured in simulation,
and the empirical-Bayes priors against reference implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import beta as beta_dist
from scipy.stats import binom, entropy
from statsmodels.stats.meta_analysis import combine_effects

from liveeval.stats.sequential import (
    BetaPrior,
    bernoulli_kl,
    bernoulli_llr,
    beta_prior,
    cusum_path,
    expected_delay,
    gaussian_llr,
    normal_prior,
    rate_bound,
    threshold_for,
)


@given(st.lists(st.floats(-5, 5, allow_nan=False), max_size=60), st.floats(0.1, 10))
def test_the_vectorized_path_is_the_cusum_recursion(increments: list[float], h: float) -> None:
    s, expected = 0.0, []
    for z in increments:
        s = max(0.0, s + z)
        expected.append(s)
    path = cusum_path(increments, h)
    assert np.allclose(path.values, expected, atol=1e-9)
    if expected and abs(expected[-1] - h) > 1e-9:  # a sum's last bits may differ at h
        assert (path.crossed is not None) == (expected[-1] > h)


def test_the_path_says_where_the_run_began_and_when_it_crossed() -> None:
    path = cusum_path([1.0, -3.0, 0.5, 2.0, 2.0, 0.1], threshold=4.0)
    assert path.run_start == 2  # the statistic was zero after index 1
    assert path.crossed == 4 and path.last == pytest.approx(4.6)


def test_bernoulli_kl_matches_scipy_entropy() -> None:
    for p, q in [(0.1, 0.05), (0.5, 0.4), (0.02, 0.2)]:
        assert bernoulli_kl(p, q) == pytest.approx(entropy([p, 1 - p], [q, 1 - q]))


def test_batch_log_likelihood_ratios_are_the_sums_of_single_ones() -> None:
    assert bernoulli_llr(3, 10, 0.05, 0.1) == pytest.approx(
        3 * math.log(0.1 / 0.05) + 7 * math.log(0.9 / 0.95)
    )
    x = np.array([3.0, 4.0, 5.0])
    singles = sum(gaussian_llr(v, 1, 4.0, 3.7, 0.9) for v in x)
    assert gaussian_llr(float(x.sum()), 3, 4.0, 3.7, 0.9) == pytest.approx(singles)


def _run_lengths(p0: float, p1: float, h: float, runs: int, cap: int, seed: int) -> np.ndarray:
    """Observations until the first alarm of Bernoulli CUSUMs on in-control data."""
    rng = np.random.default_rng(seed)
    up, down = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    out = np.full(runs, cap)
    s = np.zeros(runs)
    alive = np.ones(runs, dtype=bool)
    for t in range(cap):
        x = rng.random(runs) < p0
        s = np.maximum(0.0, s + np.where(x, up, down))
        fired = alive & (s > h)
        out[fired] = t + 1
        alive &= ~fired
        if not alive.any():
            break
    return out


def test_in_control_run_lengths_keep_lordens_bound() -> None:
    # h = log(500): the average run before a false alarm must be at least 500 observations.
    h = threshold_for(500)
    lengths = _run_lengths(0.05, 0.10, h, runs=400, cap=20_000, seed=1)
    mean, se = lengths.mean(), lengths.std(ddof=1) / math.sqrt(lengths.size)
    assert mean - 3 * se >= 500


def test_false_alarms_over_many_streams_stay_within_the_budget() -> None:
    # 300 streams of 2,000 looks each at ARL0 = 20,000: at most 600,000 / 20,000 = 30
    # alarms expected; the count is bounded by a binomial tail of that rate.
    h = threshold_for(20_000)
    lengths = _run_lengths(0.05, 0.10, h, runs=300, cap=2000, seed=2)
    alarms = int((lengths < 2000).sum())
    assert alarms <= binom.ppf(0.999, 300, 2000 / 20_000)


def test_a_real_change_is_caught_near_h_over_kl() -> None:
    h = threshold_for(10_000)
    rng = np.random.default_rng(3)
    up, down = math.log(0.10 / 0.05), math.log(0.90 / 0.95)
    delays = []
    for _ in range(200):
        s, t = 0.0, 0
        while s <= h:
            t += 1
            s = max(0.0, s + (up if rng.random() < 0.10 else down))
        delays.append(t)
    bound = expected_delay(h, bernoulli_kl(0.10, 0.05))
    # h / KL is the optimal detector's expected delay at this false-alarm rate (Lorden).
    assert 0.8 * bound <= np.mean(delays) <= 1.5 * bound


def test_beta_prior_recovers_the_spread_of_slices() -> None:
    rng = np.random.default_rng(4)
    rates = beta_dist.rvs(10, 190, size=40, random_state=rng)  # strength 200, mean 5%
    counts = [(int(rng.binomial(5000, p)), 5000) for p in rates]
    prior = beta_prior(counts)
    assert prior.mean == pytest.approx(0.05, abs=0.005)
    assert 100 < prior.a + prior.b < 400


def test_identical_slices_give_a_strong_prior_and_one_slice_a_moderate_one() -> None:
    same = beta_prior([(50, 1000)] * 10)
    assert same.a + same.b == pytest.approx(2000.0)
    alone = beta_prior([(50, 1000)])
    assert alone.a + alone.b == pytest.approx(100.0)
    thin = beta_prior([(1, 20)])  # never surer than the data behind it
    assert thin.a + thin.b == pytest.approx(20.0)
    nothing = beta_prior([])
    assert nothing.a + nothing.b == pytest.approx(2.0)


def test_the_rate_bound_is_the_posterior_quantile() -> None:
    prior = BetaPrior(2.0, 38.0)
    assert rate_bound(5, 100, prior, 0.99, upper=True) == pytest.approx(
        beta_dist.ppf(0.99, 7.0, 133.0)
    )
    assert rate_bound(5, 100, prior, 0.99, upper=False) == pytest.approx(
        beta_dist.ppf(0.01, 7.0, 133.0)
    )


def test_the_between_slice_variance_is_dersimonian_lairds() -> None:
    rng = np.random.default_rng(5)
    means = 4.0 + rng.normal(0, 0.3, 12)
    ns = rng.integers(50, 500, 12)
    variances = rng.uniform(0.8, 1.2, 12)
    slices = [(int(n), float(m), float(v)) for n, m, v in zip(ns, means, variances, strict=True)]
    prior = normal_prior(slices, min_sd=0.0)
    reference = combine_effects(means, variances / ns, method_re="dl")
    weights = ns / variances
    assert prior is not None
    assert prior.var == pytest.approx(reference.tau2 + 1 / weights.sum())
    assert prior.mean == pytest.approx(np.sum(weights * means) / weights.sum())
