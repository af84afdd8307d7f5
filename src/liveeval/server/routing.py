"""/api/v1/routing: policy snapshots, server-side choices, outcomes, kill switches and
insights of the routed tasks in `[routing.tasks]` (docs/routing.md)."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from liveeval.config.routing import UnknownTask
from liveeval.config.sampling import parse_window
from liveeval.model import Signal, SignalKind
from liveeval.routing.choose import choose
from liveeval.routing.config import TaskConfig
from liveeval.routing.insights import Insights
from liveeval.routing.slices import TASK
from liveeval.routing.stored import stored_insights
from liveeval.server.auth import AdminCaller, Caller, IngestCaller, ReadCaller
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.server.routing_bodies import (
    Accepted,
    ArmConfigBody,
    ChoiceBody,
    ChooseBody,
    KillBody,
    KillView,
    OutcomeBatch,
    OutcomeBody,
)
from liveeval.store.database import Store
from liveeval.store.routing import (
    Decision,
    Kill,
    active_kills,
    add_kill,
    find_decision,
    lift_kill,
    record_decisions,
)
from liveeval.store.signals import find_target, record_signal

router = APIRouter(prefix="/api/v1/routing", tags=["routing"], responses=errors(*ANY_ROUTE))
ProjectHeader = Annotated[str | None, Header(alias="x-liveeval-project", max_length=200)]
MAX_WINDOW = timedelta(days=365)


def task_config(request: Request, task: str) -> TaskConfig:
    """The task's config; 404 naming the configured tasks."""
    try:
        return request.app.state.settings.routing.task(task)  # type: ignore[no-any-return]
    except UnknownTask as exc:
        raise HTTPException(404, str(exc)) from None


def _project(request: Request, caller: Caller, named: str | None) -> str:
    return caller.project_for(named, request.app.state.settings.default_project)


@router.get(
    "/{task}/policy",
    responses={200: {"description": "Snapshot.to_json()"}, 304: {}, **errors(404)},
)
async def get_policy(
    task: str,
    request: Request,
    caller: IngestCaller,
    if_none_match: Annotated[str | None, Header()] = None,
    x_liveeval_project: ProjectHeader = None,
) -> Response:
    """The task's policy snapshot; ETag is its quoted policy version."""
    config = task_config(request, task)
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    snapshot = await run_in_threadpool(
        state.routing.snapshot, state.store, project, config, state.clock()
    )
    etag = f'"{snapshot.policy_version}"'
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(snapshot.to_json(), media_type="application/json", headers={"ETag": etag})


