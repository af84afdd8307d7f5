"""Shadow runs: a candidate answers a sample of live inputs off the critical path, and a
pairwise judge compares its answer with the one production gave.

This module holds the pure parts: which stored interactions a routed decision served
(`match_decisions`), the seeded sample (`pick_sample`), the request a target is sent
(`shadow_input`), the statistics of the pairs (`win_rate`), and the TOML of the canary
arm a winning shadow becomes (`canary_arm_toml`). Running the candidate and the judge is
`routing.shadow_run`; reading and storing is `store.shadow`.

Each pair is judged in both orders (`judge.pairwise`): production's answer is answer 1,
the candidate's answer 2. The candidate *wins* a pair when both orders prefer it, *loses*
when both prefer production, and *ties* when the judge says tie or the two orders
disagree (a flip: the judge followed the position, not the answers). A pair scores 1, 0
or ½ for the candidate, as `liveeval ab --pairwise` scores it, and the comparison is the
same paired one (`stats.paired`): the win rate is the mean of those scores, its interval
the bootstrap interval of the paired differences mapped onto it, and the verdict the
paired t-test's with the minimum effect. The flip rate is the judge's position bias.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from liveeval.flywheel.snapshot import keep_text, snapshot
from liveeval.judge.material import response_text
from liveeval.judge.pairwise import PairVerdict
from liveeval.model import Interaction
from liveeval.model.case import CaseInput
from liveeval.stats.agreement import FlipRate, flip_rate
from liveeval.stats.paired import PairedResult, paired_comparison
from liveeval.store.shadow import RoutedDecision

Outcome = Literal["win", "tie", "loss"]  # the candidate's, against production
ShadowVerdict = Literal[
    "candidate_wins", "production_wins", "below_min_effect", "no_difference", "too_few_pairs"
]
VERDICTS: dict[str, ShadowVerdict] = {
    "b_wins": "candidate_wins",
    "a_wins": "production_wins",
    "below_min_effect": "below_min_effect",
    "no_difference": "no_difference",
}
VERDICT_TEXT: dict[ShadowVerdict, str] = {
    "candidate_wins": "the candidate wins",
    "production_wins": "production wins",
    "below_min_effect": "significant, but smaller than the minimum effect",
    "no_difference": "no significant difference",
    "too_few_pairs": "too few judged pairs to compare (at least 2)",
}
TIES = "a tie or a flip (the two orders disagree) counts half a win"
# The candidate's score of a pair by its verdict's winner (answer 1: production).
_CANDIDATE_SHARE = {"2": 1.0, "1": 0.0, "tie": 0.5}
_OUTCOME: dict[str, Outcome] = {"2": "win", "1": "loss", "tie": "tie"}


@dataclass(frozen=True, slots=True)
class ShadowItem:
    """One live input: the request production answered, and that answer."""

    interaction: Interaction
    production: str
    decision_id: str | None = None
    arm: str | None = None


def has_content(interaction: Interaction) -> bool:
    """Whether the interaction kept both the request and production's answer."""
    return interaction.content_captured and bool(response_text(interaction).strip())


def shadow_item(
    interaction: Interaction, decision_id: str | None = None, arm: str | None = None
) -> ShadowItem:
    return ShadowItem(interaction, response_text(interaction), decision_id, arm)


def match_decisions(
    decisions: Sequence[RoutedDecision], captured: Sequence[Interaction]
) -> tuple[list[ShadowItem], list[str]]:
    """Each decision's interaction: in a trace, the decisions in time order take the
    interactions with content in time order. Returns the items and the ids of the
    decisions that found none (their content was not captured, or has been purged)."""
    by_trace: dict[str, list[Interaction]] = defaultdict(list)
    for interaction in sorted(captured, key=lambda i: (i.start_at, i.interaction_id or 0)):
        by_trace[interaction.trace_id].append(interaction)
    items: list[ShadowItem] = []
    missing: list[str] = []
    for decision in sorted(decisions, key=lambda d: (d.decided_at, d.decision_id)):
        queue = by_trace.get(decision.trace_id)
        if queue:
            items.append(shadow_item(queue.pop(0), decision.decision_id, decision.arm))
        else:
            missing.append(decision.decision_id)
    return items, missing


