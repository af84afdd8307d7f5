"""From posteriors to a snapshot: Thompson probabilities per slice, then the guardrails.

Thompson sampling draws each arm's mean reward from its posterior and plays the best; the
probability it plays an arm is estimated here by `draws` joint draws per slice, so the
SDK can draw from fixed probabilities (and log them) without any sampling of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from liveeval.stats.means import Moments
from liveeval.stats.rates import normal_isf
from liveeval.stats.thompson import BetaArgmax

from . import guardrails
from .config import TaskConfig
from .posterior import Evidence, Posterior
from .slices import TASK, covers, parent_of
from .snapshot import ArmEvidence, SliceDecision, Snapshot


@dataclass(frozen=True, slots=True)
class Kills:
    """Kill switches: arms killed everywhere, and (arm, slice key) pairs killed in a slice
    and every slice inside it."""

    arms: frozenset[str] = frozenset()
    cells: frozenset[tuple[str, str]] = frozenset()

    def killed_in(self, key: str) -> set[str]:
        return set(self.arms) | {arm for arm, wide in self.cells if covers(wide, key)}


@dataclass(frozen=True, slots=True)
class CanaryState:
    """A canary against control: the lower and upper one-sided bounds (at the configured
    confidence) of its mean reward minus control's within the finest slices, its outcomes,
    and what follows: "capped", "lifted" or "failed"."""

    arm: str
    low: float
    high: float
    outcomes: int
    state: str


@dataclass(frozen=True, slots=True)
class PolicyInputs:
    """What the policy needs besides the evidence: switches and today's spend."""

    kills: Kills = field(default_factory=Kills)
    spent_today_usd: float = 0.0


def thompson_probabilities(
    posteriors: Mapping[str, Posterior], draws: int, sampler: BetaArgmax
) -> dict[str, float]:
    """P(arm has the highest mean) under independent Beta posteriors, by Monte Carlo."""
    arms = list(posteriors)
    a = [posteriors[arm].a for arm in arms]
    b = [posteriors[arm].b for arm in arms]
    return dict(zip(arms, sampler.shares(a, b, draws), strict=True))


def canary_states(evidence: Evidence, config: TaskConfig) -> dict[str, CanaryState]:
    """Each canary's non-inferiority test against control (see `canary_difference`) in
    the finest slices."""
    control = config.control
    if control is None:
        return {}
    z = normal_isf(1.0 - config.canary.confidence)
    margin = config.canary.margin
    leaves = _leaves(evidence, len(config.slices))
    states: dict[str, CanaryState] = {}
    for arm in config.canaries:
        strata = [(evidence.moments(key, arm), evidence.moments(key, control)) for key in leaves]
        difference, se = canary_difference(strata, config.canary.min_stratum)
        low, high = difference - z * se, difference + z * se
        outcomes = evidence.moments(TASK, arm).n
        if outcomes < config.canary.min_outcomes:
            state = "capped"
        else:
            state = "lifted" if low > -margin else "failed" if high < -margin else "capped"
        states[arm] = CanaryState(arm, low, high, outcomes, state)
    return states


def canary_difference(
    strata: Iterable[tuple[Moments, Moments]], min_n: int = 5
) -> tuple[float, float]:
    """The canary's mean reward minus control's on the canary's own traffic, and its
    standard error: each stratum (slice) weighs by the canary's outcomes there, and
    compares them with control's mean in the same slice (the two arms' traffic mixes
    differ; compared raw, a canary sent to easy slices would look better than it is).

    Slices where control has fewer than `min_n` outcomes are left out. The canary's side of the
    variance is its pooled variance over its outcomes kept (between-slice spread
    included: conservative). (0, inf) while fewer than two outcomes are kept.
    """
    kept = [(c, k) for c, k in strata if c.n > 0 and k.n >= max(2, min_n)]
    canary = sum((c for c, _ in kept), Moments())
    if canary.n < 2:
        return 0.0, math.inf
    difference = math.fsum(c.n * (c.mean - k.mean) for c, k in kept) / canary.n
    control_variance = math.fsum((c.n / canary.n) ** 2 * k.variance / k.n for c, k in kept)
    return difference, math.sqrt(canary.variance / canary.n + control_variance)


def _leaves(evidence: Evidence, depth: int) -> list[str]:
    """The finest slices with evidence (all slice dimensions given; "*" without any)."""
    keys = [key for key in evidence.slice_keys if key != TASK and key.count(",") == depth - 1]
    return keys if depth and keys else [TASK]


