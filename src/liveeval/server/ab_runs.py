"""Offline A/B runs over HTTP: `liveeval ab --server URL` posts each run's report here (an
ingest key is enough, as in CI), so the Experiments page lists the comparisons and the
Judge page the pairwise judge's position bias."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from liveeval.model.case import Grader
from liveeval.server.auth import IngestCaller, ReadCaller
from liveeval.server.responses import ANY_ROUTE, WITH_BODY, errors
from liveeval.server.runs import CaseResultBody
from liveeval.store.ab_runs import list_ab_runs, save_ab_run

router = APIRouter(
    prefix="/api/v1/experiments/ab", tags=["experiments"], responses=errors(*ANY_ROUTE)
)
Text = Annotated[str, Field(max_length=2_000)]
Probability = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class McNemarBody(_Strict):
    b01: int = Field(ge=0)
    b10: int = Field(ge=0)
    statistic: float | None
    p_value: Probability
    exact: bool


class PairedBody(_Strict):
    """`stats.paired.PairedResult` as `liveeval ab --json` writes it."""

    n: int = Field(ge=2)
    mean_a: float
    mean_b: float
    mean_difference: float
    ci: tuple[float | None, float | None]
    confidence: float = Field(gt=0, lt=1)
    t_statistic: float | None
    t_p_value: Probability | None
    wilcoxon_p_value: Probability | None
    cohens_dz: float | None
    mcnemar: McNemarBody | None
    min_effect: float = Field(ge=0)
    min_effect_basis: Text | None = None  # where the default came from; None: the user's
    alpha: float = Field(gt=0, lt=1)
    verdict: Literal["b_wins", "a_wins", "below_min_effect", "no_difference"]
    reason: Text
    needed_n: int | None = Field(ge=0)


class FlipRateBody(_Strict):
    flips: int = Field(ge=0)
    n: int = Field(ge=1)
    rate: Probability | None

    @model_validator(mode="after")
    def _flips_within_pairs(self) -> FlipRateBody:
        if self.flips > self.n:
            raise ValueError(f"flips ({self.flips}) exceed the pairs judged ({self.n})")
        return self


class SidesBody(_Strict):
    a: list[CaseResultBody] = Field(max_length=100_000)
    b: list[CaseResultBody] = Field(max_length=100_000)


class GraderComparisonBody(_Strict):
    """The comparison of the cases of one grader family (a mixed golden set has several)."""

    grader: str = Field(max_length=300)
    cases: int = Field(ge=0)
    pairs: int = Field(ge=0)
    scale: tuple[float, float]
    comparison: PairedBody | None


class AbRunBody(_Strict):
    """One run as `liveeval ab --json` writes it."""

    a: Text
    b: Text
    snapshot: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    started_at: AwareDatetime
    finished_at: AwareDatetime
    git_commit: str | None = Field(default=None, max_length=64)
    grader: Grader | None = None  # the one grader of the run; None: each case's own
    pairwise_rubric: str | None = Field(default=None, max_length=200)
    pairs: int = Field(ge=0)
    excluded: list[Annotated[str, Field(max_length=200)]] = Field(max_length=100_000)
    scale: tuple[float, float]
    comparison: PairedBody | None
    by_grader: list[GraderComparisonBody] = Field(default=[], max_length=1000)
    pairwise: PairedBody | None = None
    pairwise_errors: list[Annotated[str, Field(max_length=10_000)]] = Field(
        default=[], max_length=100_000
    )
    flip_rate: FlipRateBody | None = None
    results: SidesBody

    @model_validator(mode="after")
    def _sides_add_up(self) -> AbRunBody:
        ids_a = [r.id for r in self.results.a]
        ids_b = [r.id for r in self.results.b]
        if ids_a != ids_b:
            raise ValueError("results.a and results.b must list the same cases in one order")
        if self.pairs + len(self.excluded) > len(ids_a):
            raise ValueError(
                f"pairs ({self.pairs}) and excluded ({len(self.excluded)}) exceed the "
                f"cases ({len(ids_a)})"
            )
        if self.comparison is not None and self.comparison.n != self.pairs:
            raise ValueError(f"comparison.n ({self.comparison.n}) is not the pairs ({self.pairs})")
        if self.flip_rate is not None and self.pairwise_rubric is None:
            raise ValueError("a flip_rate needs the pairwise_rubric that was judged")
        return self


@router.post("", status_code=201, responses=errors(*WITH_BODY))
async def post_ab_run(
    request: Request,
    caller: IngestCaller,
    body: AbRunBody,
    project: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Store one run; answers its id."""
    name = caller.project_for(project, request.app.state.settings.default_project)
    report = body.model_dump(mode="json", by_alias=True)
    now = request.app.state.clock()

    def work() -> int:
        with request.app.state.store.writing() as conn:
            return save_ab_run(conn, name, report, now)

    return {"run_id": await run_in_threadpool(work), "project": name}


@router.get("")
async def get_ab_runs(
    request: Request,
    caller: ReadCaller,
    project: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    report: bool = False,
) -> list[dict[str, Any]]:
    """Runs newest first: variants, grader, pairs, means, B − A with its interval, the
    primary p-value, the verdict and the pairwise flip rate; `report=true` adds the whole
    report."""
    name = caller.project_for(project, request.app.state.settings.default_project)

    def work() -> list[dict[str, Any]]:
        with request.app.state.store.reading() as conn:
            return list_ab_runs(conn, name, limit, with_report=report)

    return await run_in_threadpool(work)
