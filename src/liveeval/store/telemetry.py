"""Raw spans and GenAI log events, kept as received so traces can be shown and re-read."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime

import orjson
import sqlalchemy as sa

from liveeval.model import LogEvent, Span, StoredSpan
from liveeval.store.dialect import (
    bulk_insert,
    db_json,
    db_time,
    insert_ignoring_duplicates,
    sqlite_time,
    string_widths,
)
from liveeval.store.schema import log_events, spans
from liveeval.store.span_payloads import compress_payload, expand_payload

SPAN_KEY = ("project", "trace_id", "span_id")


# Free-form strings from the sender, cut to their columns (PostgreSQL refuses longer ones).
SPAN_TYPE_WIDTH, SCOPE_WIDTH = string_widths(spans, ("span_type", "scope"))
(EVENT_NAME_WIDTH,) = string_widths(log_events, ("name",))

SPAN_COLUMNS = (
    "project",
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "span_type",
    "start_at",
    "end_at",
    "status_code",
    "status_message",
    "payload",
    "resource",
    "scope",
    "received_at",
)


def insert_spans(
    conn: sa.Connection,
    batch: Sequence[Span],
    types: Sequence[str | None],
    received_at: datetime,
) -> None:
    """Store spans; a span already stored (a retried export) is left as it was."""
    time = db_time(conn)
    received = time(received_at)
    resources: dict[int, str] = {}  # spans of one resource share its dict: encode it once
    rows = []
    for span, span_type in zip(batch, types, strict=True):
        resource = resources.get(id(span.resource))
        if resource is None:
            resource = resources[id(span.resource)] = db_json(span.resource)
        rows.append(
            (
                span.project,
                span.trace_id,
                span.span_id,
                span.parent_span_id,
                span.name,
                span.kind,
                span_type[:SPAN_TYPE_WIDTH] if span_type else None,
                time(span.start_at),
                time(span.end_at),
                span.status_code,
                span.status_message,
                compress_payload(span.protobuf),
                resource,
                span.scope[:SCOPE_WIDTH] if span.scope else None,
                received,
            )
        )
    bulk_insert(conn, spans, SPAN_COLUMNS, rows, SPAN_KEY)


def register_traces(
    conn: sa.Connection, project: str, trace_ids: Collection[str], seen_at: datetime
) -> set[str]:
    """Record these traces as seen; return those that had been seen before (earlier pieces)."""
    ids = sorted(trace_ids)
    new: set[str] = set()
    for start in range(0, len(ids), 4000):
        chunk = ids[start : start + 4000]
        if conn.dialect.name == "postgresql":
            result = conn.exec_driver_sql(
                "INSERT INTO traces (project, trace_id, first_seen_at) "
                "SELECT %s, unnest(%s::text[]), %s "
                "ON CONFLICT (project, trace_id) DO NOTHING RETURNING trace_id",
                (project, chunk, seen_at),
            )
        else:
            result = conn.exec_driver_sql(
                "INSERT INTO traces (project, trace_id, first_seen_at) VALUES "
                + ", ".join("(?, ?, ?)" for _ in chunk)
                + " ON CONFLICT (project, trace_id) DO NOTHING RETURNING trace_id",
                tuple(v for trace_id in chunk for v in (project, trace_id, sqlite_time(seen_at))),
            )
        new.update(row[0] for row in result)
    return set(ids) - new


def load_stored_spans(
    conn: sa.Connection, project: str, trace_ids: Collection[str]
) -> list[StoredSpan]:
    """The spans of these traces as stored, oldest first; `ingest.otlp.decode_span` reads one."""
    if not trace_ids:
        return []
    query = (
        sa.select(spans.c.project, spans.c.payload, spans.c.resource, spans.c.scope)
        .where(spans.c.project == project, spans.c.trace_id.in_(list(trace_ids)))
        .order_by(spans.c.start_at, spans.c.span_pk)
    )
    return [
        StoredSpan(
            project=row[0], payload=expand_payload(bytes(row[1])), resource=row[2], scope=row[3]
        )
        for row in conn.execute(query)
    ]


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
                "name": event.name[:EVENT_NAME_WIDTH],
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
