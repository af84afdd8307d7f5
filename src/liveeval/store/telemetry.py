"""Raw spans and GenAI log events, kept as received so traces can be shown and re-read."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime

import orjson
import sqlalchemy as sa

from liveeval.model import LogEvent, Span, SpanEvent
from liveeval.store.dialect import insert_ignoring_duplicates
from liveeval.store.schema import log_events, spans

SPAN_KEY = ("project", "trace_id", "span_id")


def insert_spans(
    conn: sa.Connection,
    batch: Sequence[Span],
    types: Sequence[str | None],
    received_at: datetime,
) -> None:
    """Store spans; a span already stored (a retried export) is left as it was."""
    if not batch:
        return
    rows = [
        {
            "project": span.project,
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "name": span.name,
            "kind": span.kind,
            "span_type": span_type,
            "start_at": span.start_at,
            "end_at": span.end_at,
            "status_code": span.status_code,
            "status_message": span.status_message,
            "attributes": span.attributes,
            "events": [
                {"name": e.name, "at": e.at.isoformat(), "attributes": e.attributes}
                for e in span.events
            ],
            "resource": span.resource,
            "scope": span.scope,
            "received_at": received_at,
        }
        for span, span_type in zip(batch, types, strict=True)
    ]
    conn.execute(insert_ignoring_duplicates(conn, spans, SPAN_KEY), rows)


def traces_with_spans(conn: sa.Connection, project: str, trace_ids: Collection[str]) -> set[str]:
    """Those of `trace_ids` that already have stored spans."""
    if not trace_ids:
        return set()
    query = (
        sa.select(spans.c.trace_id)
        .where(spans.c.project == project, spans.c.trace_id.in_(list(trace_ids)))
        .distinct()
    )
    return set(conn.scalars(query))


def load_spans(conn: sa.Connection, project: str, trace_ids: Collection[str]) -> list[Span]:
    if not trace_ids:
        return []
    query = (
        sa.select(spans)
        .where(spans.c.project == project, spans.c.trace_id.in_(list(trace_ids)))
        .order_by(spans.c.start_at, spans.c.span_pk)
    )
    return [span_from_row(row) for row in conn.execute(query).mappings()]


def span_from_row(row: sa.RowMapping) -> Span:
    return Span(
        project=row["project"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["name"],
        kind=row["kind"],
        start_at=row["start_at"],
        end_at=row["end_at"],
        status_code=row["status_code"],
        status_message=row["status_message"],
        attributes=row["attributes"],
        events=[
            SpanEvent(e["name"], datetime.fromisoformat(e["at"]), e["attributes"])
            for e in row["events"]
        ],
        resource=row["resource"],
        scope=row["scope"],
    )


def insert_log_events(
    conn: sa.Connection, batch: Sequence[LogEvent], received_at: datetime
) -> None:
    if not batch:
        return
    conn.execute(
        insert_ignoring_duplicates(conn, log_events, (*SPAN_KEY, "fingerprint")),
        [
            {
                "project": event.project,
                "trace_id": event.trace_id,
                "span_id": event.span_id,
                "fingerprint": _fingerprint(event),
                "name": event.name,
                "at": event.at,
                "attributes": event.attributes,
                "body": event.body,
                "received_at": received_at,
            }
            for event in batch
        ],
    )


def load_log_events(
    conn: sa.Connection, project: str, trace_ids: Collection[str]
) -> list[LogEvent]:
    if not trace_ids:
        return []
    query = (
        sa.select(log_events)
        .where(log_events.c.project == project, log_events.c.trace_id.in_(list(trace_ids)))
        .order_by(log_events.c.at, log_events.c.log_event_id)
    )
    return [
        LogEvent(
            project=row["project"],
            trace_id=row["trace_id"],
            span_id=row["span_id"],
            name=row["name"],
            at=row["at"],
            attributes=row["attributes"],
            body=row["body"],
        )
        for row in conn.execute(query).mappings()
    ]


def _fingerprint(event: LogEvent) -> str:
    content = orjson.dumps(
        [event.name, event.at.isoformat(), event.attributes, event.body],
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.blake2b(content, digest_size=16).hexdigest()
