"""Running a shadow: the candidate on each sampled input, then the pairwise judge on its
answer against production's, both with bounded concurrency.

The candidate is a `regress` target (`gate.targets`): its calls are retried on transient
errors, and a call that still fails, or an input a target cannot be sent, is counted with
its reason; so is a pair the judge could not decide. Nothing fails the run but a bug.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from liveeval.gate.targets import Target, TargetError, call_with_retries
from liveeval.judge.grading import Grader
from liveeval.judge.pairwise import PairVerdict, PairwiseError, judge_pair
from liveeval.judge.providers.base import Completion, ProviderError
from liveeval.judge.rubrics import Rubric
from liveeval.routing.shadow import ShadowItem, shadow_input

logger = logging.getLogger(__name__)
SAME = PairVerdict("tie", "tie")


@dataclass(frozen=True, slots=True)
class ShadowResult:
    item: ShadowItem
    candidate: str | None = None  # the candidate's answer; None when it gave none
    latency_ms: float | None = None
    candidate_error: str | None = None  # "<kind>: <message>"
    verdict: PairVerdict | None = None
    judge_error: str | None = None
    identical: bool = False  # the same answer as production's: a tie, the judge not asked


class TalliedGrader(Grader):
    """A grader that counts the tokens of the completions it asked for (the judge's cost)."""

    calls = 0
    input_tokens: int | None = 0
    output_tokens: int | None = 0

    async def ask(
        self, messages: list[dict[str, str]], schema: dict[str, object]
    ) -> Completion | ProviderError:
        completion = await super().ask(messages, schema)
        self.calls += 1
        if isinstance(completion, Completion):
            self.input_tokens = _add(self.input_tokens, completion.input_tokens)
            self.output_tokens = _add(self.output_tokens, completion.output_tokens)
        return completion

    def cost_usd(self) -> float | None:
        """USD of the tokens counted; None when the price or a count is unknown."""
        price = self.config.price
        if price is None or self.input_tokens is None or self.output_tokens is None:
            return None
        spent = (
            self.input_tokens * price.input_per_mtok + self.output_tokens * price.output_per_mtok
        )
        return spent / 1_000_000


def _add(total: int | None, more: int | None) -> int | None:
    return None if total is None or more is None else total + more


async def run_shadow(
    items: list[ShadowItem],
    target: Target,
    judge: Grader,
    rubric: Rubric,
    *,
    concurrency: int = 8,
    attempts: int = 3,
) -> list[ShadowResult]:
    """Each item's result, in the items' order."""
    limit = asyncio.Semaphore(concurrency)

    async def one(item: ShadowItem) -> ShadowResult:
        async with limit:
            answered = await _candidate(item, target, attempts)
        if answered.candidate is None:
            return answered
        async with limit:
            return await _judged(answered, judge, rubric)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def _candidate(item: ShadowItem, target: Target, attempts: int) -> ShadowResult:
    try:
        request = shadow_input(item)
    except ValueError as exc:
        return ShadowResult(item, candidate_error=f"bad_input: {_first_line(exc)}")
    try:
        reply = await call_with_retries(target, request, attempts=attempts)
    except TargetError as exc:
        return ShadowResult(item, candidate_error=f"{exc.kind}: {exc}")
    return ShadowResult(item, reply.output, reply.latency_ms)


async def _judged(answered: ShadowResult, judge: Grader, rubric: Rubric) -> ShadowResult:
    item = answered.item
    assert answered.candidate is not None
    if answered.candidate.strip() == item.production.strip():
        return replace(answered, verdict=SAME, identical=True)
    try:
        verdict = await judge_pair(
            judge, rubric, item.interaction, item.production, answered.candidate
        )
    except PairwiseError as exc:
        return replace(answered, judge_error=str(exc))
    except Exception as exc:  # a bug costs this pair, not the run
        logger.exception(
            "interaction %s: the pairwise judge raised", item.interaction.interaction_id
        )
        return replace(answered, judge_error=f"{type(exc).__name__}: {exc}")
    return replace(answered, verdict=verdict)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]
