"""POST and GET /api/v1/scores: scores from people and outside evaluators; every score."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from liveeval.model import Score, ScoreKind, ScoreStatus
from liveeval.server.auth import Caller, IngestCaller, ReadCaller
from liveeval.server.params import MAX_ID, TimeBound
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.server.score_bodies import ScoreBatch, ScoreBody, ScorePage, ScoreResult, ScoreView
from liveeval.server.signals import ProjectHeader
from liveeval.server.targets import resolve_target
from liveeval.store.database import Store
from liveeval.store.scores import ScoreFilter, insert_score, list_scores

router = APIRouter(prefix="/api/v1", tags=["scores"], responses=errors(*ANY_ROUTE))


def record_scores(
    store: Store,
    caller: Caller,
    named_project: str | None,
    default_project: str,
    bodies: list[ScoreBody],
    now: datetime,
) -> list[ScoreResult]:
    """Store scores in one transaction; all or none. A score needs its interaction stored:
    one named by a trace or response id that has not arrived is a 404 to retry later."""
    results = []
    with store.writing() as conn:
        for body in bodies:
            target = resolve_target(
                conn,
                caller,
                named_project,
                default_project,
                interaction_id=body.interaction_id,
                trace_id=body.trace_id,
                response_id=body.response_id,
            )
            if target.interaction_id is None:
                named = (
                    f"trace_id {body.trace_id}"
                    if body.trace_id
                    else f"response_id {body.response_id}"
                )
                raise HTTPException(
                    404,
                    f"no interaction with {named} in project {target.project!r} yet: "
                    "a score is stored with its interaction, so send it again once the "
                    "span has been exported",
                )
            score = Score(
                project=target.project,
                interaction_id=target.interaction_id,
                name=body.name,
                kind=ScoreKind(body.kind),
                value=body.value,
                label=body.label,
                explanation=body.explanation,
                status=ScoreStatus.OK,
                evaluator_version=body.evaluator_version,
                details={"metadata": body.metadata} if body.metadata else {},
                author=body.author,
                created_at=body.at or now,
            )
            key = f"api:{body.idempotency_key}" if body.idempotency_key else None
            score_id, created = insert_score(conn, score, key)
            results.append(
                ScoreResult(
                    score_id=score_id, interaction_id=target.interaction_id, duplicate=not created
                )
            )
    return results


@router.post(
    "/scores",
    response_model=ScoreResult,
    status_code=201,
    responses={
        200: {"description": "Seen before (same idempotency key)"},
        **errors(*WITH_BODY, 404),
    },
)
async def post_score(
    body: ScoreBody,
    request: Request,
    response: Response,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> ScoreResult:
    """Record a score for an interaction: a reviewer's grade or the app's own evaluator."""
    results = await _record(request, caller, x_liveeval_project, [body])
    response.status_code = 200 if results[0].duplicate else 201
    return results[0]


@router.post(
    "/scores/batch",
    response_model=list[ScoreResult],
    status_code=201,
    responses=errors(*WITH_BODY, 404),
)
async def post_scores(
    batch: ScoreBatch,
    request: Request,
    response: Response,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> list[ScoreResult]:
    """Record up to 1,000 scores at once: all are stored, or (on any error) none."""
    results = await _record(request, caller, x_liveeval_project, batch.scores)
    response.status_code = 200 if all(r.duplicate for r in results) else 201
    return results


async def _record(
    request: Request, caller: Caller, project: str | None, bodies: list[ScoreBody]
) -> list[ScoreResult]:
    state = request.app.state
    return await run_in_threadpool(
        record_scores,
        state.store,
        caller,
        project,
        state.settings.default_project,
        bodies,
        state.clock(),
    )


Str = Annotated[str | None, Query(max_length=200)]


@router.get("/scores", response_model=ScorePage)
async def list_(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    name: Str = None,
    kind: ScoreKind | None = None,
    status: ScoreStatus | None = None,
    interaction_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> ScorePage:
    """Scores, newest first; pass `next_cursor` back as `cursor` for the next page."""
    f = ScoreFilter(
        project=caller.project_for(project, request.app.state.settings.default_project),
        name=name,
        kind=kind,
        status=status,
        interaction_id=interaction_id,
        since=since,
        until=until,
    )

    def query() -> ScorePage:
        with request.app.state.store.reading() as conn:
            rows = list_scores(conn, f, limit=limit + 1, after=cursor)
        page = rows[:limit]
        more = len(rows) > limit
        return ScorePage(
            items=[ScoreView.of(s) for s in page],
            next_cursor=str(page[-1].score_id) if more and page else None,
        )

    return await run_in_threadpool(query)
