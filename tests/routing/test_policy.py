from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from liveeval.routing import guardrails
from liveeval.routing.learn import learn
from liveeval.routing.policy import (
    Kills,
    PolicyInputs,
    canary_difference,
    thompson_probabilities,
)
from liveeval.routing.posterior import Posterior
from liveeval.stats.means import Moments
from liveeval.stats.thompson import BetaArgmax

from .tasks import START, bernoulli_outcomes, task


def test_thompson_probabilities_match_the_exact_integral() -> None:
    a, b = Posterior(30, 20, 50, 50, None), Posterior(25, 25, 50, 50, None)
    # P(X > Y) for X ~ Beta(30, 20), Y ~ Beta(25, 25): integral of f_X(x) F_Y(x).
    exact, _ = integrate.quad(lambda x: stats.beta.pdf(x, 30, 20) * stats.beta.cdf(x, 25, 25), 0, 1)
    got = thompson_probabilities({"a": a, "b": b}, 200_000, BetaArgmax(0))
    assert got["a"] == pytest.approx(exact, abs=0.005)
    assert got["a"] + got["b"] == pytest.approx(1.0)


def test_a_killed_arm_gets_nothing_and_the_rest_keep_their_proportions() -> None:
    assert guardrails.kill({"a": 0.5, "b": 0.3, "c": 0.2}, {"a"}) == pytest.approx(
        {"a": 0.0, "b": 0.6, "c": 0.4}
    )
    with pytest.raises(ValueError, match="no live arm"):
        guardrails.kill({"a": 1.0}, {"a"})


def test_the_floor_lifts_low_arms_and_takes_from_the_others_pro_rata() -> None:
    got = guardrails.floor({"a": 0.9, "b": 0.1, "c": 0.0}, {"a": 0.05, "b": 0.05, "c": 0.05})
    assert got == pytest.approx({"a": 0.95 * 0.9, "b": 0.95 * 0.1, "c": 0.05})
    got = guardrails.floor({"a": 0.99, "b": 0.01, "c": 0.0}, {"a": 0.1, "b": 0.1, "c": 0.1})
    assert got == pytest.approx({"a": 0.8, "b": 0.1, "c": 0.1})


def test_conservative_mixing_keeps_the_expected_reward_at_control_minus_tolerance() -> None:
    means = {"control": 0.7, "risky": 0.5, "best": 0.72}
    shares = {"control": 0.1, "risky": 0.5, "best": 0.4}
    strict, weight = guardrails.conservative(shares, means, "control", 0.0)
    assert weight == 0.0  # the mix is linear: at no tolerance, all or nothing
    assert guardrails.expected(strict, means) == pytest.approx(0.7)
    loose, weight = guardrails.conservative(shares, means, "control", 0.02)
    assert 0 < weight < 1
    assert guardrails.expected(loose, means) == pytest.approx(0.68)
    kept, weight = guardrails.conservative(
        {"best": 1.0, "control": 0.0, "risky": 0.0}, means, "control", 0.0
    )
    assert weight == 1.0
    assert kept["best"] == 1.0


def test_learning_converges_to_the_best_arm_over_seeds() -> None:
    config = task({"a": "candidate", "b": "candidate", "c": "candidate"})
    shares = []
    for seed in range(20):
        outcomes = bernoulli_outcomes({"a": 0.5, "b": 0.6, "c": 0.4}, 400, seed)
        snapshot = learn(outcomes, config, policy_version=1, now=START, seed=seed)
        shares.append(snapshot.probabilities("*")["b"])
    assert sum(share > 0.9 for share in shares) >= 19


def test_the_exploration_floor_is_held_in_every_slice() -> None:
    config = task(
        {"a": "candidate", "b": "candidate", "c": "candidate"},
        min_share={"a": 0.02, "b": 0.02, "c": 0.05},
        slices=["language"],
    )
    outcomes = bernoulli_outcomes({"a": 0.9, "b": 0.1, "c": 0.1}, 500, 1, {"language": "en"})
    snapshot = learn(outcomes, config, policy_version=1, now=START)
    for key in ("*", "language=en"):
        probabilities = snapshot.probabilities(key)
        assert probabilities["b"] == pytest.approx(0.02)
        assert probabilities["c"] == pytest.approx(0.05)
        assert math.fsum(probabilities.values()) == pytest.approx(1.0)


def test_a_kill_switch_zeroes_an_arm_in_its_slice_and_all_inside_it() -> None:
    config = task(
        {"a": "candidate", "b": "candidate"}, slices=["language", "segment"], min_share=0.1
    )
    outcomes = bernoulli_outcomes(
        {"a": 0.3, "b": 0.9}, 200, 2, {"language": "de", "segment": "pro"}
    )
    kills = Kills(cells=frozenset({("b", "language=de")}))
    snapshot = learn(outcomes, config, policy_version=1, now=START, inputs=PolicyInputs(kills))
    assert snapshot.probabilities("language=de")["b"] == 0.0
    assert snapshot.probabilities("language=de,segment=pro")["b"] == 0.0
    assert snapshot.probabilities("*")["b"] > 0.5
    assert "killed: b" in snapshot.slices["language=de"].notes
    everywhere = learn(
        outcomes,
        config,
        policy_version=2,
        now=START,
        inputs=PolicyInputs(Kills(arms=frozenset({"b"}))),
    )
    assert all(decision.probabilities[1] == 0.0 for decision in everywhere.slices.values())


