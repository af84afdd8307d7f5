"""The sampling decision for one interaction: every policy, then the budget.

`decide` asks each configured policy (most urgent first) whether it wants the
interaction. The most urgent one that does is the decision's policy; the
budget then admits or refuses it with that policy's share. Every decision
carries a readable reason, so "why was this judged / not judged" has an
answer. Call it at ingest and again when a late signal arrives for an
interaction not yet sampled (`trigger` says whether the signal can change it).
"""

from __future__ import annotations

from dataclasses import dataclass

from liveeval.config.sampling import SamplingConfig
from liveeval.sampling.budget import budget_refusal
from liveeval.sampling.candidate import Candidate, SamplerState
from liveeval.sampling.policies import Priority, build_policies, signal_policy


@dataclass(frozen=True, slots=True)
class Decision:
    sampled: bool
    policy: str | None
    """The most urgent policy that wanted it; set but not sampled when the budget refused."""
    priority: int
    """That policy's `Priority` (signal 0 … uniform 3); 4 when no policy wanted it."""
    reason: str
    selected_by: tuple[str, ...] = ()
    """Every policy that wanted it, most urgent first, budget aside. Those sampled with
    "uniform" here are the unbiased random sample."""

    @property
    def refused_by_budget(self) -> bool:
        return not self.sampled and self.policy is not None


def decide(candidate: Candidate, config: SamplingConfig, state: SamplerState) -> Decision:
    """Whether to judge `candidate`, which policy chose it, and why."""
    verdicts = [policy.evaluate(candidate, state) for policy in build_policies(config)]
    selected = [verdict for verdict in verdicts if verdict.selected]
    if not selected:
        why = "; ".join(verdict.reason for verdict in verdicts) or "no sampling policy configured"
        return Decision(False, None, int(Priority.NONE), f"not sampled: {why}")
    first = selected[0]
    priority = int(first.priority)  # a plain int for the store, not the IntEnum
    names = tuple(verdict.policy for verdict in selected)
    reason = "; ".join([first.reason, *(f"also {verdict.reason}" for verdict in selected[1:])])
    refusal = budget_refusal(first.policy, config.budget, state)
    if refusal is None:
        return Decision(True, first.policy, priority, reason, names)
    if first.policy == "signal" and config.budget.triggers_exempt:
        exempt = f"{reason}; over budget, triggers exempt ({refusal})"
        return Decision(True, first.policy, priority, exempt, names)
    return Decision(False, first.policy, priority, f"{refusal}; wanted by {reason}", names)


def trigger(signal_kind: str, config: SamplingConfig) -> bool:
    """Does a signal of this kind force judging? (For a late signal: re-decide if so.)"""
    return "signal" in config.policies and signal_kind in {str(k) for k in config.signal.kinds}


def triggered_by(candidate: Candidate, config: SamplingConfig) -> str | None:
    """What forces judging this candidate ("thumbs_down", "failed check schema"), or None."""
    if "signal" not in config.policies:
        return None
    return signal_policy(config).triggered_by(candidate)
