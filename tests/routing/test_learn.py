from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from liveeval.model.routing import Outcome
from liveeval.routing.choose import choose
from liveeval.routing.config import RewardConfig, TaskConfig
from liveeval.routing.learn import fold, learn, new_evidence, reward_of
from liveeval.routing.policy import compute_snapshot

from .tasks import START, bernoulli_outcomes, task


def outcome(**fields: object) -> Outcome:
    return Outcome("d1", "a", START, **fields)  # type: ignore[arg-type]


def test_a_success_reward_is_the_outcome() -> None:
    reward = RewardConfig(kind="success")
    assert reward_of(outcome(success=True), reward) == 1.0
    assert reward_of(outcome(success=False, quality=1.0), reward) == 0.0
    with pytest.raises(ValueError, match="outcome d1: reward kind 'success' needs success"):
        reward_of(outcome(quality=0.5), reward)


def test_a_score_reward_weighs_its_parts_and_subtracts_penalties() -> None:
    reward = RewardConfig(
        kind="score",
        success_weight=1.0,
        quality_weight=3.0,
        quality_low=1.0,
        quality_high=5.0,
        thumbs_down_penalty=0.2,
        cost_penalty_per_usd=10.0,
        latency_penalty_per_s=0.01,
    )
    # (1 * 1 + 3 * (4 - 1) / 4) / 4 = 0.8125, minus 0.2, 0.1 and 0.02.
    got = reward_of(
        outcome(success=True, quality=4.0, thumbs_down=True, cost_usd=0.01, latency_s=2.0), reward
    )
    assert got == pytest.approx(0.8125 - 0.2 - 0.1 - 0.02)
    assert reward_of(outcome(quality=5.0), reward) == 1.0  # success unknown: quality alone
    assert reward_of(outcome(success=False, thumbs_down=True), reward) == 0.0  # clipped
    with pytest.raises(ValueError, match="neither success nor quality"):
        reward_of(outcome(thumbs_down=True), reward)


def run_bandit(
    config: TaskConfig,
    rate: Callable[[str, int], float],
    steps: int,
    seed: int,
    refresh: int = 50,
) -> list[tuple[int, dict[str, float]]]:
    """Serve `steps` requests by choose() from snapshots refreshed every `refresh`
    outcomes; returns (step, probabilities of "*") after each refresh."""
    rng = random.Random(seed)
    evidence = new_evidence(config)
    snapshot = compute_snapshot(evidence, config, policy_version=0, now=START, seed=seed)
    pending: list[Outcome] = []
    history = []
    for step in range(steps):
        choice = choose(snapshot, {}, u=rng.random())
        success = rng.random() < rate(choice.arm, step)
        at = START + timedelta(seconds=step)
        pending.append(Outcome(choice.decision_id, choice.arm, at, success=success))
        if len(pending) == refresh:
            fold(evidence, pending, config)
            pending = []
            snapshot = compute_snapshot(evidence, config, policy_version=step, now=START, seed=step)
            history.append((step, snapshot.probabilities("*")))
    return history


def test_the_bandit_converges_to_the_best_arm_over_seeds() -> None:
    config = task({"a": "candidate", "b": "candidate", "c": "candidate"}, min_share=0.01)
    rates = {"a": 0.5, "b": 0.6, "c": 0.45}
    finals = [
        run_bandit(config, lambda arm, _: rates[arm], 3000, seed)[-1][1] for seed in range(10)
    ]
    assert sum(final["b"] > 0.9 for final in finals) >= 9
    assert all(final[arm] >= 0.01 - 1e-12 for final in finals for arm in "abc")


def test_a_degraded_arm_loses_its_traffic_within_a_bounded_number_of_outcomes() -> None:
    config = task({"a": "candidate", "b": "candidate"}, min_share=0.01)

    def rate(arm: str, step: int) -> float:
        if arm == "a":
            return 0.8 if step < 3000 else 0.3
        return 0.6

    moved = []
    for seed in range(5):
        history = run_bandit(config, rate, 4000, seed)
        assert dict(history)[2999]["a"] > 0.9
        moved.append(next(step for step, p in history if step >= 3000 and p["a"] <= 0.1) - 3000)
    assert max(moved) <= 300


def test_learning_is_pure_and_order_free() -> None:
    config = task({"a": "candidate", "b": "candidate"}, slices=["language"])
    outcomes = bernoulli_outcomes({"a": 0.4, "b": 0.6}, 100, 3, {"language": "en"})
    first = learn(outcomes, config, policy_version=1, now=START, seed=5)
    shuffled = list(reversed(outcomes))  # late outcomes arrive out of order
    assert learn(shuffled, config, policy_version=1, now=START, seed=5) == first


def test_an_outcome_for_an_unknown_arm_is_an_error() -> None:
    config = task({"a": "candidate"})
    with pytest.raises(ValueError, match="unknown arm 'gone'"):
        learn([Outcome("d", "gone", START, success=True)], config, policy_version=1, now=START)
