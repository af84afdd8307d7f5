"""Off-policy replay: what a candidate policy would have earned on logged decisions.

Every decision logs the probability with which its arm was drawn, so the reward of another
policy can be estimated from the same traffic without serving it:

- IPS (inverse propensity scoring): mean of pi(a|x) / p * r; unbiased, high variance.
- SNIPS (self-normalised IPS): sum of w r / sum of w; a little biased, far steadier.
- DR (doubly robust): a reward model (the mean reward of each slice and arm in the log)
  plus the IPS correction of its errors; unbiased when either part is right.

Intervals are normal-approximation intervals over decisions (Student t for IPS and DR,
the delta method for SNIPS). A logged probability of 0 cannot happen with a correct log
and is an error; an arm the candidate never plays simply gets weight 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from liveeval.stats.means import Moments, t_interval
from liveeval.stats.rates import normal_isf

from .choose import slice_for
from .snapshot import Snapshot

# A candidate policy: slice context → arm → probability.
TargetPolicy = Callable[[Mapping[str, object]], Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """A served decision: its context, the arm, the probability it was drawn with, and
    the reward it earned."""

    context: Mapping[str, object]
    arm: str
    probability: float
    reward: float


@dataclass(frozen=True, slots=True)
class Estimate:
    """An estimate of a policy's mean reward per decision, with its interval."""

    method: str
    value: float
    low: float
    high: float
    n: int


@dataclass(frozen=True, slots=True)
class Replay:
    ips: Estimate
    snips: Estimate
    dr: Estimate
    effective_n: float  # (sum w)^2 / sum w^2: how many decisions the estimate is worth


def snapshot_policy(snapshot: Snapshot) -> TargetPolicy:
    """A snapshot as a target policy (its slice lookup, its probabilities)."""

    def policy(context: Mapping[str, object]) -> Mapping[str, float]:
        return snapshot.probabilities(slice_for(snapshot, context))

    return policy


def replay(
    log: Sequence[LoggedDecision],
    target: TargetPolicy,
    *,
    slice_of: Callable[[Mapping[str, object]], str] = lambda context: repr(sorted(context.items())),
    confidence: float = 0.95,
) -> Replay:
    """IPS, SNIPS and DR estimates of `target`'s mean reward on the logged decisions.
    `slice_of` groups contexts for DR's reward model (default: identical contexts)."""
    if not log:
        raise ValueError("replay needs logged decisions, got none")
    for index, item in enumerate(log):
        if not 0.0 < item.probability <= 1.0:
            raise ValueError(
                f"decision {index}: logged probability {item.probability!r} not in (0, 1]"
            )
        if not 0.0 <= item.reward <= 1.0 or math.isnan(item.reward):
            raise ValueError(f"decision {index}: reward {item.reward!r} not in [0, 1]")
    targets = [target(item.context) for item in log]
    weights = [
        t.get(item.arm, 0.0) / item.probability for t, item in zip(targets, log, strict=True)
    ]
    rewards = [item.reward for item in log]
    model = _reward_model(log, slice_of)
    keys = [slice_of(item.context) for item in log]

    ips_terms = [w * r for w, r in zip(weights, rewards, strict=True)]
    dr_terms = [
        math.fsum(p * model.get((key, arm), 0.0) for arm, p in t.items())
        + w * (r - model[(key, item.arm)])
        for t, w, r, key, item in zip(targets, weights, rewards, keys, log, strict=True)
    ]
    total_w = math.fsum(weights)
    effective_n = total_w * total_w / math.fsum(w * w for w in weights) if total_w > 0 else 0.0
    return Replay(
        ips=_mean_estimate("ips", ips_terms, confidence),
        snips=_snips(weights, rewards, confidence),
        dr=_mean_estimate("dr", dr_terms, confidence),
        effective_n=effective_n,
    )


def _reward_model(
    log: Sequence[LoggedDecision], slice_of: Callable[[Mapping[str, object]], str]
) -> dict[tuple[str, str], float]:
    """The mean logged reward of each (slice, arm); arms unseen in a slice get the
    arm's mean over all slices."""
    sums: dict[tuple[str, str], Moments] = {}
    arm_sums: dict[str, Moments] = {}
    for item in log:
        one = Moments(1, item.reward, item.reward * item.reward)
        key = (slice_of(item.context), item.arm)
        sums[key] = sums.get(key, Moments()) + one
        arm_sums[item.arm] = arm_sums.get(item.arm, Moments()) + one
    model = {key: m.mean for key, m in sums.items()}
    for seen in {key for key, _ in sums}:
        for arm, m in arm_sums.items():
            model.setdefault((seen, arm), m.mean)
    return model


def _mean_estimate(method: str, terms: Sequence[float], confidence: float) -> Estimate:
    moments = Moments.of_values(terms)
    low, high = t_interval(moments, confidence)
    return Estimate(method, moments.mean, low, high, moments.n)


def _snips(weights: Sequence[float], rewards: Sequence[float], confidence: float) -> Estimate:
    n = len(weights)
    mean_w = math.fsum(weights) / n
    if mean_w <= 0.0:
        return Estimate("snips", math.nan, -math.inf, math.inf, n)
    value = math.fsum(w * r for w, r in zip(weights, rewards, strict=True)) / (n * mean_w)
    # Delta method: the ratio's variance is that of w (r - value) over mean_w^2.
    residuals = [w * (r - value) for w, r in zip(weights, rewards, strict=True)]
    variance = math.fsum(x * x for x in residuals) / max(1, n - 1) / n / (mean_w * mean_w)
    half = normal_isf((1.0 - confidence) / 2.0) * math.sqrt(variance)
    return Estimate("snips", value, value - half, value + half, n)
