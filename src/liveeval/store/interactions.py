"""Interactions: written as upserts at ingest, read with filters and cursors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from liveeval.model import Interaction, Message, RetrievedDocument, TokenUsage, ToolCall
from liveeval.store.dialect import (
    bulk_insert_returning,
    clip,
    db_json,
    db_time,
    string_widths,
)
from liveeval.store.driver_rows import columns_of, fetch_all, ids, in_ids
from liveeval.store.schema import interaction_features, interactions, scores, signals
from liveeval.store.slice_hours import slice_conditions, slice_hours

KEY = ("project", "trace_id", "span_id")
SLICE_COLUMNS = (
    "model_requested",
    "model_served",
    "provider",
    "prompt_version",
    "route",
    "segment",
    "operation",
    "status",
)


INTERACTION_COLUMNS = (
    "project",
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "convention",
    "operation",
    "start_at",
    "end_at",
    "latency_ms",
    "status",
    "error",
    "provider",
    "model_requested",
    "model_served",
    "response_id",
    "finish_reasons",
    "prompt_version",
    "route",
    "segment",
    "session_id",
    "user_id",
    "input_text",
    "input_messages",
    "output_text",
    "output_messages",
    "retrieved_context",
    "tool_calls",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
    "cost_usd",
    "cost_source",
    "tags",
    "metadata",
    "received_at",
    "content_purged_at",  # always NULL: a re-assembled interaction has its content again
)
WIDTHS = string_widths(interactions, INTERACTION_COLUMNS)
# A re-assembled interaction replaces every field but its key and first arrival.
UPDATED_COLUMNS = tuple(c for c in INTERACTION_COLUMNS if c not in (*KEY, "received_at"))


def upsert_interactions(
    conn: sa.Connection, batch: Sequence[Interaction], received_at: datetime
) -> dict[tuple[str, str], int]:
    """Insert new interactions; one re-assembled from more spans replaces the old fields.

    Returns (trace_id, span_id) → interaction_id for every interaction of the batch.
    """
    if not batch:
        return {}
    time = db_time(conn)
    received = time(received_at)
    # one row per key, the last one winning as it would row by row: PostgreSQL refuses
    # to update a row twice in one statement
    latest = {(i.project, i.trace_id, i.span_id): i for i in batch}
    rows = [clip(interaction_row(i, received, time), WIDTHS) for i in latest.values()]
    written = bulk_insert_returning(
        conn,
        interactions,
        INTERACTION_COLUMNS,
        rows,
        KEY,
        ("trace_id", "span_id", "interaction_id"),
        update=UPDATED_COLUMNS,
    )
    return {(trace_id, span_id): iid for trace_id, span_id, iid in written}


def interaction_row(
    i: Interaction, received_at: Any, time: Callable[[datetime], Any]
) -> tuple[Any, ...]:
    """The row in INTERACTION_COLUMNS order, in the driver's types."""
    usage = i.usage
    return (
        i.project,
        i.trace_id,
        i.span_id,
        i.parent_span_id,
        i.name,
        i.convention,
        i.operation,
        time(i.start_at),
        time(i.end_at),
        i.latency_ms,
        i.status,
        i.error,
        i.provider,
        i.model_requested,
        i.model_served,
        i.response_id,
        db_json(i.finish_reasons),
        i.prompt_version,
        i.route,
        i.segment,
        i.session_id,
        i.user_id,
        i.input_text,
        db_json(stored_messages(i.input_messages, i.input_text)),
        i.output_text,
        db_json(stored_messages(i.output_messages, i.output_text)),
        db_json([document_json(d) for d in i.retrieved_context]),
        db_json([tool_call_json(t) for t in i.tool_calls]),
        usage.input,
        usage.output,
        usage.total,
        usage.cache_read,
        usage.cache_creation,
        usage.reasoning,
        i.cost_usd,
        i.cost_source,
        db_json(i.tags),
        db_json(i.metadata),
        received_at,
        None,
    )


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [tool_call_json(t) for t in message.tool_calls]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    if message.name:
        out["name"] = message.name
    if message.finish_reason:
        out["finish_reason"] = message.finish_reason
    return out


def stored_messages(messages: Sequence[Message], text: str | None) -> list[dict[str, Any]]:
    """The messages as stored beside their text: a message whose content is the text (the
    usual single prompt or completion) is stored without it, so the text is stored once;
    reading it back puts the text in again (see `_message`). `message_json` always writes
    "content", so rows stored before this read as they were written."""
    out = []
    for message in messages:
        data = message_json(message)
        if text is not None and message.content == text:
            del data["content"]
        out.append(data)
    return out


def document_json(document: RetrievedDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "content": document.content,
        "score": document.score,
        "metadata": document.metadata,
    }