def test_a_kill_switch_for_an_unseen_slice_still_acts() -> None:
    config = task({"a": "candidate", "b": "candidate"}, slices=["language"])
    outcomes = bernoulli_outcomes({"a": 0.3, "b": 0.9}, 100, 2, {"language": "en"})
    kills = Kills(cells=frozenset({("b", "language=fr")}))
    snapshot = learn(outcomes, config, policy_version=1, now=START, inputs=PolicyInputs(kills))
    assert snapshot.probabilities("language=fr")["b"] == 0.0


def test_the_canary_cap_holds_until_the_bound_clears_then_lifts() -> None:
    config = task(
        {"control": "control", "canary": "canary"},
        canary={"initial_share": 0.05, "margin": 0.02, "min_outcomes": 30},
    )
    early = bernoulli_outcomes({"control": 0.5, "canary": 0.7}, 20, 3)
    capped = learn(early, config, policy_version=1, now=START)
    assert capped.probabilities("*")["canary"] <= 0.05 + 1e-12
    assert any("canary canary capped at 0.05" in note for note in capped.slices["*"].notes)
    late = bernoulli_outcomes({"control": 0.5, "canary": 0.7}, 600, 3)
    lifted = learn(late, config, policy_version=2, now=START)
    assert lifted.probabilities("*")["canary"] > 0.9
    assert any("cap lifted" in note for note in lifted.slices["*"].notes)


def test_a_canary_proven_worse_gets_no_traffic() -> None:
    config = task(
        {"control": "control", "canary": "canary"},
        min_share={"control": 0.01, "canary": 0.01},
    )
    outcomes = bernoulli_outcomes({"control": 0.8, "canary": 0.4}, 200, 4)
    snapshot = learn(outcomes, config, policy_version=1, now=START)
    assert snapshot.probabilities("*")["canary"] == 0.0
    assert any("canary canary failed" in note for note in snapshot.slices["*"].notes)


def test_conservative_mode_keeps_expected_reward_at_least_controls_in_every_slice() -> None:
    config = task(
        {"control": "control", "x": "candidate", "y": "candidate"},
        conservative=True,
        min_share=0.1,
        slices=["language"],
    )
    for seed in range(5):
        outcomes = bernoulli_outcomes(
            {"control": 0.6, "x": 0.55, "y": 0.3}, 40, seed, {"language": "en"}
        )
        snapshot = learn(outcomes, config, policy_version=1, now=START, seed=seed)
        for decision in snapshot.slices.values():
            means = {e.arm: e.mean for e in decision.evidence}
            shares = dict(zip(snapshot.arms, decision.probabilities, strict=True))
            assert guardrails.expected(shares, means) >= means["control"] - 1e-9


def test_past_the_spend_cap_everything_goes_to_the_default_arm() -> None:
    config = task({"cheap": "candidate", "dear": "candidate"}, spend_cap_usd=10.0, min_share=0.1)
    outcomes = bernoulli_outcomes({"cheap": 0.3, "dear": 0.9}, 100, 5)
    over = learn(
        outcomes, config, policy_version=1, now=START, inputs=PolicyInputs(spent_today_usd=10.0)
    )
    assert over.probabilities("*") == {"cheap": 1.0, "dear": 0.0}
    under = learn(
        outcomes, config, policy_version=1, now=START, inputs=PolicyInputs(spent_today_usd=9.0)
    )
    assert under.probabilities("*")["dear"] > 0.5


def test_kill_switches_must_name_arms() -> None:
    config = task({"a": "candidate"})
    with pytest.raises(ValueError, match="unknown arms: zz"):
        learn(
            [],
            config,
            policy_version=1,
            now=START,
            inputs=PolicyInputs(Kills(arms=frozenset({"zz"}))),
        )


def test_the_canary_difference_of_one_stratum_is_welchs_difference() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.6, 0.2, 80), rng.normal(0.5, 0.3, 120)
    difference, se = canary_difference([(Moments.of_values(a), Moments.of_values(b))])
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    assert difference == pytest.approx(a.mean() - b.mean())
    assert se == pytest.approx(compare.std_meandiff_separatevar)


def test_the_canary_difference_compares_within_slices_on_the_canarys_mix() -> None:
    rng = np.random.default_rng(8)
    # An easy slice (0.8) and a hard one (0.3); the canary is 0.05 worse in both, but
    # control served mostly the hard slice: compared raw, the canary would look better.
    canary = [rng.normal(0.75, 0.1, 100), rng.normal(0.25, 0.1, 100)]
    control = [rng.normal(0.8, 0.1, 50), rng.normal(0.3, 0.1, 950)]
    strata = [
        (Moments.of_values(c), Moments.of_values(k)) for c, k in zip(canary, control, strict=True)
    ]
    difference, se = canary_difference(strata)
    expected = 0.5 * (canary[0].mean() - control[0].mean()) + 0.5 * (
        canary[1].mean() - control[1].mean()
    )
    pooled = np.concatenate(canary)
    variance = pooled.var(ddof=1) / 200 + sum(0.25 * k.var(ddof=1) / k.size for k in control)
    assert difference == pytest.approx(expected)
    assert se == pytest.approx(math.sqrt(variance))
    assert np.concatenate(canary).mean() > np.concatenate(control).mean()
