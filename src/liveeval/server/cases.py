"""The golden set over HTTP: list, show (every version), export and import JSONL,
retire, and the JSON Schema of a case line."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from liveeval.flywheel.case_file import (
    CaseFileError,
    case_document,
    case_json_schema,
    case_line,
    iter_case_lines,
)
from liveeval.flywheel.golden import (
    CaseConflictError,
    UnknownCaseError,
    apply_import,
    plan_import,
    retire_case,
)
from liveeval.model.case import CASE_ID_PATTERN, FrozenCaseError, snapshot_hash
from liveeval.server.auth import AdminCaller, ReadCaller
from liveeval.server.body import BadEncoding, BodyTooLarge, UnsupportedEncoding, read_body
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors, ndjson
from liveeval.store import cases as stored

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=errors(*ANY_ROUTE))
Str = Annotated[str | None, Query(max_length=200)]
CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN)]
SNAPSHOT_HEADER = "X-Liveeval-Snapshot"


class RetireBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)
    reviewer: str | None = Field(default=None, max_length=200)


@router.get("/schema")
async def schema() -> dict[str, Any]:
    """The JSON Schema of one line of a golden-set JSONL file."""
    return case_json_schema()


@router.get("")
async def list_cases(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    tag: Annotated[list[str] | None, Query()] = None,
    include_retired: bool = False,
) -> dict[str, Any]:
    """The newest version of each case, and the snapshot hash of the active ones."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def work() -> dict[str, Any]:
        with request.app.state.store.reading() as conn:
            found = stored.latest_cases(conn, name, include_retired=include_retired, tags=tag or ())
        return {"snapshot": snapshot_hash(found), "cases": [case_document(c) for c in found]}

    return await run_in_threadpool(work)


@router.get("/export", response_class=Response, responses=ndjson("One case a line."))
async def export(
    request: Request,
    caller: ReadCaller,
    project: Str = None,
    tag: Annotated[list[str] | None, Query()] = None,
    include_retired: bool = False,
    all_versions: bool = False,
) -> Response:
    """JSONL, one case a line; the snapshot hash of the active cases in a header."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def work() -> tuple[bytes, str]:
        with request.app.state.store.reading() as conn:
            latest = stored.latest_cases(
                conn, name, include_retired=include_retired, tags=tag or ()
            )
            found = stored.all_versions(conn, name) if all_versions else latest
        return b"".join(case_line(c) for c in found), snapshot_hash(latest)

    body, snapshot = await run_in_threadpool(work)
    return Response(body, media_type="application/x-ndjson", headers={SNAPSHOT_HEADER: snapshot})


@router.post("/import", responses=errors(*WITH_BODY, 409))
async def import_cases(
    request: Request, caller: AdminCaller, project: Str = None, dry_run: bool = False
) -> dict[str, Any]:
    """Import JSONL: all lines or none. Says per outcome how many (added, new version,
    unchanged, retired)."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    try:
        raw = await read_body(request, request.app.state.settings.max_body_bytes)
    except BodyTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except (BadEncoding, UnsupportedEncoding) as exc:
        raise HTTPException(415, str(exc)) from None

    def work() -> dict[str, Any]:
        incoming = list(iter_case_lines(raw.splitlines(), "body"))
        with request.app.state.store.writing() as conn:
            plan = plan_import(conn, name, incoming)
            if not dry_run:
                apply_import(conn, name, plan)
            latest = stored.latest_cases(conn, name)
        return {"dry_run": dry_run, **dict(plan.outcome), "snapshot": snapshot_hash(latest)}

    try:
        return await run_in_threadpool(work)
    except CaseFileError as exc:
        raise HTTPException(422, str(exc)) from None
    except (CaseConflictError, FrozenCaseError) as exc:
        raise HTTPException(409, str(exc)) from None


@router.get("/{case_id}", responses=errors(404))
async def show(
    request: Request, caller: ReadCaller, case_id: CaseId, project: Str = None
) -> dict[str, Any]:
    """Every version of one case, oldest first."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def work() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return [case_document(c) for c in stored.case_versions(conn, name, case_id)]

    versions = await run_in_threadpool(work)
    if not versions:
        raise HTTPException(404, f"case {case_id} does not exist")
    return {"id": case_id, "versions": versions}


@router.post("/{case_id}/retire", responses=errors(*WITH_BODY, 404, 409))
async def retire(
    request: Request, caller: AdminCaller, case_id: CaseId, body: RetireBody, project: Str = None
) -> dict[str, Any]:
    """Retire a case with a reason: it stays in history, out of future runs."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    at = request.app.state.clock()
    actor = caller.actor(body.reviewer)

    def work() -> dict[str, Any]:
        with request.app.state.store.writing() as conn:
            return case_document(retire_case(conn, name, case_id, actor, body.reason, at))

    try:
        return await run_in_threadpool(work)
    except UnknownCaseError:
        raise HTTPException(404, f"case {case_id} does not exist") from None
    except CaseConflictError as exc:
        raise HTTPException(409, str(exc)) from None