def interaction_from_row(row: Mapping[Any, Any]) -> Interaction:
    return Interaction(
        interaction_id=row["interaction_id"],
        project=row["project"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["name"],
        convention=row["convention"],
        operation=row["operation"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        latency_ms=row["latency_ms"],
        status=row["status"],
        error=row["error"],
        provider=row["provider"],
        model_requested=row["model_requested"],
        model_served=row["model_served"],
        response_id=row["response_id"],
        finish_reasons=tuple(row["finish_reasons"] or ()),
        prompt_version=row["prompt_version"],
        route=row["route"],
        segment=row["segment"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        input_text=row["input_text"],
        input_messages=tuple(_message(m, row["input_text"]) for m in row["input_messages"] or ()),
        output_text=row["output_text"],
        output_messages=tuple(
            _message(m, row["output_text"]) for m in row["output_messages"] or ()
        ),
        retrieved_context=tuple(RetrievedDocument(**d) for d in row["retrieved_context"] or ()),
        tool_calls=tuple(ToolCall(**t) for t in row["tool_calls"] or ()),
        usage=TokenUsage(
            input=row["input_tokens"],
            output=row["output_tokens"],
            total=row["total_tokens"],
            cache_read=row["cache_read_tokens"],
            cache_creation=row["cache_creation_tokens"],
            reasoning=row["reasoning_tokens"],
        ),
        cost_usd=row["cost_usd"],
        cost_source=row["cost_source"],
        tags=tuple(row["tags"] or ()),
        metadata=row["metadata"] or {},
    )


def _message(data: dict[str, Any], text: str | None) -> Message:
    return Message(
        role=data["role"],
        content=data.get("content", text),
        tool_calls=tuple(ToolCall(**t) for t in data.get("tool_calls", ())),
        tool_call_id=data.get("tool_call_id"),
        name=data.get("name"),
        finish_reason=data.get("finish_reason"),
    )


@dataclass(frozen=True, slots=True)
class InteractionFilter:
    project: str
    since: datetime | None = None
    until: datetime | None = None
    model: str | None = None  # requested or served
    prompt_version: str | None = None
    route: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    status: str | None = None
    has_signal: str | None = None  # a SignalKind value
    segment: str | None = None
    language: str | None = None  # the input's, as the evaluator detected it
    max_score: float | None = None  # a judge score (any rubric) at most this
    user_id: str | None = None  # as stored (hashed when hash_user_ids is on)
    text: str | None = None  # in the input or output text, any case: a scan, see `_contains`


def _contains(column: sa.ColumnElement[Any], text: str) -> sa.ColumnElement[bool]:
    """`text` anywhere in `column`, ignoring case (ILIKE on PostgreSQL, LIKE on SQLite,
    which ignores ASCII case). No index serves it: it scans the project's rows in the
    time window, so the filters beside it (time, model, ...) keep it fast."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _conditions(f: InteractionFilter) -> list[sa.ColumnElement[bool]]:
    c = interactions.c
    where: list[sa.ColumnElement[bool]] = [c.project == f.project]
    if f.since is not None:
        where.append(c.start_at >= f.since)
    if f.until is not None:
        where.append(c.start_at < f.until)
    if f.model is not None:
        where.append(sa.or_(c.model_requested == f.model, c.model_served == f.model))
    for column, value in (
        (c.prompt_version, f.prompt_version),
        (c.route, f.route),
        (c.session_id, f.session_id),
        (c.user_id, f.user_id),
        (c.trace_id, f.trace_id),
        (c.status, f.status),
        (c.segment, f.segment),
    ):
        if value is not None:
            where.append(column == value)
    if f.text:
        where.append(sa.or_(_contains(c.input_text, f.text), _contains(c.output_text, f.text)))
    if f.language is not None:
        where.append(
            sa.exists().where(
                interaction_features.c.interaction_id == c.interaction_id,
                interaction_features.c.language == f.language,
            )
        )
    if f.has_signal is not None:
        where.append(
            sa.exists().where(
                signals.c.interaction_id == c.interaction_id, signals.c.kind == f.has_signal
            )
        )
    if f.max_score is not None:
        where.append(
            sa.exists().where(
                scores.c.interaction_id == c.interaction_id,
                scores.c.kind == "judge",
                scores.c.status == "ok",
                scores.c.value <= f.max_score,
            )
        )
    return where


def list_interactions(
    conn: sa.Connection,
    f: InteractionFilter,
    *,
    limit: int,
    after: tuple[datetime, int] | None = None,
) -> list[Interaction]:
    """Newest first. `after` is the (start_at, interaction_id) of the last row already seen."""
    c = interactions.c
    where = _conditions(f)
    if after is not None:
        start_at, interaction_id = after
        where.append(
            sa.or_(
                c.start_at < start_at,
                sa.and_(c.start_at == start_at, c.interaction_id < interaction_id),
            )
        )
    dimensions = slice_conditions(f.model, f.prompt_version, f.route, f.segment, f.language)
    hours = slice_hours(
        conn,
        f.project,
        dimensions,
        f.since,
        f.until,
        by_language=f.language is not None,
        max_score=f.max_score,
    )
    if hours is None:
        return _newest(conn, where, limit)
    # The rows the rollups have not read yet, then the slice's hours newest first: once
    # those hours gave a page, older hours cannot reach it.
    found: dict[int | None, Interaction] = {}
    if hours.uncovered:
        late = _newest(conn, [*where, c.interaction_id.in_(hours.uncovered)], limit)
        found.update((i.interaction_id, i) for i in late)
    taken = 0
    for low, high in hours.ranges:
        page = _newest(conn, [*where, c.start_at >= low, c.start_at < high], limit)
        found.update((i.interaction_id, i) for i in page)
        taken += len(page)
        if taken >= limit:
            break
    newest_first = sorted(
        found.values(), key=lambda i: (i.start_at, i.interaction_id or 0), reverse=True
    )
    return newest_first[:limit]


def _newest(
    conn: sa.Connection, where: list[sa.ColumnElement[bool]], limit: int
) -> list[Interaction]:
    c = interactions.c
    query = (
        sa.select(interactions)
        .where(*where)
        .order_by(c.start_at.desc(), c.interaction_id.desc())
        .limit(limit)
    )
    return [interaction_from_row(row) for row in conn.execute(query).mappings()]


def project_with_data(conn: sa.Connection, default: str, known: Sequence[str]) -> str:
    """`default` when it has interactions, else the project with the newest one (`known`
    lists the projects to look at; when empty, every project is), else `default`."""
    c = interactions.c

    def newest(project: str) -> datetime | None:
        query = sa.select(sa.func.max(c.start_at)).where(c.project == project)
        found: datetime | None = conn.execute(query).scalar()
        return found

    if newest(default) is not None:
        return default
    if not known:
        query = sa.select(c.project).order_by(c.start_at.desc()).limit(1)
        return conn.execute(query).scalar() or default
    latest = [(at, project) for project in known if (at := newest(project)) is not None]
    return max(latest)[1] if latest else default


def get_interaction(conn: sa.Connection, interaction_id: int) -> Interaction | None:
    query = sa.select(interactions).where(interactions.c.interaction_id == interaction_id)
    row = conn.execute(query).mappings().first()
    return interaction_from_row(row) if row else None


def get_interactions(conn: sa.Connection, interaction_ids: Sequence[int]) -> dict[int, Interaction]:
    """The interactions with these ids (those that exist), by id.

    The evaluator's read of every batch: plain SQL through the driver's cursor, each
    column decoded once by its type (store/driver_rows.py), instead of SQLAlchemy's
    statement compiling and per-value result processing (45 -> ~30 µs an interaction on
    SQLite). The ids travel as one array on PostgreSQL (`= ANY`, planned as the IN list
    was, with one statement text whatever the batch's size).
    """
    if not interaction_ids:
        return {}
    wanted = list(interaction_ids)
    dialect = conn.dialect.name
    columns = columns_of(interactions, dialect)
    sql = (
        f"SELECT {', '.join(columns.names)} FROM interactions "
        f"WHERE interaction_id {in_ids(dialect, len(wanted))}"
    )
    found = {}
    for row in fetch_all(conn, sql, ids(dialect, wanted)):
        values = columns.mapping(row)
        found[values["interaction_id"]] = interaction_from_row(values)
    return found


def count_interactions(conn: sa.Connection, f: InteractionFilter, by: Sequence[str]) -> list[dict]:
    """Interaction counts (with error count, mean latency and total cost) per slice."""
    unknown = [name for name in by if name not in SLICE_COLUMNS]
    if unknown:
        raise ValueError(f"cannot slice by {unknown}: choose from {', '.join(SLICE_COLUMNS)}")
    c = interactions.c
    columns = [c[name] for name in by]
    query = (
        sa.select(
            *columns,
            sa.func.count().label("count"),
            sa.func.sum(sa.case((c.status == "error", 1), else_=0)).label("errors"),
            sa.func.avg(c.latency_ms).label("mean_latency_ms"),
            sa.func.sum(c.cost_usd).label("cost_usd"),
        )
        .where(*_conditions(f))
        .group_by(*columns)
        .order_by(sa.func.count().desc())
    )
    # Keys as plain str: column labels come back as sqlalchemy's quoted_name (a subclass).
    return [{str(k): v for k, v in row.items()} for row in conn.execute(query).mappings()]
