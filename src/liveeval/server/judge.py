"""GET /api/v1/judge/status (the judge queue, the evaluation backlog, model mismatches) and
/api/v1/judge/calibration (agreement with people over time per judge version)."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from liveeval.server.auth import ReadCaller
from liveeval.server.responses import ANY_ROUTE, errors
from liveeval.store import evaluation_queue, jobs
from liveeval.store.calibration import runs
from liveeval.store.schema import scores

router = APIRouter(prefix="/api/v1", tags=["judge"], responses=errors(*ANY_ROUTE))


class JudgeStatus(BaseModel):
    provider: str
    model_pinned: str
    rubrics: list[str]
    jobs: dict[str, int]  # queued, leased, done, dead
    model_mismatches: int  # judge scores whose provider reported another model
    judge_errors: int  # judge scores with status error
    evaluation_backlog: int  # interactions waiting for checks and sampling (all projects)


@router.get("/judge/status", response_model=JudgeStatus)
async def status(
    request: Request,
    caller: ReadCaller,
    project: Annotated[str | None, Query(max_length=200)] = None,
) -> JudgeStatus:
    """The judge's queue and health for a project: how a silent model update shows up."""
    settings = request.app.state.settings
    name = caller.project_for(project, settings.default_project)

    def query() -> JudgeStatus:
        c = scores.c
        judged = sa.and_(c.project == name, c.kind == "judge")
        mismatch = c.details["model_mismatch"].as_boolean().is_(True)
        with request.app.state.store.reading() as conn:
            mismatches = conn.execute(sa.select(sa.func.count()).where(judged, mismatch))
            errors = conn.execute(sa.select(sa.func.count()).where(judged, c.status == "error"))
            return JudgeStatus(
                provider=settings.judge.provider,
                model_pinned=settings.judge.pinned_model,
                rubrics=list(settings.judge.run),
                jobs=jobs.counts(conn, name),
                model_mismatches=int(mismatches.scalar_one()),
                judge_errors=int(errors.scalar_one()),
                evaluation_backlog=evaluation_queue.count(conn),
            )

    return await run_in_threadpool(query)


@router.get("/judge/calibration")
async def calibration(
    request: Request,
    caller: ReadCaller,
    project: Annotated[str | None, Query(max_length=200)] = None,
    rubric: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Agreement with people over time per judge version, newest first: calibration-set
    checks (after a judge model change) and comparisons with review scores."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def query() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return [run.to_json() for run in runs(conn, name, rubric, limit)]

    return await run_in_threadpool(query)
