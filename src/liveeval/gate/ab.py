"""Paired A/B offline: two variants of the app answer the same cases, and the difference
is tested as a paired sample (stats.paired).

Each case is graded on both sides with its own grader, or one given for the whole run
(`grader`). Pass/fail graders give 0/1 scores (McNemar decides); the semantic grader
its cosine, the judge its score on the rubric's scale (the paired t-test decides).
Scores on different scales are never pooled: a golden set that mixes graders is
compared per grader family (pass/fail, semantic, each judge rubric), each with its
own verdict (`AbRun.by_grader`).
With a pairwise rubric the judge also sees both answers, in both orders; each pair
scores 1 for the answer both orders prefer, ½ each for a tie or a flip, and the flip
rate is reported. A case that errors on either side is left out of the pairs and listed.

The minimum effect that matters is the user's, or the grader's default
(`default_min_effect`): 5% of the scale for pass/fail and judge scores, and for the
semantic grader's cosines a fifth of the baseline's spread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from liveeval.gate.graders import GradingContext
from liveeval.gate.results import CaseResult, Run
from liveeval.gate.runner import run_cases
from liveeval.gate.targets import Target, target_label
from liveeval.judge.calibration_set import CalibrationItem, item_interaction
from liveeval.judge.pairwise import PairVerdict, PairwiseError, judge_pair
from liveeval.model.case import (
    Case,
    ContainsGrader,
    ExactGrader,
    JsonSchemaGrader,
    JudgeGrader,
    RegexGrader,
    SemanticGrader,
)
from liveeval.stats.agreement import FlipRate, flip_rate
from liveeval.stats.paired import PairedResult, paired_comparison, small_effect

logger = logging.getLogger(__name__)

PASS_FAIL = (ExactGrader, ContainsGrader, RegexGrader, JsonSchemaGrader)


@dataclass(frozen=True, slots=True)
class AbRun:
    a: Run
    b: Run
    pairs: int
    excluded: tuple[str, ...]  # case ids with an error on a side: why, in a_run/b_run
    comparison: PairedResult | None
    scale: tuple[float, float]
    pairwise: PairedResult | None = None
    pairwise_verdicts: tuple[tuple[str, PairVerdict], ...] = ()
    pairwise_errors: tuple[str, ...] = ()
    flips: FlipRate | None = None
    # One comparison per grader family; `comparison` is the only one's, None when mixed.
    by_grader: tuple[GraderComparison, ...] = ()


@dataclass(frozen=True, slots=True)
class GraderComparison:
    grader: str  # "pass/fail", "semantic" or "judge:<rubric>"
    cases: int
    pairs: int
    scale: tuple[float, float]
    comparison: PairedResult | None


def grader_family(case: Case) -> str:
    """The scale a case's scores are on: cases of one family can be compared together."""
    grader = case.grader
    if isinstance(grader, PASS_FAIL):
        return "pass/fail"
    if isinstance(grader, JudgeGrader):
        return f"judge:{grader.rubric}"
    return "semantic"


def with_grader(cases: Sequence[Case], grader: Mapping[str, Any] | None) -> list[Case]:
    """The cases as they are, or all graded by `grader` (ValueError when it does not fit)."""
    if grader is None:
        return list(cases)
    out = []
    for case in cases:
        document = case.model_dump(mode="json", by_alias=True, exclude_none=True)
        document.pop("hash", None)
        document["grader"] = dict(grader)
        out.append(Case.model_validate(document))
    return out


def scale_of(cases: Sequence[Case], context: GradingContext) -> tuple[tuple[float, float], bool]:
    """The score scale of the run and whether scores are pass/fail."""
    graders = [case.grader for case in cases]
    if all(isinstance(g, PASS_FAIL) for g in graders):
        return (0.0, 1.0), True
    judged = {g.rubric for g in graders if isinstance(g, JudgeGrader)}
    if judged:
        if any(not isinstance(g, JudgeGrader) for g in graders) or len(judged) > 1:
            raise ValueError(
                "the cases grade on different scales (judge rubrics mixed with other graders); "
                "give one --grader for the comparison"
            )
        rubric = context.rubrics.get(next(iter(judged)))
        levels = rubric.scale.scores if rubric is not None else ()
        return ((float(min(levels)), float(max(levels))) if levels else (1.0, 5.0)), False
    if any(isinstance(g, PASS_FAIL) for g in graders):
        raise ValueError(
            "the cases mix pass/fail graders with semantic ones; "
            "give one --grader for the comparison"
        )
    return (0.0, 1.0), False


async def run_ab(
    cases: Sequence[Case],
    target_a: Target,
    target_b: Target,
    context: GradingContext,
    *,
    concurrency: int = 8,
    attempts: int = 3,
    alpha: float = 0.05,
    min_effect: float | None = None,
    pairwise_rubric: str | None = None,
) -> AbRun:
    active = [case for case in cases if case.active]
    if pairwise_rubric is not None and (
        context.judge is None or pairwise_rubric not in context.rubrics
    ):
        raise ValueError(
            f"pairwise judging needs a configured judge and the rubric {pairwise_rubric!r}"
        )
    a_run, b_run = await asyncio.gather(
        run_cases(active, target_a, context, concurrency=concurrency, attempts=attempts),
        run_cases(active, target_b, context, concurrency=concurrency, attempts=attempts),
    )
    a_run = replace(a_run, target=target_label(target_a))
    b_run = replace(b_run, target=target_label(target_b))
    sides = list(zip(a_run.results, b_run.results, strict=True))
    excluded = tuple(ra.case_id for ra, rb in sides if ra.status == "error" or rb.status == "error")
    families: dict[str, list[int]] = {}
    for index, case in enumerate(active):
        families.setdefault(grader_family(case), []).append(index)
    by_grader = tuple(
        _compare_family(
            family,
            [active[i] for i in indexes],
            [sides[i] for i in indexes],
            context,
            alpha=alpha,
            min_effect=min_effect,
        )
        for family, indexes in families.items()
    )
    pairs = sum(found.pairs for found in by_grader)
    comparison = by_grader[0].comparison if len(by_grader) == 1 else None
    scale = by_grader[0].scale if by_grader else (0.0, 1.0)
    result = AbRun(a_run, b_run, pairs, excluded, comparison, scale, by_grader=by_grader)
    if pairwise_rubric is None:
        return result
    return await _pairwise(result, active, context, pairwise_rubric, concurrency, alpha, min_effect)


