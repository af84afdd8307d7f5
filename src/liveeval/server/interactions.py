"""GET /api/v1/interactions: list with filters and cursors, one with its trace, counts."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from liveeval.model import SignalKind
from liveeval.server.auth import ReadCaller
from liveeval.server.interaction_export import (
    MEDIA_TYPES,
    ExportFormat,
    export_lines,
    iter_interactions,
)
from liveeval.server.interaction_views import (
    InteractionDetail,
    InteractionPage,
    InteractionView,
    SliceCount,
)
from liveeval.server.params import MAX_ID, ItemId, TimeBound
from liveeval.server.responses import ANY_ROUTE, errors
from liveeval.store.interactions import (
    SLICE_COLUMNS,
    InteractionFilter,
    count_interactions,
    get_interaction,
    list_interactions,
)

router = APIRouter(prefix="/api/v1", tags=["interactions"], responses=errors(*ANY_ROUTE))


def encode_cursor(start_at: datetime, interaction_id: int) -> str:
    return base64.urlsafe_b64encode(f"{start_at.isoformat()}|{interaction_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        start, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        start_at, interaction_id = datetime.fromisoformat(start), int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        start_at, interaction_id = None, 0
    if start_at is None or start_at.tzinfo is None or not 0 <= interaction_id <= MAX_ID:
        raise HTTPException(422, f"cursor {cursor!r} is not one this API returned")
    return start_at, interaction_id


Str = Annotated[str | None, Query(max_length=200)]


def interaction_filter(
    caller: ReadCaller,
    request: Request,
    project: Str = None,
    since: TimeBound | None = None,
    until: TimeBound | None = None,
    model: Annotated[str | None, Query(max_length=200, description="Requested or served.")] = None,
    prompt_version: Str = None,
    route: Str = None,
    session_id: Str = None,
    user_id: Annotated[
        str | None, Query(max_length=200, description="As stored (hashed with hash_user_ids).")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Text in the input or output, any case (a scan of the time window).",
        ),
    ] = None,
    trace_id: Str = None,
    status: Str = None,
    has_signal: SignalKind | None = None,
    segment: Str = None,
    language: Annotated[
        str | None, Query(max_length=16, description="The input's language (ISO 639-1).")
    ] = None,
    max_score: Annotated[
        float | None,
        Query(allow_inf_nan=False, description="Only those with a judge score at most this."),
    ] = None,
) -> InteractionFilter:
    """The query parameters every interaction query takes, as one filter."""
    return InteractionFilter(
        project=caller.project_for(project, request.app.state.settings.default_project),
        since=since,
        until=until,
        model=model,
        prompt_version=prompt_version,
        route=route,
        session_id=session_id,
        user_id=user_id,
        text=q or None,
        trace_id=trace_id.lower() if trace_id else None,
        status=status,
        has_signal=has_signal.value if has_signal else None,
        segment=segment,
        language=language,
        max_score=max_score,
    )


Filter = Annotated[InteractionFilter, Depends(interaction_filter)]


@router.get("/interactions", response_model=InteractionPage)
async def list_(
    request: Request,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Str = None,
) -> InteractionPage:
    """Interactions, newest first; pass `next_cursor` back as `cursor` for the next page."""
    after = decode_cursor(cursor) if cursor else None

    def query() -> InteractionPage:
        with request.app.state.store.reading() as conn:
            rows = list_interactions(conn, f, limit=limit + 1, after=after)
        page, more = rows[:limit], len(rows) > limit
        last = page[-1] if page else None
        return InteractionPage(
            items=[InteractionView.of(i) for i in page],
            next_cursor=encode_cursor(last.start_at, last.interaction_id or 0)
            if more and last
            else None,
        )

    return await run_in_threadpool(query)


@router.get(
    "/interactions/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
async def export(
    request: Request,
    f: Filter,
    format: Annotated[ExportFormat, Query(description="jsonl or csv")] = "jsonl",
    limit: Annotated[int | None, Query(ge=1, le=10_000_000)] = None,
) -> StreamingResponse:
    """Every interaction the filters match, newest first, as a JSON-lines or CSV file."""
    lines = export_lines(iter_interactions(request.app.state.store, f, limit), format)
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"interactions-{f.project}.{format}")
    return StreamingResponse(
        (line.encode("utf-8") for line in lines),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/interactions/counts", response_model=list[SliceCount])
async def counts(
    request: Request,
    by: Annotated[str, Query(description=f"Comma-separated: {', '.join(SLICE_COLUMNS)}")],
    f: Filter,
) -> list[SliceCount]:
    """Interaction counts per slice, with errors, mean latency and cost."""
    columns = [name.strip() for name in by.split(",") if name.strip()]
    unknown = [name for name in columns if name not in SLICE_COLUMNS]
    if not columns or unknown:
        raise HTTPException(
            422, f"by: unknown slice {unknown or by!r}; choose from {', '.join(SLICE_COLUMNS)}"
        )

    def query() -> list[SliceCount]:
        with request.app.state.store.reading() as conn:
            rows = count_interactions(conn, f, columns)
        return [
            SliceCount(
                slice={name: row[name] for name in columns},
                count=row["count"],
                errors=row["errors"] or 0,
                mean_latency_ms=row["mean_latency_ms"],
                cost_usd=row["cost_usd"],
            )
            for row in rows
        ]

    return await run_in_threadpool(query)


@router.get(
    "/interactions/{interaction_id}", response_model=InteractionDetail, responses=errors(404)
)
async def show(request: Request, caller: ReadCaller, interaction_id: ItemId) -> InteractionDetail:
    """One interaction with every span of its trace, its signals and scores, and why it
    was or was not judged."""

    def query() -> InteractionDetail:
        with request.app.state.store.reading() as conn:
            interaction = get_interaction(conn, interaction_id)
            if interaction is None:
                raise HTTPException(404, f"interaction {interaction_id} does not exist")
            caller.check_project(interaction.project)
            return InteractionDetail.read(conn, interaction)

    return await run_in_threadpool(query)