def pick_sample(items: Sequence[ShadowItem], size: int, seed: int = 0) -> list[ShadowItem]:
    """A uniform sample of `size` items (all when there are fewer), seeded, in time order."""
    if size < 1:
        raise ValueError(f"the sample size must be at least 1, got {size}")
    chosen = list(items) if len(items) <= size else random.Random(seed).sample(list(items), size)
    return sorted(chosen, key=lambda i: (i.interaction.start_at, i.interaction.interaction_id or 0))


def shadow_input(item: ShadowItem) -> CaseInput:
    """The request as a target is sent it: production's input messages (else its text) and
    retrieved context, as the review queue keeps them. ValueError when it does not fit a
    case's input (a message past the size limit)."""
    return CaseInput.model_validate(snapshot(item.interaction, keep_text).input)


@dataclass(frozen=True, slots=True)
class WinRate:
    """The candidate against production over the judged pairs."""

    n: int
    wins: int
    ties: int  # including flips
    losses: int
    rate: float  # (wins + ties / 2) / n; NaN without pairs
    interval: tuple[float, float] | None  # None below two pairs
    comparison: PairedResult | None  # production as A, the candidate as B
    flips: FlipRate
    verdict: ShadowVerdict
    reason: str


def pair_outcome(verdict: PairVerdict) -> Outcome:
    """Answer 1 is production's, answer 2 the candidate's."""
    return _OUTCOME[verdict.winner]


def win_rate(
    verdicts: Sequence[PairVerdict],
    *,
    identical: int = 0,
    alpha: float = 0.05,
    min_effect: float | None = None,
) -> WinRate:
    """Win/tie/loss, the win rate with its interval, and the paired verdict.

    `identical` pairs (the candidate answered exactly as production did) are ties that
    the judge was not asked about: they count in the win rate, not in the flip rate.
    `min_effect` is on the paired difference (candidate minus production score, -1..1),
    whose default is stats.paired's 5% of the 0..1 scale: 0.05, a win rate 2.5 points
    from ½.
    """
    if identical < 0:
        raise ValueError(f"identical must be >= 0, got {identical}")
    outcomes = [pair_outcome(v) for v in verdicts] + ["tie"] * identical
    n = len(outcomes)
    flips = flip_rate([(v.first_order, v.second_order) for v in verdicts])
    counts = {kind: outcomes.count(kind) for kind in ("win", "tie", "loss")}
    candidate = [_CANDIDATE_SHARE[v.winner] for v in verdicts] + [0.5] * identical
    rate = sum(candidate) / n if n else float("nan")
    if n < 2:
        reason = f"{n} judged pair{'s' if n != 1 else ''}; a paired comparison needs 2"
        return WinRate(
            n, counts["win"], counts["tie"], counts["loss"], rate, None, None, flips,
            "too_few_pairs", reason,
        )  # fmt: skip
    production = [1.0 - share for share in candidate]
    comparison = paired_comparison(
        production, candidate, alpha=alpha, min_effect=min_effect, scale=(0.0, 1.0), binary=False
    )
    low, high = comparison.ci
    reason = comparison.reason.replace("B scores", "The candidate scores").replace(
        "than A", "than production"
    )
    return WinRate(
        n,
        counts["win"],
        counts["tie"],
        counts["loss"],
        rate,
        ((1.0 + low) / 2.0, (1.0 + high) / 2.0),
        comparison,
        flips,
        VERDICTS[comparison.verdict],
        reason,
    )


def canary_arm_toml(
    task: str,
    arm: str,
    model: str,
    *,
    prompt_version: str | None,
    params: Mapping[str, Any],
    run_id: int,
    evidence: str,
) -> str:
    """The `[[routing.tasks.<task>.arms]]` table of the new canary arm, with a comment
    naming the shadow run it comes from."""
    lines = [
        f"# From shadow run {run_id}: {evidence}",
        f"[[routing.tasks.{_toml_key(task)}.arms]]",
        f"name = {json.dumps(arm)}",
        f"model = {json.dumps(model)}",
    ]
    if prompt_version is not None:
        lines.append(f"prompt_version = {json.dumps(prompt_version)}")
    if params:
        inline = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in params.items())
        lines.append(f"params = {{ {inline} }}")
    lines.append('role = "canary"')
    return "\n".join(lines) + "\n"


def _toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    raise ValueError(f"a parameter must be a string, number or boolean, got {value!r}")
