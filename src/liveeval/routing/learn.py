"""The learning step: outcome records → rewards → posteriors → a snapshot. Pure.

An outcome joins a decision (its id, arm and context) with what happened afterwards:
success, the judge's quality score, implicit signals, cost and latency. Outcomes may
arrive late or never; those that did are counted in the order they happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from liveeval.model.routing import Outcome

from .config import RewardConfig, TaskConfig
from .policy import PolicyInputs, compute_snapshot
from .posterior import ChangeDetection, Evidence
from .slices import slice_chain
from .snapshot import Snapshot


def reward_of(outcome: Outcome, reward: RewardConfig) -> float:
    """The outcome's reward in [0, 1] (see RewardConfig); ValueError when it lacks the
    parts the reward needs."""
    where = f"outcome {outcome.decision_id}"
    if reward.kind == "success":
        if outcome.success is None:
            raise ValueError(f"{where}: reward kind 'success' needs success, got none")
        return 1.0 if outcome.success else 0.0
    parts: list[tuple[float, float]] = []
    if outcome.success is not None and reward.success_weight > 0:
        parts.append((reward.success_weight, 1.0 if outcome.success else 0.0))
    if outcome.quality is not None and reward.quality_weight > 0:
        if not math.isfinite(outcome.quality):
            raise ValueError(f"{where}: quality must be finite, got {outcome.quality!r}")
        span = reward.quality_high - reward.quality_low
        scaled = min(1.0, max(0.0, (outcome.quality - reward.quality_low) / span))
        parts.append((reward.quality_weight, scaled))
    if not parts:
        raise ValueError(f"{where}: has neither success nor quality for the reward")
    if outcome.cost_usd < 0 or outcome.latency_s < 0:
        raise ValueError(f"{where}: cost and latency must not be negative")
    value = math.fsum(w * v for w, v in parts) / math.fsum(w for w, _ in parts)
    value -= reward.thumbs_down_penalty * outcome.thumbs_down
    value -= reward.regeneration_penalty * outcome.regenerated
    value -= reward.escalation_penalty * outcome.escalated
    value -= reward.cost_penalty_per_usd * outcome.cost_usd
    value -= reward.latency_penalty_per_s * outcome.latency_s
    return min(1.0, max(0.0, value))


def usable(outcome: Outcome, reward: RewardConfig) -> bool:
    """The outcome has what the reward is made of (a decision without is not counted)."""
    if reward.kind == "success":
        return outcome.success is not None
    return (outcome.success is not None and reward.success_weight > 0) or (
        outcome.quality is not None and reward.quality_weight > 0
    )


def fold(evidence: Evidence, outcomes: Iterable[Outcome], config: TaskConfig) -> Evidence:
    """Count outcomes (in time order) into the evidence, which is updated and returned."""
    for outcome in sorted(outcomes, key=lambda o: o.at):
        chain = slice_chain(outcome.context, config.slices)
        evidence.observe(outcome.arm, chain, reward_of(outcome, config.reward), outcome.cost_usd)
    return evidence


def new_evidence(config: TaskConfig) -> Evidence:
    """Empty evidence for the task."""
    change = (
        ChangeDetection(
            config.change_delta, config.change_threshold, config.recent_half_life_outcomes
        )
        if config.change_detection
        else None
    )
    return Evidence(arms=config.arm_names, decay=config.decay, change=change)


def learn(
    outcomes: Iterable[Outcome],
    config: TaskConfig,
    *,
    policy_version: int,
    now: datetime,
    inputs: PolicyInputs | None = None,
    seed: int = 0,
) -> Snapshot:
    """The snapshot that all of a task's outcomes lead to."""
    evidence = fold(new_evidence(config), outcomes, config)
    return compute_snapshot(
        evidence, config, policy_version=policy_version, now=now, inputs=inputs, seed=seed
    )
