from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from liveeval.routing.posterior import (
    ChangeDetection,
    Evidence,
    dispersion_scale,
    variance_ratio,
)
from liveeval.routing.slices import covers, parent_of, slice_chain


def test_slice_chains_run_from_the_task_to_the_finest_slice() -> None:
    context = {"language": "de", "segment": "pro"}
    assert slice_chain(context, ["language", "segment"]) == [
        "*",
        "language=de",
        "language=de,segment=pro",
    ]
    assert slice_chain({"segment": "pro"}, ["language", "segment"]) == ["*"]
    assert parent_of("language=de,segment=pro") == "language=de"
    assert parent_of("language=de") == "*"
    assert parent_of("*") is None
    assert covers("language=de", "language=de,segment=pro")
    assert not covers("language=d", "language=de")


def test_binary_rewards_give_the_beta_bernoulli_posterior_and_its_scipy_interval() -> None:
    evidence = Evidence(arms=("a",))
    rewards = [1.0] * 30 + [0.0] * 12
    for r in rewards:
        evidence.observe("a", ["*"], r)
    posterior = evidence.posteriors("*", prior_strength=4.0)["a"]
    # Uniform prior, 30 successes, 12 failures; the dispersion scale of 0/1 rewards is ~1.
    scale = dispersion_scale(42.0, 30.0, 30.0)
    assert scale == pytest.approx(1.0)
    assert (posterior.a, posterior.b) == pytest.approx((31.0, 13.0))
    low, high = posterior.interval(0.9)
    assert (low, high) == pytest.approx(stats.beta.interval(0.9, 31.0, 13.0), rel=1e-9)


def test_steady_scores_count_for_more_than_coin_flips() -> None:
    rng = np.random.default_rng(1)
    scores = rng.normal(0.7, 0.05, size=400).clip(0, 1)
    scale = dispersion_scale(400.0, float(scores.sum()), float(scores @ scores))
    coin = 0.7 * 0.3
    assert scale == pytest.approx(coin / (coin * 20 / 420 + scores.var() * 400 / 420), rel=0.05)
    assert scale > 10


def test_forgetting_bounds_the_evidence_an_arm_keeps() -> None:
    evidence = Evidence(arms=("a",), decay=0.99)
    for _ in range(2000):
        evidence.observe("a", ["*"], 1.0)
    cell = evidence.cells["*"]["a"]
    assert cell.weight == pytest.approx(100.0, rel=1e-6)
    assert cell.moments.n == 2000


def test_a_change_restarts_an_arm_from_its_recent_outcomes() -> None:
    rng = random.Random(3)
    evidence = Evidence(arms=("a",), change=ChangeDetection())
    for _ in range(3000):
        evidence.observe("a", ["*"], float(rng.random() < 0.8))
    before = evidence.posteriors("*", 4.0)["a"]
    assert before.changes == 0
    assert before.mean == pytest.approx(0.8, abs=0.03)
    for _ in range(60):
        evidence.observe("a", ["*"], float(rng.random() < 0.2))
    after = evidence.posteriors("*", 4.0)["a"]
    assert after.changes == 1
    assert after.mean < 0.45  # without the reset: (0.8 * 3000 + 0.2 * 60) / 3060 = 0.79


def test_a_thin_slice_borrows_the_arms_differences_from_the_task() -> None:
    evidence = Evidence(arms=("good", "bad"))
    rng = random.Random(0)
    for _ in range(2000):
        evidence.observe("good", ["*", "lang=en"], float(rng.random() < 0.8))
        evidence.observe("bad", ["*", "lang=en"], float(rng.random() < 0.4))
    evidence.observe("good", ["*", "lang=fi"], 0.0)
    fresh = evidence.posteriors("lang=fi", prior_strength=10.0)
    assert fresh["good"].mean > fresh["bad"].mean
    unseen = evidence.posteriors("lang=xx", prior_strength=10.0)
    assert unseen["good"].mean == pytest.approx(0.8, abs=0.03)
    assert unseen["bad"].mean == pytest.approx(0.4, abs=0.03)
    assert unseen["good"].a + unseen["good"].b == pytest.approx(10.0)


def test_an_unknown_arm_or_reward_out_of_range_is_an_error() -> None:
    evidence = Evidence(arms=("a",))
    with pytest.raises(ValueError, match="unknown arm 'b'"):
        evidence.observe("b", ["*"], 1.0)
    with pytest.raises(ValueError, match=r"reward must be in \[0, 1\]"):
        evidence.observe("a", ["*"], 1.5)


def test_the_variance_ratio_pools_each_arms_spread_around_its_own_mean() -> None:
    rng = np.random.default_rng(4)
    evidence = Evidence(arms=("a", "b"))
    samples = {"a": rng.beta(8, 2, 300), "b": rng.beta(3, 3, 500)}
    for arm, values in samples.items():
        for value in values:
            evidence.observe(arm, ["*"], float(value))
    squares = sum(((v - v.mean()) ** 2).sum() for v in samples.values())
    coins = sum(v.size * v.mean() * (1 - v.mean()) for v in samples.values())
    ratio = variance_ratio(evidence.cells["*"].values())
    assert ratio == pytest.approx(squares / coins)
    # Beta(a, b) rewards vary 1 / (a + b + 1) as much as coins of the same mean.
    assert ratio == pytest.approx(
        (1 / 11 * 300 * 0.8 * 0.2 + 1 / 7 * 500 * 0.25) / (48 + 125), rel=0.15
    )