def slice_decision(
    key: str,
    posteriors: Mapping[str, Posterior],
    config: TaskConfig,
    inputs: PolicyInputs,
    canaries: Mapping[str, CanaryState],
    sampler: BetaArgmax,
) -> SliceDecision:
    """One slice's probabilities: Thompson, then the guardrails in guardrails.py's order."""
    notes: list[str] = []
    shares = thompson_probabilities(posteriors, config.draws, sampler)
    killed = inputs.kills.killed_in(key)
    if killed:
        shares = guardrails.kill(shares, killed)
        notes.append(f"killed: {', '.join(sorted(killed))}")
    dead = set(killed)
    fallback = _fallback(config, posteriors, dead)
    for arm, canary in canaries.items():
        bounds = f"canary - control in [{canary.low:+.3f}, {canary.high:+.3f}]"
        if canary.state == "failed" and arm not in dead:
            shares = guardrails.kill(shares, dead | {arm})
            dead.add(arm)
            notes.append(f"canary {arm} failed: {bounds} is below -{config.canary.margin:g}")
        elif canary.state == "capped" and arm not in dead:
            shares = guardrails.cap(shares, arm, config.canary.initial_share, fallback)
            notes.append(f"canary {arm} capped at {config.canary.initial_share:g}: {bounds}")
        elif canary.state == "lifted":
            notes.append(f"canary {arm} cap lifted: {bounds} is above -{config.canary.margin:g}")
    cap_usd = config.spend_cap_usd
    if cap_usd is not None and inputs.spent_today_usd >= cap_usd:
        spent = f"{inputs.spent_today_usd:.2f} of {cap_usd:.2f} USD"
        notes.append(f"spend cap reached ({spent} today): all traffic to {fallback}")
        shares = guardrails.only(shares, fallback)
    else:
        floors = {arm: config.floor_of(arm) for arm in config.arm_names if arm not in dead}
        shares = guardrails.floor(shares, floors)
        control = config.control
        if config.conservative and control is not None and control not in dead:
            means = {arm: p.mean for arm, p in posteriors.items()}
            tolerance = config.conservative_tolerance
            shares, weight = guardrails.conservative(shares, means, control, tolerance)
            if weight < 1.0:
                notes.append(f"conservative: {1.0 - weight:.3f} of traffic moved to {control}")
    shares = guardrails.normalise(shares)
    return SliceDecision(
        key=key,
        probabilities=tuple(shares[arm] for arm in config.arm_names),
        evidence=tuple(_evidence(arm, posteriors[arm]) for arm in config.arm_names),
        notes=tuple(notes),
    )


def compute_snapshot(
    evidence: Evidence,
    config: TaskConfig,
    *,
    policy_version: int,
    now: datetime,
    inputs: PolicyInputs | None = None,
    seed: int = 0,
) -> Snapshot:
    """The task's snapshot: a decision for every slice with evidence or a kill switch."""
    inputs = inputs or PolicyInputs()
    unknown = (set(inputs.kills.arms) | {arm for arm, _ in inputs.kills.cells}) - set(
        config.arm_names
    )
    if unknown:
        raise ValueError(f"kill switches name unknown arms: {', '.join(sorted(unknown))}")
    sampler = BetaArgmax(seed)
    canaries = canary_states(evidence, config)
    keys = _with_parents([*evidence.slice_keys, *(key for _, key in inputs.kills.cells)])
    slices = {
        key: slice_decision(
            key, evidence.posteriors(key, config.prior_strength), config, inputs, canaries, sampler
        )
        for key in keys
    }
    return Snapshot(
        task=config.task,
        policy_version=policy_version,
        arms=config.arm_names,
        default=config.default,
        dimensions=config.slices,
        sticky=config.sticky,
        created_at=now,
        slices=slices,
    )


def _fallback(config: TaskConfig, posteriors: Mapping[str, Posterior], dead: set[str]) -> str:
    """The default arm if live, else the live arm with the lowest known mean cost."""
    if config.default not in dead:
        return config.default
    live = [arm for arm in config.arm_names if arm not in dead]
    return min(live, key=lambda arm: _cost_key(posteriors[arm]))


def _cost_key(posterior: Posterior) -> float:
    return posterior.mean_cost if posterior.mean_cost is not None else math.inf


def _evidence(arm: str, posterior: Posterior) -> ArmEvidence:
    low, high = posterior.interval()
    return ArmEvidence(
        arm, posterior.mean, low, high, posterior.weight, posterior.outcomes, posterior.changes
    )


def _with_parents(keys: Iterable[str]) -> list[str]:
    """The keys and every wider slice above them, "*" first, each once."""
    seen: dict[str, None] = {TASK: None}
    for key in keys:
        chain: list[str] = []
        current: str | None = key
        while current is not None and current not in seen:
            chain.append(current)
            current = parent_of(current)
        for item in reversed(chain):
            seen[item] = None
    return list(seen)
