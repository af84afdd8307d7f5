"""Regression runs over HTTP: `liveeval regress --server URL` posts each run here (an
ingest key is enough, as in CI), so the history of the golden set's results is
queryable by snapshot, commit and release."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from liveeval.server.auth import IngestCaller, ReadCaller
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.store.regression_runs import list_regression_runs, save_regression_run

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=errors(*ANY_ROUTE))
Text = Annotated[str, Field(max_length=2_000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseResultBody(_Strict):
    id: str = Field(max_length=200)
    version: int = Field(ge=1)
    tags: list[Annotated[str, Field(max_length=100)]] = []
    status: Literal["passed", "failed", "error"]
    detail: str = Field(max_length=10_000)
    score: float | None = None
    output: str | None = Field(default=None, max_length=100_000)
    latency_ms: float | None = None
    error_kind: str | None = Field(default=None, max_length=50)


class RunBody(_Strict):
    target: Text
    snapshot: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    git_commit: str | None = Field(default=None, max_length=64)
    prompt_version: str | None = Field(default=None, max_length=200)
    started_at: datetime
    finished_at: datetime
    cases: int = Field(ge=0)
    passed: int = Field(ge=0)
    failed: int = Field(ge=0)
    errors: int = Field(ge=0)
    pass_rate: float | None = Field(default=None, ge=0, le=1)
    mean_score: float | None = None
    results: list[CaseResultBody] = Field(max_length=100_000)
    exit_code: int = Field(ge=0, le=2)
    verdict: list[Text] = []

    @model_validator(mode="after")
    def _counts_add_up(self) -> RunBody:
        statuses = [r.status for r in self.results]
        counted = (statuses.count("passed"), statuses.count("failed"), statuses.count("error"))
        if (self.passed, self.failed, self.errors) != counted or self.cases != len(statuses):
            raise ValueError(
                f"cases/passed/failed/errors ({self.cases}/{self.passed}/{self.failed}/"
                f"{self.errors}) do not match the results ({len(statuses)}/{counted[0]}/"
                f"{counted[1]}/{counted[2]})"
            )
        return self


@router.post("", status_code=201, responses=errors(*WITH_BODY))
async def post_run(
    request: Request,
    caller: IngestCaller,
    body: RunBody,
    project: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Store one run; answers its id."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    document = body.model_dump(mode="json")
    now = request.app.state.clock()

    def work() -> int:
        with request.app.state.store.writing() as conn:
            return save_regression_run(conn, name, document, body.exit_code == 0, now)

    return {"run_id": await run_in_threadpool(work), "project": name}


@router.get("")
async def get_runs(
    request: Request,
    caller: ReadCaller,
    project: Annotated[str | None, Query(max_length=200)] = None,
    prompt_version: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    results: bool = False,
) -> list[dict[str, Any]]:
    """Runs newest first: snapshot, commit, release, counts, pass rate, gate result."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def work() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return list_regression_runs(
                conn, name, prompt_version=prompt_version, limit=limit, with_results=results
            )

    return await run_in_threadpool(work)