def _compare_family(
    family: str,
    cases: Sequence[Case],
    sides: Sequence[tuple[CaseResult, CaseResult]],
    context: GradingContext,
    *,
    alpha: float,
    min_effect: float | None,
) -> GraderComparison:
    scale, binary = scale_of(cases, context)
    paired = [
        (ra, rb)
        for ra, rb in sides
        if ra.status != "error"
        and rb.status != "error"
        and ra.score is not None
        and rb.score is not None
    ]
    comparison = None
    if len(paired) >= 2:
        a_scores = [_score(ra.score, ra.status, binary) for ra, _ in paired]
        b_scores = [_score(rb.score, rb.status, binary) for _, rb in paired]
        effect, basis = (
            (min_effect, None)
            if min_effect is not None
            else default_min_effect(cases, a_scores, b_scores)
        )
        comparison = paired_comparison(
            a_scores,
            b_scores,
            alpha=alpha,
            min_effect=effect,
            min_effect_basis=basis,
            scale=scale,
            binary=binary,
        )
    return GraderComparison(family, len(cases), len(paired), scale, comparison)


def default_min_effect(
    cases: Sequence[Case], a_scores: Sequence[float], b_scores: Sequence[float]
) -> tuple[float | None, str | None]:
    """The minimum effect that matters when the user set none, and why.

    (None, None) for pass/fail and judge graders: 5% of their scale (stats.paired's
    default), five points of pass rate or a fifth of a point on a 1–5 rubric. The
    semantic grader's cosines sit at 0.9–1.0 whatever the answers' quality, so 5% of
    its 0–1 scale would call every real change too small: its default is a fifth of the
    standard deviation of A's scores across the cases (Cohen's small effect over the
    baseline's spread; B's when A scores every case alike).
    """
    if not cases or not all(isinstance(case.grader, SemanticGrader) for case in cases):
        return None, None
    basis = "0.2 × the standard deviation of A's scores, the semantic grader's default"
    return small_effect(a_scores, b_scores), basis


def _score(score: float | None, status: str, binary: bool) -> float:
    if binary:
        return 1.0 if status == "passed" else 0.0
    assert score is not None
    return score


async def _pairwise(
    result: AbRun,
    cases: list[Case],
    context: GradingContext,
    rubric_name: str,
    concurrency: int,
    alpha: float,
    min_effect: float | None,
) -> AbRun:
    rubric = context.rubrics[rubric_name]
    judge = context.judge
    assert judge is not None  # run_ab checked both before running a case
    limit = asyncio.Semaphore(concurrency)
    by_id = {case.id: case for case in cases}
    outputs = [
        (ra.case_id, ra.output, rb.output)
        for ra, rb in zip(result.a.results, result.b.results, strict=True)
        if ra.output is not None and rb.output is not None
    ]

    async def one(case_id: str, out_a: str, out_b: str) -> tuple[str, PairVerdict | str]:
        request = item_interaction(
            CalibrationItem(case_id, _request_text(by_id[case_id]), "", (), 0)
        )
        async with limit:
            try:
                return case_id, await judge_pair(judge, rubric, request, out_a, out_b)
            except PairwiseError as exc:
                return case_id, str(exc)
            except Exception as exc:  # a bug costs this pair, not the run
                logger.exception("case %s: the pairwise judge raised", case_id)
                return case_id, f"{type(exc).__name__}: {exc}"

    found = await asyncio.gather(*(one(i, a, b) for i, a, b in outputs if a and b))
    verdicts = tuple((i, v) for i, v in found if isinstance(v, PairVerdict))
    errors = tuple(f"{i}: {v}" for i, v in found if isinstance(v, str))
    share = {"1": (1.0, 0.0), "2": (0.0, 1.0), "tie": (0.5, 0.5)}
    a_scores = [share[v.winner][0] for _, v in verdicts]
    b_scores = [share[v.winner][1] for _, v in verdicts]
    pairwise = None
    if len(verdicts) >= 2:
        pairwise = paired_comparison(
            a_scores, b_scores, alpha=alpha, min_effect=min_effect, scale=(0.0, 1.0), binary=False
        )
    flips = flip_rate([(v.first_order, v.second_order) for _, v in verdicts]) if verdicts else None
    return AbRun(
        result.a,
        result.b,
        result.pairs,
        result.excluded,
        result.comparison,
        result.scale,
        pairwise,
        verdicts,
        errors,
        flips,
        result.by_grader,
    )


def _request_text(case: Case) -> str:
    if case.input.text is not None:
        return case.input.text
    messages = case.input.messages or ()
    return "\n\n".join(f"{m.role}: {m.content}" for m in messages)
