"""The review queue over HTTP: failure patterns, items, and each triage step.

Reading needs a read key; every step that changes an item needs an admin key (a
read key cannot triage or promote). Each step records who (`reviewer`, and the
key that made it) and when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from liveeval.flywheel.candidates import candidate_line
from liveeval.flywheel.case_file import case_document
from liveeval.flywheel.golden import CaseConflictError
from liveeval.flywheel.review import (
    InvalidCaseError,
    ReviewError,
    UnknownItemError,
    give_score,
    item_or_error,
    promote,
    rubric_scales,
    triage,
    write_expected,
)
from liveeval.flywheel.views import event_json, group_json, item_json
from liveeval.judge.rubrics import rubrics_from_config
from liveeval.model.review import ReviewState
from liveeval.server.auth import AdminCaller, Caller, ReadCaller
from liveeval.server.params import MAX_ID, ItemId, Offset, OptionalId
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors, ndjson
from liveeval.store import review as queue
from liveeval.store.database import Store

router = APIRouter(prefix="/api/v1/review", tags=["review"], responses=errors(*ANY_ROUTE))
Str = Annotated[str | None, Query(max_length=200)]
T = TypeVar("T")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str | None = Field(default=None, max_length=200)


class TriageBody(_Body):
    state: Literal["open", "real_failure", "not_failure", "duplicate", "needs_info"]
    duplicate_of: int | None = Field(default=None, ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=10_000)


class ScoreBody(_Body):
    value: float
    rubric: str | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=10_000)


class ExpectedBody(_Body):
    expected: dict[str, Any]
    grader: dict[str, Any]
    tags: list[Annotated[str, Field(min_length=1, max_length=100)]] = []


class PromoteBody(_Body):
    case_id: str | None = Field(default=None, max_length=200)


async def _in_store(request: Request, work: Callable[[Store], T]) -> T:
    store: Store = request.app.state.store
    try:
        return await run_in_threadpool(work, store)
    except UnknownItemError as exc:
        raise HTTPException(404, str(exc)) from None
    except InvalidCaseError as exc:
        raise HTTPException(422, str(exc)) from None
    except (ReviewError, CaseConflictError, ValueError) as exc:
        raise HTTPException(409, str(exc)) from None


def _project(request: Request, caller: Caller, named: str | None) -> str:
    return caller.project_for(named, request.app.state.settings.default_project)


@router.get("/groups")
async def groups(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    state: Annotated[list[ReviewState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Failure patterns, most urgent first: each group once, with how many items it holds."""
    name = _project(request, caller, project)

    def work(store: Store) -> list[dict[str, Any]]:
        with store.reading() as conn:
            found = queue.list_groups(conn, name, state or [ReviewState.OPEN], limit)
            return [group_json(g) for g in found]

    return await _in_store(request, work)


@router.get("/items")
async def items(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    state: Annotated[list[ReviewState] | None, Query()] = None,
    group_id: OptionalId = None,
    failure: Str = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Items, highest priority first."""
    where = queue.ItemFilter(
        _project(request, caller, project), tuple(state or ()), group_id, failure, limit, offset
    )

    def work(store: Store) -> list[dict[str, Any]]:
        with store.reading() as conn:
            return [item_json(i) for i in queue.list_items(conn, where)]

    return await _in_store(request, work)


@router.get("/items/{item_id}", responses=errors(404))
async def item(request: Request, caller: ReadCaller, item_id: ItemId) -> dict[str, Any]:
    """One item with its history: who did what, when."""

    def work(store: Store) -> dict[str, Any]:
        with store.reading() as conn:
            found = item_or_error(conn, item_id, caller.project)
            return {
                **item_json(found),
                "events": [event_json(e) for e in queue.events_of(conn, item_id)],
            }

    return await _in_store(request, work)


@router.post("/items/{item_id}/triage", responses=errors(*WITH_BODY, 404, 409))
async def triage_item(
    request: Request, caller: AdminCaller, item_id: ItemId, body: TriageBody
) -> dict[str, Any]:
    """Real failure, not a failure, duplicate (of another item), needs more info, or reopen."""
    at = request.app.state.clock()
    actor = caller.actor(body.reviewer)

    def work(store: Store) -> dict[str, Any]:
        with store.writing() as conn:
            done = triage(
                conn,
                item_id,
                ReviewState(body.state),
                actor,
                at,
                duplicate_of=body.duplicate_of,
                note=body.note,
                project=caller.project,
            )
            return item_json(done)

    return await _in_store(request, work)


@router.post("/items/{item_id}/score", responses=errors(*WITH_BODY, 404, 409))
async def score_item(
    request: Request, caller: AdminCaller, item_id: ItemId, body: ScoreBody
) -> dict[str, Any]:
    """A human score on the judge's rubric (stored as a `human` score on the interaction)."""
    at = request.app.state.clock()
    actor = caller.actor(body.reviewer)
    scales = rubric_scales(rubrics_from_config(request.app.state.settings.judge))

    def work(store: Store) -> dict[str, Any]:
        with store.writing() as conn:
            done = give_score(
                conn,
                item_id,
                body.value,
                actor,
                at,
                rubric=body.rubric,
                scales=scales,
                comment=body.comment,
                project=caller.project,
            )
            return item_json(done)

    return await _in_store(request, work)


@router.post("/items/{item_id}/expected", responses=errors(*WITH_BODY, 404, 409))
async def expected_item(
    request: Request, caller: AdminCaller, item_id: ItemId, body: ExpectedBody
) -> dict[str, Any]:
    """The expected behaviour or output, and the grader that will check it."""
    at = request.app.state.clock()
    actor = caller.actor(body.reviewer)

    def work(store: Store) -> dict[str, Any]:
        with store.writing() as conn:
            done = write_expected(
                conn,
                item_id,
                body.expected,
                body.grader,
                actor,
                at,
                tags=body.tags,
                project=caller.project,
            )
            return item_json(done)

    return await _in_store(request, work)


@router.post("/items/{item_id}/promote", status_code=201, responses=errors(*WITH_BODY, 404, 409))
async def promote_item(
    request: Request, caller: AdminCaller, item_id: ItemId, body: PromoteBody
) -> dict[str, Any]:
    """Make the frozen regression case from a triaged real failure."""
    at = request.app.state.clock()
    actor = caller.actor(body.reviewer)

    def work(store: Store) -> dict[str, Any]:
        with store.writing() as conn:
            done, case = promote(
                conn, item_id, actor, at, case_id=body.case_id, project=caller.project
            )
            return {"item": item_json(done), "case": case_document(case)}

    return await _in_store(request, work)


@router.get(
    "/candidates",
    response_class=Response,
    responses=ndjson("One JSON case a line."),
)
async def candidates(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    state: Annotated[list[ReviewState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """Items not yet promoted as JSONL, to complete by hand and import as cases."""
    wanted = tuple(state or (ReviewState.REAL_FAILURE,))
    where = queue.ItemFilter(_project(request, caller, project), wanted, limit=limit)

    def work(store: Store) -> bytes:
        with store.reading() as conn:
            return b"".join(candidate_line(i) for i in queue.list_items(conn, where))

    body = await _in_store(request, work)
    return Response(body, media_type="application/x-ndjson")
