"""Experiments over HTTP: two variants of the live product compared on stored traffic."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from liveeval.config.sampling import parse_window
from liveeval.gate.divergence import divergence_now, divergence_to_dict
from liveeval.gate.online_ab import COMPARABLE, check_request, compare_online
from liveeval.server.auth import ReadCaller
from liveeval.server.params import TimeBound
from liveeval.server.responses import ANY_ROUTE, errors

router = APIRouter(tags=["experiments"], responses=errors(*ANY_ROUTE))
MAX_WINDOW = timedelta(days=90)
Str = Annotated[str | None, Query(max_length=200)]
Variant = Annotated[str, Query(min_length=1, max_length=200)]


@router.get("/api/v1/experiments/online")
async def online(
    request: Request,
    caller: ReadCaller,
    a: Variant,
    b: Variant,
    project: Str = None,
    dimension: Annotated[str, Query(max_length=50)] = "prompt_version",
    window: Annotated[str, Query(max_length=10)] = "7d",
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    rubric: Str = None,
) -> dict[str, Any]:
    """Variant B against A on live traffic: judged scores (Welch, Mann–Whitney), signal
    and error rates, latency and cost, and warnings when their input mix differs.

    The period is `since`..`until` when given (until defaults to now, since to until
    minus `window`), else the last `window`."""
    app = request.app
    name = caller.project_for(project, app.state.settings.default_project)
    if dimension not in COMPARABLE:
        raise HTTPException(
            422, f"dimension must be one of {', '.join(COMPARABLE)}, not {dimension!r}"
        )
    try:
        span = parse_window(window, maximum=MAX_WINDOW)
    except ValueError as exc:
        raise HTTPException(422, f"window: {exc}") from None
    end = until or app.state.clock()
    start = since or end - span
    try:
        check_request(dimension, a, b, start, end)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None

    def compute() -> dict[str, Any]:
        with app.state.store.reading() as conn:
            found = compare_online(conn, name, dimension, a, b, start, end, rubric)
        return found.to_dict()

    return await run_in_threadpool(compute)


@router.get("/api/v1/experiments/divergence")
async def divergence(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    window: Annotated[str, Query(max_length=10)] = "90d",
    rubric: Str = None,
) -> dict[str, Any]:
    """Per release (prompt version): the golden set's pass rate in regression runs next to
    the live judged mean, and whether the gap is persistent."""
    app = request.app
    name = caller.project_for(project, app.state.settings.default_project)
    try:
        span = parse_window(window, maximum=timedelta(days=365))
    except ValueError as exc:
        raise HTTPException(422, f"window: {exc}") from None
    now = app.state.clock()

    def compute() -> dict[str, Any]:
        with app.state.store.reading() as conn:
            found = divergence_now(conn, name, now - span, now, rubric)
        return divergence_to_dict(found)

    return await run_in_threadpool(compute)
