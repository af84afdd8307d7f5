"""Writing decoded telemetry: raw spans and events, the interactions they make, late signals.

A trace's spans may arrive over several exports (a batch exporter sends each span
when it ends), and GenAI log events arrive on their own endpoint. So for every
trace touched by a write, interactions are re-assembled from everything stored
for that trace, and written as upserts: the result does not depend on the order
in which the pieces came. Everything happens in one transaction, committed
before the caller acknowledges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from liveeval.ingest.assemble import AssemblyRules, assemble, span_type
from liveeval.model import LogEvent, Span
from liveeval.store.database import Store
from liveeval.store.interactions import upsert_interactions
from liveeval.store.signals import attach_pending
from liveeval.store.telemetry import (
    insert_log_events,
    insert_spans,
    load_log_events,
    load_spans,
    traces_with_spans,
)

R = TypeVar("R", Span, LogEvent)


@dataclass(frozen=True, slots=True)
class Written:
    spans: int = 0
    log_events: int = 0
    interactions: int = 0
    signals_attached: int = 0


def write_spans(
    store: Store, batch: Sequence[Span], rules: AssemblyRules, now: datetime
) -> Written:
    totals = Written()
    with store.writing() as conn:
        for project, spans in _by_project(batch).items():
            totals = _sum(totals, _write_project_spans(conn, project, spans, rules, now))
    return totals


def write_log_events(
    store: Store, batch: Sequence[LogEvent], rules: AssemblyRules, now: datetime
) -> Written:
    totals = Written(log_events=len(batch))
    with store.writing() as conn:
        for project, events in _by_project(batch).items():
            insert_log_events(conn, events, now)
            traces = traces_with_spans(conn, project, {e.trace_id for e in events})
            totals = _sum(totals, _reassemble(conn, project, traces, [], rules, now))
    return totals


def _write_project_spans(
    conn: sa.Connection, project: str, spans: list[Span], rules: AssemblyRules, now: datetime
) -> Written:
    trace_ids = {span.trace_id for span in spans}
    earlier = traces_with_spans(conn, project, trace_ids)
    insert_spans(conn, spans, [span_type(span) for span in spans], now)
    fresh = [span for span in spans if span.trace_id not in earlier]
    written = _reassemble(conn, project, earlier, fresh, rules, now)
    return _sum(written, Written(spans=len(spans)))


def _reassemble(
    conn: sa.Connection,
    project: str,
    stored_traces: set[str],
    fresh_spans: list[Span],
    rules: AssemblyRules,
    now: datetime,
) -> Written:
    """Interactions of `stored_traces` (read back whole) and of `fresh_spans` (new traces)."""
    spans = load_spans(conn, project, stored_traces) + fresh_spans
    if not spans:
        return Written()
    trace_ids = {span.trace_id for span in spans}
    events = load_log_events(conn, project, trace_ids)
    interactions = assemble(spans, events, rules)
    upsert_interactions(conn, interactions, now)
    response_ids = {i.response_id for i in interactions if i.response_id}
    attached = attach_pending(conn, project, trace_ids, response_ids) if interactions else 0
    return Written(interactions=len(interactions), signals_attached=attached)


def _by_project(records: Sequence[R]) -> dict[str, list[R]]:
    grouped: dict[str, list[R]] = defaultdict(list)
    for record in records:
        grouped[record.project].append(record)
    return grouped


def _sum(a: Written, b: Written) -> Written:
    return Written(
        a.spans + b.spans,
        a.log_events + b.log_events,
        a.interactions + b.interactions,
        a.signals_attached + b.signals_attached,
    )