@router.post("/{task}/choose", response_model=ChoiceBody, responses=errors(*WITH_BODY, 404))
async def post_choose(
    task: str,
    body: ChooseBody,
    request: Request,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> ChoiceBody:
    """Choose an arm for a request (for apps without the Python SDK); the decision is
    recorded, so outcomes may name its decision id."""
    config = task_config(request, task)
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    now = state.clock()
    snapshot = await run_in_threadpool(state.routing.snapshot, state.store, project, config, now)
    choice = choose(snapshot, body.context, session_id=body.session_id)
    decision = Decision(
        decision_id=choice.decision_id,
        project=project,
        task=task,
        arm=choice.arm,
        probability=choice.probability,
        policy_version=choice.policy_version,
        slice=choice.slice_key,
        decided_at=now,
        context=dict(body.context),
        session_id=body.session_id,
        goal_id=body.goal_id,
        trace_id=body.trace_id.lower() if body.trace_id else None,
    )
    await run_in_threadpool(_record_decision, state.store, decision)
    arm = next(a for a in config.arms if a.name == choice.arm)
    return ChoiceBody(
        task=task,
        arm=choice.arm,
        probability=choice.probability,
        slice=choice.slice_key,
        policy_version=choice.policy_version,
        decision_id=choice.decision_id,
        arm_config=ArmConfigBody(
            model=arm.model, prompt_version=arm.prompt_version, params=dict(arm.params)
        ),
    )


def _record_decision(store: Store, decision: Decision) -> None:
    with store.writing() as conn:
        record_decisions(conn, [decision])


@router.post("/outcomes", status_code=202, response_model=Accepted, responses=errors(*WITH_BODY))
async def post_outcomes(
    batch: OutcomeBatch,
    request: Request,
    caller: IngestCaller,
    x_liveeval_project: ProjectHeader = None,
) -> Accepted:
    """Record what decisions earned, as `outcome` signals: all are stored, or none."""
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    count = await run_in_threadpool(
        record_outcomes, state.store, project, batch.outcomes, state.clock()
    )
    return Accepted(accepted=count)


def record_outcomes(store: Store, project: str, outcomes: list[OutcomeBody], now: datetime) -> int:
    """Store each outcome as an `outcome` signal (value 1.0/0.0 for success, text the
    error, details the decision id, goal id and quality score), attached to the
    interaction of its trace when that is stored."""
    with store.writing() as conn:
        for body in outcomes:
            trace_id = body.trace_id.lower() if body.trace_id else None
            details: dict[str, Any] = {}
            if body.decision_id is not None:
                details["decision_id"] = body.decision_id
                decision = find_decision(conn, project, body.decision_id)
                trace_id = decision.trace_id if decision else None
            if body.goal_id is not None:
                details["goal_id"] = body.goal_id
            if body.quality_score is not None:
                details["quality_score"] = body.quality_score
            target = find_target(conn, project, trace_id=trace_id, response_id=None)
            signal = Signal(
                project=project,
                kind=SignalKind.OUTCOME,
                occurred_at=body.occurred_at or now,
                interaction_id=target[0] if target else None,
                trace_id=trace_id,
                value=None if body.success is None else float(body.success),
                text=body.error,
                details=details,
                idempotency_key=body.idempotency_key,
            )
            record_signal(conn, signal, now)
    return len(outcomes)


@router.get("/{task}/kills", response_model=list[KillView], responses=errors(404))
async def get_kills(
    task: str, request: Request, caller: ReadCaller, x_liveeval_project: ProjectHeader = None
) -> list[KillView]:
    """The task's active kill switches."""
    task_config(request, task)
    project = _project(request, caller, x_liveeval_project)
    store: Store = request.app.state.store

    def read() -> list[Kill]:
        with store.reading() as conn:
            return active_kills(conn, project, task)

    return [kill_view(kill) for kill in await run_in_threadpool(read)]


@router.post(
    "/{task}/kills",
    status_code=201,
    response_model=KillView,
    responses={200: {"description": "Already killed there"}, **errors(*WITH_BODY, 404)},
)
async def post_kill(
    task: str,
    body: KillBody,
    request: Request,
    response: Response,
    caller: AdminCaller,
    x_liveeval_project: ProjectHeader = None,
) -> KillView:
    """Kill an arm in a slice ("*": everywhere): it gets no traffic from the next
    snapshot on."""
    config = task_config(request, task)
    check_kill(config, body.arm, body.slice)
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    now = state.clock()

    def write() -> tuple[Kill, bool]:
        with state.store.writing() as conn:
            return add_kill(conn, project, task, body.arm, body.slice, body.reason, now)

    kill, new = await run_in_threadpool(write)
    state.routing.forget(project, task)
    response.status_code = 201 if new else 200
    return kill_view(kill)


@router.delete("/{task}/kills/{arm}", status_code=204, responses=errors(404))
async def delete_kill(
    task: str,
    arm: str,
    request: Request,
    caller: AdminCaller,
    slice: Annotated[str, Query(min_length=1, max_length=1000)] = TASK,
    x_liveeval_project: ProjectHeader = None,
) -> Response:
    """Lift the kill switch of `arm` in `slice`."""
    config = task_config(request, task)
    check_kill(config, arm, slice)
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    now = state.clock()

    def write() -> int:
        with state.store.writing() as conn:
            return lift_kill(conn, project, task, arm, slice, now)

    if not await run_in_threadpool(write):
        raise HTTPException(404, f"arm {arm!r} is not killed in slice {slice!r} of {task!r}")
    state.routing.forget(project, task)
    return Response(status_code=204)


@router.get("/{task}/insights", responses=errors(404))
async def get_insights(
    task: str,
    request: Request,
    caller: ReadCaller,
    lookback: str = "48h",
    baseline: str = "168h",
    x_liveeval_project: ProjectHeader = None,
) -> dict[str, Any]:
    """Each arm's reward in the last `lookback` against the `baseline` before it, per
    slice, degraded arms, and a recommendation."""
    config = task_config(request, task)
    windows = []
    for name, value in (("lookback", lookback), ("baseline", baseline)):
        try:
            windows.append(parse_window(value, maximum=MAX_WINDOW))
        except ValueError as exc:
            raise HTTPException(422, f"{name}: {exc}") from None
    project = _project(request, caller, x_liveeval_project)
    state = request.app.state
    now = state.clock()

    def read() -> Insights:
        with state.store.reading() as conn:
            return stored_insights(conn, project, config, now, windows[0], windows[1])

    return insights_json(await run_in_threadpool(read))


def check_kill(config: TaskConfig, arm: str, slice_key: str) -> None:
    """422 unless `arm` is the task's and `slice_key` one of its slices."""
    problem = kill_problem(config, arm, slice_key)
    if problem:
        raise HTTPException(422, problem)


def kill_problem(config: TaskConfig, arm: str, slice_key: str) -> str | None:
    """Why `arm` in `slice_key` cannot be killed in the task; None when it can."""
    if arm not in config.arm_names:
        return f"{config.task!r} has no arm {arm!r}; arms: {', '.join(config.arm_names)}"
    problem = slice_problem(config.slices, slice_key)
    return f"slice {slice_key!r}: {problem}" if problem else None


def slice_problem(dimensions: tuple[str, ...], key: str) -> str | None:
    """Why `key` is not a slice key of a task with these dimensions ("*", "language=de",
    "language=de,segment=pro" for ("language", "segment")); None when it is."""
    if key == TASK:
        return None
    parts = key.split(",")
    if len(parts) > len(dimensions):
        return f"the task's slices have at most {len(dimensions)} parts: {list(dimensions)}"
    for part, dimension in zip(parts, dimensions, strict=False):
        name, equals, value = part.partition("=")
        if not equals or not value:
            return f"{part!r} is not 'key=value'"
        if name != dimension:
            return f"expected {dimension!r} where {name!r} is (slices: {list(dimensions)})"
    return None


def kill_view(kill: Kill) -> KillView:
    return KillView(
        kill_id=kill.kill_id,
        task=kill.task,
        arm=kill.arm,
        slice=kill.slice,
        reason=kill.reason,
        killed_at=kill.killed_at.isoformat(),
        lifted_at=kill.lifted_at.isoformat() if kill.lifted_at else None,
    )


def insights_json(found: Insights) -> dict[str, Any]:
    return {
        "task": found.task,
        "window": [t.isoformat() for t in found.window],
        "baseline": [t.isoformat() for t in found.baseline],
        "arms": [_finite(asdict(item)) for item in found.arms],
        "degraded": [[item.arm, item.slice_key] for item in found.degraded],
        "recommendation": found.recommendation,
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: an interval without enough outcomes is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
