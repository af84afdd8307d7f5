"""Sampling: which interactions get an expensive judgment, and why.

Pure functions over plain values; the store reads the counts in, records the
decisions and enqueues the judgments. See docs/sampling.md.
"""

from liveeval.sampling.budget import budget_refusal
from liveeval.sampling.candidate import Candidate, SamplerState
from liveeval.sampling.confidence import (
    CONFIDENCE_ATTRIBUTES,
    MEAN_LOGPROB_ATTRIBUTES,
    confidence_from_metadata,
    lowered_by_checks,
)
from liveeval.sampling.decision import Decision, decide, trigger, triggered_by
from liveeval.sampling.hashing import unit_hash
from liveeval.sampling.policies import (
    POLICIES,
    Policy,
    Priority,
    Verdict,
    build_policies,
    register_policy,
    strata_of,
)
from liveeval.sampling.windows import day_start, window_start

__all__ = [
    "CONFIDENCE_ATTRIBUTES",
    "MEAN_LOGPROB_ATTRIBUTES",
    "POLICIES",
    "Candidate",
    "Decision",
    "Policy",
    "Priority",
    "SamplerState",
    "Verdict",
    "budget_refusal",
    "build_policies",
    "confidence_from_metadata",
    "day_start",
    "decide",
    "lowered_by_checks",
    "register_policy",
    "strata_of",
    "trigger",
    "triggered_by",
    "unit_hash",
    "window_start",
]
