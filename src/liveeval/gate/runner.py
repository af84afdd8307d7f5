"""Run golden-set cases against a target and grade each answer.

Bounded concurrency, a timeout per call (the target's, so a timed-out call is retried
like any transient error), retries of transient target errors; a case whose target or
grader fails is an *error* with its kind, never a pass or a failure. A grader that
raises on one case (a bug, logged with its traceback) makes that case an error too: the
run keeps every other case's result.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from liveeval.gate.graders import GradeError, GradingContext, grade
from liveeval.gate.results import CaseResult, Run
from liveeval.gate.targets import Target, TargetError, call_with_retries
from liveeval.model.case import Case, snapshot_hash

logger = logging.getLogger(__name__)

Progress = Callable[[CaseResult, int, int], None]  # result, done, total


async def run_cases(
    cases: Sequence[Case],
    target: Target,
    context: GradingContext,
    *,
    concurrency: int = 8,
    attempts: int = 3,
    progress: Progress | None = None,
    git_commit: str | None = None,
    prompt_version: str | None = None,
) -> Run:
    """Every active case once; results in the cases' order."""
    active = [case for case in cases if case.active]
    started = datetime.now(UTC)
    limit = asyncio.Semaphore(concurrency)
    done = 0

    async def one(case: Case) -> CaseResult:
        nonlocal done
        async with limit:
            result = await run_case(case, target, context, attempts=attempts)
        done += 1
        if progress is not None:
            progress(result, done, len(active))
        return result

    results = await asyncio.gather(*(one(case) for case in active))
    return Run(
        target=target.name,
        snapshot=snapshot_hash(active),
        results=tuple(results),
        started_at=started,
        finished_at=datetime.now(UTC),
        git_commit=git_commit,
        prompt_version=prompt_version,
    )


def result_tags(case: Case) -> tuple[str, ...]:
    """A regression case counts under the `regression` threshold even without the tag."""
    return tuple(sorted({*case.tags, "regression"})) if case.regression else case.tags


async def run_case(
    case: Case, target: Target, context: GradingContext, *, attempts: int
) -> CaseResult:
    began = time.perf_counter()

    def error(kind: str, message: str) -> CaseResult:
        return CaseResult(
            case.id,
            case.version,
            result_tags(case),
            "error",
            f"{kind}: {message}",
            latency_ms=(time.perf_counter() - began) * 1000,
            error_kind=kind,
        )

    try:  # each call is bounded by the target's own timeout; retries follow a timeout
        reply = await call_with_retries(target, case.input, attempts=attempts)
    except TargetError as exc:
        return error(exc.kind, str(exc))
    try:
        graded = await grade(case, reply.output, context)
    except GradeError as exc:
        return error("grader", str(exc))
    except Exception as exc:  # a grader's bug costs this case, not the run
        logger.exception("case %s: the %s grader raised", case.id, case.grader.type)
        return error("grader", f"the {case.grader.type} grader raised {type(exc).__name__}: {exc}")
    return CaseResult(
        case.id,
        case.version,
        result_tags(case),
        "passed" if graded.passed else "failed",
        graded.detail,
        score=graded.score,
        output=reply.output,
        latency_ms=reply.latency_ms,
    )
